import { type RedisStatusStoreOptions, redisIdempotencyStore, redisStatusStore } from '@app/delivery/redis';
import type { SmsStatusStore } from '../types.js';

export type {
  DeliveryRedisClient,
  RedisIdempotencyStoreOptions,
  RedisStatusStoreOptions,
} from '@app/delivery/redis';
export { redisIdempotencyStore, redisStatusStore } from '@app/delivery/redis';

/** The part of an ioredis client (5 or 6, `Redis` or `Cluster`) the Redis stores use. */
export type SmsRedisClient = RedisStatusStoreOptions['client'];

/**
 * The shared Redis idempotency store of `@app/delivery/redis`, under its former `@app/sms` name.
 *
 * @deprecated Use `redisIdempotencyStore` (the same function).
 * @example
 * ```ts
 * const sms = createSmsService({ providers, idempotency: { store: redisSmsIdempotencyStore({ client: redis }) } });
 * ```
 */
export const redisSmsIdempotencyStore = redisIdempotencyStore;

/** Options of {@link redisSmsStatusStore}: `@app/delivery`'s, with `@app/sms`'s defaults. */
export interface RedisSmsStatusStoreOptions extends RedisStatusStoreOptions {}

/**
 * `@app/delivery`'s Redis status store (`redisStatusStore`) with `@app/sms`'s defaults: key prefix `sms:`,
 * kept 7 days after the last update. One hash tag per message (`sms:{<id>}:...`): works on Redis Cluster.
 *
 * @deprecated Use `redisStatusStore({ client, keyPrefix: 'sms:', ttlMs: 604800000 })`.
 * @example
 * ```ts
 * const sms = createSmsService({ providers, statusStore: redisSmsStatusStore({ client: redis }) });
 * ```
 */
export function redisSmsStatusStore(options: RedisSmsStatusStoreOptions): SmsStatusStore {
  return redisStatusStore({
    ...options,
    keyPrefix: options?.keyPrefix ?? 'sms:',
    ttlMs: options?.ttlMs ?? 604_800_000,
  });
}
