export type { RedisClientLike, RedisSubscriberLike } from './client.js';
export type { RedisConfigStoreOptions } from './store.js';
export { redisConfigStore } from './store.js';
export type { RedisConfigSyncOptions } from './sync.js';
export { redisCacheKey, redisChangeChannel, redisConfigSync } from './sync.js';
