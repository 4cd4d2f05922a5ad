import { randomUUID } from 'node:crypto';
import {
  closeable,
  defineScript,
  type RedisScript,
  runScript,
  type ScriptClient,
  withDeadline,
} from '@app/core';
import { DeliveryError, DeliveryErrorCode } from '../errors.js';
import type { IdempotencyReservation, IdempotencyStore } from '../idempotency.js';
import {
  assertStatusUpdate,
  type DeliveryStatusEvent,
  type DeliveryStatusRecord,
  type DeliveryStatusRecordResult,
  type DeliveryStatusStore,
  type DeliveryStatusUpdate,
  parseDetails,
  statusEventOf,
} from '../status.js';

/**
 * The part of an ioredis client (5 or 6, `Redis` or `Cluster`) the Redis stores use: EVALSHA and EVAL, and
 * ioredis' connection `status` when there is one (a call made while it is `reconnecting` fails at once).
 */
export interface DeliveryRedisClient extends ScriptClient {
  /** ioredis' connection state (`ready`, `reconnecting`, `end`...). @default undefined (always sent) */
  readonly status?: string;
}

/** Options every Redis store takes. */
export interface RedisStoreOptions {
  /** Your ioredis client (or Cluster). The store never closes it. */
  client: DeliveryRedisClient;
  /**
   * How long one Redis call may take, in ms. A call past it, or made while ioredis is reconnecting, fails
   * with `STORE_UNAVAILABLE` (nothing waits behind a reconnect). @default 1000
   */
  timeoutMs?: number;
}

/** Options of {@link redisIdempotencyStore}. */
export interface RedisIdempotencyStoreOptions extends RedisStoreOptions {
  /** Prefix of every key the store writes: `<keyPrefix>{<key>}`. @default 'delivery:idem:' */
  keyPrefix?: string;
}

const DOWN = new Set(['reconnecting', 'close', 'end']);

