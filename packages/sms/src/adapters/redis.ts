import { redisIdempotencyStore, redisStatusStore } from '@app/delivery/redis';

export * from '@app/delivery/redis';

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

/**
 * `@app/delivery`'s Redis status store, under its former `@app/sms` name. Its defaults are now the shared
 * ones: key prefix `delivery:status:` (was `sms:`) and 30 days (was 7): pass `{ keyPrefix: 'sms:',
 * ttlMs: 604800000 }` to keep the old ones.
 *
 * @deprecated Use `redisStatusStore` (the same function).
 * @example
 * ```ts
 * const sms = createSmsService({ providers, statusStore: redisSmsStatusStore({ client: redis, keyPrefix: 'sms:' }) });
 * ```
 */
export const redisSmsStatusStore = redisStatusStore;

/** The part of an ioredis client (5 or 6, `Redis` or `Cluster`) the Redis stores use. */
export type SmsRedisClient = import('@app/delivery/redis').DeliveryRedisClient;
