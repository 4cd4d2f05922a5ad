import { randomUUID } from 'node:crypto';
import { closeable, defineScript, runScript, type ScriptClient } from '@app/core';
import { DeliveryError, DeliveryErrorCode } from '../errors.js';
import type { IdempotencyReservation, IdempotencyStore } from '../idempotency.js';

/** The part of an ioredis client (5 or 6, `Redis` or `Cluster`) the Redis store uses. */
export type DeliveryRedisClient = ScriptClient;

/** Options of {@link redisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions {
  /** Your ioredis client (or Cluster). The store never closes it. */
  client: DeliveryRedisClient;
  /** Prefix of every key the store writes: `<keyPrefix>{<key>}`. @default 'delivery:idem:' */
  keyPrefix?: string;
}

// One hash per key: t = the holder's token (while pending), f = fingerprint, r = the result (JSON, once done).
// Reserve: claim a free key, or answer what holds it, in one atomic step.
const RESERVE = defineScript(
  `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 't', ARGV[1], 'f', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1}
end
local r = redis.call('HGET', KEYS[1], 'r')
if not r then r = '' end
return {0, redis.call('HGET', KEYS[1], 'f') or '', r}`,
  1,
);
// Only the holder's token completes or frees a key.
const COMPLETE = defineScript(
  `
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 't')
  redis.call('HSET', KEYS[1], 'r', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0`,
  1,
);
const RELEASE = defineScript(
  `
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
  1,
);

const ms = (n: number) => Math.max(1, Math.ceil(n));

/**
 * An idempotency store on Redis: one hash per key, reserved by a Lua script (claim when free, else answer
 * the holder's fingerprint and result) so that among concurrent callers in any number of processes exactly
 * one acquires a key; completion and release only touch the key while the caller's token still holds it.
 * Scripts run by EVALSHA (core's `runScript`). Each key is its own hash tag (`<keyPrefix>{<key>}`), so the
 * store works unchanged on Redis Cluster.
 *
 * @example
 * ```ts
 * import { redisIdempotencyStore } from '@app/delivery/redis';
 * const store = redisIdempotencyStore({ client: redis, keyPrefix: 'myapp:idem:' });
 * const email = createEmailService({ providers, idempotency: { store } });
 * ```
 */
export function redisIdempotencyStore(options: RedisIdempotencyStoreOptions): IdempotencyStore {
  const client = options?.client;
  if (typeof client?.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      "[redisIdempotencyStore] missing required option 'client' (an ioredis client)",
    );
  }
  const prefix = options.keyPrefix ?? 'delivery:idem:';
  const redisKey = (key: string) => [`${prefix}{${key}}`];

  return closeable({
    async reserve(key: string, fingerprint: string, lockMs: number): Promise<IdempotencyReservation> {
      const token = randomUUID();
      const reply = (await runScript(client, RESERVE, redisKey(key), [token, fingerprint, ms(lockMs)])) as [
        number,
        string?,
        string?,
      ];
      if (Number(reply[0]) === 1) return { acquired: true, token };
      const [, held = '', result = ''] = reply;
      return {
        acquired: false,
        existing:
          result === ''
            ? { state: 'pending', fingerprint: held }
            : { state: 'done', fingerprint: held, result: JSON.parse(result) as unknown },
      };
    },
    async complete(key: string, token: string, result: unknown, ttlMs: number) {
      await runScript(client, COMPLETE, redisKey(key), [token, JSON.stringify(result ?? null), ms(ttlMs)]);
    },
    async release(key: string, token: string) {
      await runScript(client, RELEASE, redisKey(key), [token]);
    },
  });
}
