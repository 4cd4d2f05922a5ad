import { type RedisStatusStoreOptions, redisIdempotencyStore, redisStatusStore } from '@app/delivery/redis';
import type { EmailStatusStore } from '../types.js';

export type {
  DeliveryRedisClient,
  RedisIdempotencyStoreOptions,
  RedisStatusStoreOptions,
} from '@app/delivery/redis';
export { redisIdempotencyStore, redisStatusStore } from '@app/delivery/redis';

/** The part of an ioredis client (5 or 6, `Redis` or `Cluster`) these stores use. */
export type EmailRedisClient = RedisStatusStoreOptions['client'];

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

/** Options of {@link redisEmailStatusStore}: `@app/delivery`'s, with the key prefix `email:` by default. */
export interface RedisEmailStatusStoreOptions extends RedisStatusStoreOptions {}

/**
 * `@app/delivery`'s Redis status store (`redisStatusStore`) with `@app/email`'s default key prefix
 * (`email:`). Per message: a hash, a list of events and a set of seen event ids under one hash tag
 * (`email:{<messageId>}:...`), so it works on Redis Cluster with no setting.
 *
 * @deprecated Use `redisStatusStore({ client, keyPrefix: 'email:' })`.
 * @example
 * ```ts
 * import { redisEmailStatusStore } from '@app/email/redis';
 * const email = createEmailService({ providers, statusStore: redisEmailStatusStore({ client: redis }) });
 * ```
 */
export function redisEmailStatusStore(options: RedisEmailStatusStoreOptions): EmailStatusStore {
  return redisStatusStore({ ...options, keyPrefix: options?.keyPrefix ?? 'email:' });
}
