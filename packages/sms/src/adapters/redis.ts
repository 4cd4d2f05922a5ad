import { closeable, defineScript, runScript } from '@app/core';
import { redisIdempotencyStore } from '@app/delivery/redis';
import { SmsError, SmsErrorCode } from '../errors.js';
import { assertUpdate, statusRank } from '../status.js';
import type { SmsStatusRecord, SmsStatusRecordResult, SmsStatusStore, SmsStatusUpdate } from '../types.js';

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

export type { RedisIdempotencyStoreOptions } from '@app/delivery/redis';
export { redisIdempotencyStore } from '@app/delivery/redis';

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

// A status only moves forward: compare ranks and write in one step.
const RECORD_STATUS = defineScript(
  `
local current = tonumber(redis.call('HGET', KEYS[1], 'rank') or '0')
if current >= tonumber(ARGV[1]) then
  return {0, redis.call('HGETALL', KEYS[1])}
end
redis.call('HSET', KEYS[1], 'rank', ARGV[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, redis.call('HGETALL', KEYS[1])}
`,
  1,
);

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

  return closeable({
    async get(id: string) {
      const hash = await client.hgetall(key(id));
      return hash.status === undefined ? undefined : toRecord(id, hash);
    },
    async record(update: SmsStatusUpdate): Promise<SmsStatusRecordResult> {
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
  });
}

function toRecord(id: string, hash: Record<string, string>): SmsStatusRecord {
  const record: SmsStatusRecord = {
    id,
    status: hash.status as SmsStatusRecord['status'],
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
