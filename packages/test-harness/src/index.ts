export type { PostgresHarness, RequirePostgresOptions } from './postgres.js';
export { requirePostgres } from './postgres.js';
export type { RedisHarness } from './redis.js';
export { requireRedis } from './redis.js';
export type { RedisServer } from './redis-server.js';
export { freePort, startRedisServer } from './redis-server.js';
export { serviceUnavailable } from './service.js';
