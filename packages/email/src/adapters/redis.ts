import { redisIdempotencyStore, redisStatusStore } from '@app/delivery/redis';

export * from '@app/delivery/redis';

/** The part of an ioredis client (5 or 6, `Redis` or `Cluster`) these stores use. */
export type EmailRedisClient = import('@app/delivery/redis').DeliveryRedisClient;

/**
 * The shared Redis idempotency store of `@app/delivery/redis`, under its former `@app/email` name.
 *
 * @deprecated Use `redisIdempotencyStore` (the same function).
 * @example
 * ```ts
 * const email = createEmailService({ providers, idempotency: { store: redisEmailIdempotencyStore({ client: redis }) } });
 * ```
 */
export const redisEmailIdempotencyStore = redisIdempotencyStore;

/**
 * `@app/delivery`'s Redis status store, under its former `@app/email` name. Its default key prefix is now
 * `delivery:status:` (it was `email:`): pass `keyPrefix: 'email:'` to keep yours apart from SMS statuses.
 *
 * @deprecated Use `redisStatusStore` (the same function).
 * @example
 * ```ts
 * const email = createEmailService({ providers, statusStore: redisEmailStatusStore({ client: redis, keyPrefix: 'email:' }) });
 * ```
 */
export const redisEmailStatusStore = redisStatusStore;
