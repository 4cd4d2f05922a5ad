export type { RedisClientLike, RedisSubscriberLike } from './client.js';
export { redisEntryKey, redisIndexKey } from './layout.js';
export type { RedisConfigStoreOptions } from './store.js';
export { redisConfigStore } from './store.js';
export type { RedisConfigSyncOptions } from './sync.js';
export { redisCacheKey, redisChangeChannel, redisChangeChannels, redisConfigSync } from './sync.js';
