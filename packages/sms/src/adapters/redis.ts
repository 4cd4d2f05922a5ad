import { createHash, randomUUID } from 'node:crypto';
import { SmsError, SmsErrorCode } from '../errors.js';
import { statusRank } from '../status.js';
import { assertUpdate } from '../stores/memory.js';
import type {
  SmsIdempotencyRecord,
  SmsIdempotencyReservation,
  SmsIdempotencyStore,
  SmsSendResult,
  SmsStatus,
  SmsStatusRecord,
  SmsStatusRecordResult,
  SmsStatusStore,
} from '../types.js';

/** The few commands the Redis stores use: any ioredis 5 client (or Cluster) fits. */
export interface SmsRedisClient {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  evalsha(sha: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
  hgetall(key: string): Promise<Record<string, string>>;
}

/** Options of {@link redisSmsStatusStore}. */
export interface RedisSmsStatusStoreOptions {
  /** Your Redis client. The store never closes it. */
  client: SmsRedisClient;
  /** Prefix of every key the store writes (`<prefix>status:<messageId>`). @default 'sms:' */
  keyPrefix?: string;
  /** How long a message's status is kept after its last update, in ms. @default 604800000 (7 days) */
  ttlMs?: number;
}

/** Options of {@link redisSmsIdempotencyStore}. */
export interface RedisSmsIdempotencyStoreOptions {
  /** Your Redis client. The store never closes it. */
  client: SmsRedisClient;
  /** Prefix of every key the store writes (`<prefix>idem:<key>`). @default 'sms:' */
  keyPrefix?: string;
}

// A status only moves forward: compare ranks and write in one step.
const RECORD_STATUS = `
local current = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
if current >= tonumber(ARGV[1]) then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('HSET', KEYS[1], 'rank', ARGV[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, redis.call('HGETALL', KEYS[1])}
`;

// SET NX PX reserves the key; otherwise answer what is there, in the same atomic step.
const RESERVE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return false
end
return redis.call('GET', KEYS[1])
`;

// Only the caller holding the reservation may complete or free it.
const COMPLETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/**
 * A delivery status store on Redis: one hash per message (`<prefix>status:<id>`), updated by a Lua script
 * so concurrent callbacks never move a status back, expiring `ttlMs` after the last update.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * const statusStore = redisSmsStatusStore({ client: new Redis(), keyPrefix: 'myapp:sms:' });
 * const sms = createSmsService({ providers, statusStore });
 * ```
 */
export function redisSmsStatusStore(options: RedisSmsStatusStoreOptions): SmsStatusStore {
  const client = checkClient(options?.client);
  const prefix = options.keyPrefix ?? 'sms:';
  const ttlMs = options.ttlMs ?? 604_800_000;
  const key = (id: string) => `${prefix}status:${id}`;

  return {
    async get(id) {
      const hash = await client.hgetall(key(id));
      return hash.status === undefined ? undefined : toRecord(id, hash);
    },
    async record(update): Promise<SmsStatusRecordResult> {
      assertUpdate(update);
      const fields: string[] = ['status', update.status, 'updatedAt', String(update.at ?? Date.now())];
      if (update.provider !== undefined) fields.push('provider', update.provider);
      if (update.to !== undefined) fields.push('to', update.to);
      if (update.errorCode !== undefined) fields.push('errorCode', update.errorCode);
      const reply = (await runScript(
        client,
        RECORD_STATUS,
        [key(update.id)],
        [statusRank(update.status), ttlMs, ...fields],
      )) as [number, string[]];
      return { applied: reply[0] === 1, record: toRecord(update.id, pairs(reply[1])) };
    },
    async close() {},
  };
}

/**
 * An idempotency store on Redis: `SET NX PX` reserves a key atomically across every process, the result
 * replaces the reservation when the send succeeds, and a failed send frees it.
 *
 * @example
 * ```ts
 * const sms = createSmsService({ providers, idempotencyStore: redisSmsIdempotencyStore({ client: redis }) });
 * await sms.send(to, body, { idempotencyKey: `otp:${challengeId}` });
 * ```
 */
export function redisSmsIdempotencyStore(options: RedisSmsIdempotencyStoreOptions): SmsIdempotencyStore {
  const client = checkClient(options?.client);
  const prefix = options.keyPrefix ?? 'sms:';
  const key = (k: string) => `${prefix}idem:${k}`;
  const pending = (token: string) => {
    const fingerprint = token.slice(token.indexOf('.') + 1);
    return JSON.stringify({ s: 'pending', t: token, f: fingerprint });
  };

  return {
    async reserve(k, fingerprint, ttlMs): Promise<SmsIdempotencyReservation> {
      const token = `${randomUUID()}.${fingerprint}`;
      const existing = await runScript(
        client,
        RESERVE,
        [key(k)],
        [pending(token), Math.max(1, Math.ceil(ttlMs))],
      );
      if (existing === null || existing === undefined) return { acquired: true, token };
      return { acquired: false, existing: parseRecord(String(existing)) };
    },
    async complete(k, token, result: SmsSendResult, ttlMs) {
      const done = JSON.stringify({ s: 'done', f: token.slice(token.indexOf('.') + 1), r: result });
      await runScript(client, COMPLETE, [key(k)], [pending(token), done, Math.max(1, Math.ceil(ttlMs))]);
    },
    async release(k, token) {
      await runScript(client, RELEASE, [key(k)], [pending(token)]);
    },
    async close() {},
  };
}

function parseRecord(raw: string): SmsIdempotencyRecord {
  const value = JSON.parse(raw) as { s: string; f: string; r?: SmsSendResult };
  if (value.s === 'done' && value.r) return { state: 'done', fingerprint: value.f, result: value.r };
  return { state: 'pending', fingerprint: value.f };
}

function toRecord(id: string, hash: Record<string, string>): SmsStatusRecord {
  const record: SmsStatusRecord = {
    id,
    status: hash.status as SmsStatus,
    updatedAt: Number(hash.updatedAt),
  };
  if (hash.provider !== undefined) record.provider = hash.provider;
  if (hash.to !== undefined) record.to = hash.to;
  if (hash.errorCode !== undefined) record.errorCode = hash.errorCode;
  return record;
}

function pairs(flat: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i] as string] = flat[i + 1] as string;
  return out;
}

function checkClient(client: SmsRedisClient | undefined): SmsRedisClient {
  if (!client || typeof client.eval !== 'function' || typeof client.evalsha !== 'function') {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'a Redis client (ioredis) is required');
  }
  return client;
}

const shas = new Map<string, string>();

// EVALSHA first (the script body is not sent each time); EVAL loads it on a NOSCRIPT miss.
async function runScript(
  client: SmsRedisClient,
  script: string,
  keys: string[],
  args: Array<string | number>,
): Promise<unknown> {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  try {
    return await client.evalsha(sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!String((error as Error)?.message).includes('NOSCRIPT')) throw error;
    return client.eval(script, keys.length, ...keys, ...args);
  }
}
