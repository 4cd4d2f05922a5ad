import { closeable, defineScript, runScript, type ScriptClient } from '@app/core';
import { redisIdempotencyStore } from '@app/delivery/redis';
import { EmailError, EmailErrorCode } from '../errors.js';
import { STATUS_PRECEDENCE } from '../status.js';
import type { DeliveryEvent, EmailStatusStore, StatusRecord } from '../types.js';

/** The part of an ioredis client (5 or 6, `Redis` or `Cluster`) these stores use: EVALSHA and EVAL. */
export type EmailRedisClient = ScriptClient;

/** Options shared by the Redis stores. */
export interface RedisEmailStoreOptions {
  /** Your ioredis client. The stores never close it. */
  client: EmailRedisClient;
  /** Prefix of every key. @default 'email:' */
  keyPrefix?: string;
}

function check(options: RedisEmailStoreOptions, what: string): void {
  if (typeof options?.client?.eval !== 'function' || typeof options.client.evalsha !== 'function') {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      `[${what}] missing required option 'client' (an ioredis client)`,
    );
  }
}

export type { RedisIdempotencyStoreOptions } from '@app/delivery/redis';
export { redisIdempotencyStore } from '@app/delivery/redis';

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

/** Options of {@link redisEmailStatusStore}. */
export interface RedisEmailStatusStoreOptions extends RedisEmailStoreOptions {
  /** How long a message's status is kept after its last event, in ms. @default 2592000000 (30 days) */
  ttlMs?: number;
  /** Most events kept per message (the oldest are trimmed). @default 100 */
  maxEvents?: number;
}

// Dedupe by event id, append the event, and replace the status only by one of equal or higher precedence:
// all in one step, so concurrent webhook deliveries cannot interleave.
const RECORD = defineScript(
  `
if redis.call('SADD', KEYS[3], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[6])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[8]), -1)
local rank = redis.call('HGET', KEYS[1], 'rank')
if (not rank) or tonumber(ARGV[3]) >= tonumber(rank) then
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'rank', ARGV[3], 'provider', ARGV[4], 'updatedAt', ARGV[5])
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[7]) end
return 1`,
  3,
);
const GET = defineScript(`return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1)}`, 2);

/**
 * A status store on Redis. Per message: a hash (status, precedence, provider, updatedAt), a list of events
 * and a set of seen event ids, under one hash tag (`<keyPrefix>{<messageId>}:...`) so it works on Cluster.
 *
 * @example
 * ```ts
 * import { redisEmailStatusStore } from '@app/email/redis';
 * const statusStore = redisEmailStatusStore({ client: redis });
 * const email = createEmailService({ providers, statusStore });
 * ```
 */
export function redisEmailStatusStore(options: RedisEmailStatusStoreOptions): EmailStatusStore {
  check(options, 'redisEmailStatusStore');
  const { client } = options;
  const prefix = options.keyPrefix ?? 'email:';
  const ttl = options.ttlMs ?? 30 * 24 * 3600 * 1000;
  const maxEvents = options.maxEvents ?? 100;
  const keys = (id: string) => [
    `${prefix}{${id}}:status`,
    `${prefix}{${id}}:events`,
    `${prefix}{${id}}:seen`,
  ];
  return closeable({
    async record(event: DeliveryEvent): Promise<boolean> {
      const json = JSON.stringify({ ...event, timestamp: event.timestamp.toISOString() });
      const result = await runScript(client, RECORD, keys(event.messageId), [
        event.id,
        event.status,
        STATUS_PRECEDENCE[event.status],
        event.provider,
        event.timestamp.getTime(),
        json,
        ttl,
        maxEvents,
      ]);
      return Number(result) === 1;
    },
    async get(messageId: string): Promise<StatusRecord | undefined> {
      const [flat, list] = (await runScript(client, GET, keys(messageId).slice(0, 2))) as [
        string[],
        string[],
      ];
      if (!flat || flat.length === 0) return undefined;
      const hash: Record<string, string> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i] as string] = flat[i + 1] as string;
      return {
        messageId,
        status: hash.status as StatusRecord['status'],
        provider: hash.provider ?? '',
        updatedAt: new Date(Number(hash.updatedAt)),
        events: list.map((s) => {
          const e = JSON.parse(s) as Omit<DeliveryEvent, 'timestamp'> & { timestamp: string };
          return { ...e, timestamp: new Date(e.timestamp) };
        }),
      };
    },
  });
}