/** Checks the options and answers a bounded script runner: the one Redis call path of both stores. */
function boundedRunner(options: RedisStoreOptions, what: string) {
  const client = options?.client;
  if (typeof client?.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      `[${what}] missing required option 'client' (an ioredis client)`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 1000;
  if (!(timeoutMs > 0)) {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      `[${what}] timeoutMs must be a positive number`,
    );
  }
  const unavailable = (why: string, cause?: unknown) =>
    new DeliveryError(DeliveryErrorCode.STORE_UNAVAILABLE, `[${what}] Redis is unavailable: ${why}`, {
      cause,
    });
  return (script: RedisScript, keys: readonly string[], args: readonly (string | number)[]) => {
    const status = client.status;
    if (status !== undefined && DOWN.has(status)) return Promise.reject(unavailable(`client is ${status}`));
    const call = runScript(client, script, keys, args).catch((error: unknown) => {
      throw unavailable((error as Error)?.message ?? String(error), error);
    });
    return withDeadline(call, timeoutMs, () => unavailable(`no answer within ${timeoutMs} ms`));
  };
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
 * store works unchanged on Redis Cluster and keys spread over every shard. A call fails with
 * `STORE_UNAVAILABLE` after `timeoutMs` (default 1 s), or at once while ioredis is reconnecting.
 *
 * @example
 * ```ts
 * import { redisIdempotencyStore } from '@app/delivery/redis';
 * const store = redisIdempotencyStore({ client: redis, keyPrefix: 'myapp:idem:' });
 * const email = createEmailService({ providers, idempotency: { store } });
 * ```
 */
export function redisIdempotencyStore(options: RedisIdempotencyStoreOptions): IdempotencyStore {
  const run = boundedRunner(options, 'redisIdempotencyStore');
  const prefix = options.keyPrefix ?? 'delivery:idem:';
  const redisKey = (key: string) => [`${prefix}{${key}}`];

  return closeable({
    async reserve(key: string, fingerprint: string, lockMs: number): Promise<IdempotencyReservation> {
      const token = randomUUID();
      const reply = (await run(RESERVE, redisKey(key), [token, fingerprint, ms(lockMs)])) as [
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
      await run(COMPLETE, redisKey(key), [token, JSON.stringify(result ?? null), ms(ttlMs)]);
    },
    async release(key: string, token: string) {
      await run(RELEASE, redisKey(key), [token]);
    },
  });
}

/** Options of {@link redisStatusStore}. */
export interface RedisStatusStoreOptions extends RedisStoreOptions {
  /** Prefix of every key: `<keyPrefix>{<messageId>}:status|events|seen`. @default 'delivery:status:' */
  keyPrefix?: string;
  /** How long a message's status is kept after its last event, in ms. @default 2592000000 (30 days) */
  ttlMs?: number;
  /** Events kept per message (the oldest are trimmed). @default 100 */
  maxEvents?: number;
}

// Per message, under one hash tag: a hash (s = status, k = rank, u = updatedAt, p = provider, d = details
// JSON), a list of events (JSON) and a set of seen event ids. Dedupe, append, and replace the status only by
// a higher rank (or an equal one with ties = replace): one atomic step, so concurrent webhooks cannot
// interleave. cjson merges the details.
const RECORD_STATUS = defineScript(
  `
local function current()
  return {redis.call('HMGET', KEYS[1], 's', 'k', 'u', 'p', 'd'), redis.call('LRANGE', KEYS[2], 0, -1)}
end
if redis.call('SADD', KEYS[3], ARGV[1]) == 0 then return {0, 0, current()} end
redis.call('RPUSH', KEYS[2], ARGV[8])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[10]), -1)
local rank = redis.call('HGET', KEYS[1], 'k')
local applied = 0
if (not rank) or tonumber(ARGV[3]) > tonumber(rank) or (tonumber(ARGV[3]) == tonumber(rank) and ARGV[5] == 'replace') then
  applied = 1
  local details = cjson.decode(redis.call('HGET', KEYS[1], 'd') or '{}')
  for k, v in pairs(cjson.decode(ARGV[7])) do details[k] = v end
  local encoded = '{}'
  if next(details) ~= nil then encoded = cjson.encode(details) end
  redis.call('HSET', KEYS[1], 's', ARGV[2], 'k', ARGV[3], 'u', ARGV[4], 'd', encoded)
  if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'p', ARGV[6]) end
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[9]) end
return {1, applied, current()}`,
  3,
);
const GET_STATUS = defineScript(
  `return {redis.call('HMGET', KEYS[1], 's', 'k', 'u', 'p', 'd'), redis.call('LRANGE', KEYS[2], 0, -1)}`,
  2,
);

type StoredStatus = [[string | null, string | null, string | null, string | null, string | null], string[]];

function toRecord(messageId: string, [hash, list]: StoredStatus): DeliveryStatusRecord | undefined {
  const [status, rank, updatedAt, provider, details] = hash;
  if (status === null || status === undefined) return undefined;
  const record: DeliveryStatusRecord = {
    messageId,
    status,
    rank: Number(rank),
    updatedAt: Number(updatedAt),
    details: parseDetails(details),
    events: list.map((json) => JSON.parse(json) as DeliveryStatusEvent),
  };
  if (provider !== null && provider !== undefined) record.provider = provider;
  return record;
}

/**
 * A delivery status store on Redis. Per message: a hash (status, rank, provider, updatedAt, details), a list
 * of events and a set of seen event ids, all under the message's own hash tag (`<keyPrefix>{<messageId>}:...`)
 * so one script touches one slot on Redis Cluster, and messages spread over every shard. `record` is one
 * Lua script: dedupe by event id, append, and replace the status only by a higher rank. Every key expires
 * `ttlMs` after the message's last event. Calls fail with `STORE_UNAVAILABLE` after `timeoutMs`.
 *
 * @example
 * ```ts
 * import { redisStatusStore } from '@app/delivery/redis';
 * const statusStore = redisStatusStore({ client: redis, keyPrefix: 'myapp:email:' });
 * const email = createEmailService({ providers, statusStore });
 * ```
 */
export function redisStatusStore(options: RedisStatusStoreOptions): DeliveryStatusStore {
  const run = boundedRunner(options, 'redisStatusStore');
  const prefix = options.keyPrefix ?? 'delivery:status:';
  const ttlMs = options.ttlMs ?? 30 * 24 * 3600 * 1000;
  const maxEvents = options.maxEvents ?? 100;
  const keys = (id: string) => [
    `${prefix}{${id}}:status`,
    `${prefix}{${id}}:events`,
    `${prefix}{${id}}:seen`,
  ];
  return closeable({
    async record(update: DeliveryStatusUpdate): Promise<DeliveryStatusRecordResult> {
      assertStatusUpdate(update);
      const reply = (await run(RECORD_STATUS, keys(update.messageId), [
        update.eventId,
        update.status,
        update.rank,
        update.at,
        update.ties ?? 'keep',
        update.provider ?? '',
        JSON.stringify(update.details ?? {}),
        JSON.stringify(statusEventOf(update)),
        ms(ttlMs),
        maxEvents,
      ])) as [number, number, StoredStatus];
      const record = toRecord(update.messageId, reply[2]);
      if (!record) {
        throw new DeliveryError(
          DeliveryErrorCode.STORE_UNAVAILABLE,
          '[redisStatusStore] the record vanished',
        );
      }
      return { fresh: Number(reply[0]) === 1, applied: Number(reply[1]) === 1, record };
    },
    async get(messageId: string) {
      const reply = (await run(GET_STATUS, keys(messageId).slice(0, 2), [])) as StoredStatus;
      return toRecord(messageId, reply);
    },
  });
}
