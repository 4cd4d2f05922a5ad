import { randomUUID } from 'node:crypto';
import { EmailError, EmailErrorCode } from '../errors.js';
import { STATUS_PRECEDENCE } from '../status.js';
import type {
  DeliveryEvent,
  EmailIdempotencyBegin,
  EmailIdempotencyStore,
  EmailStatusStore,
  StatusRecord,
} from '../types.js';

/** The part of an ioredis client (5 or 6) these stores use. */
export interface EmailRedisClient {
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/** Options shared by the Redis stores. */
export interface RedisEmailStoreOptions {
  /** Your ioredis client. The stores never close it. */
  client: EmailRedisClient;
  /** Prefix of every key. @default 'email:' */
  keyPrefix?: string;
}

function check(options: RedisEmailStoreOptions, what: string): void {
  if (typeof options?.client?.eval !== 'function') {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      `[${what}] missing required option 'client' (an ioredis client)`,
    );
  }
}

// One atomic step: claim with SET NX PX, or report what holds the key.
const BEGIN = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1} end
return {0, redis.call('GET', KEYS[1])}`;
const COMPLETE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * An idempotency store on Redis: `begin` is one `SET key NX PX` (so among concurrent callers in any number
 * of processes exactly one sends), and completion/release only touch the key while the caller's token
 * still holds it. Keys are `<keyPrefix>idem:<key>`.
 *
 * @example
 * ```ts
 * import { redisEmailIdempotencyStore } from '@app/email/redis';
 * const email = createEmailService({ providers, idempotency: { store: redisEmailIdempotencyStore({ client: redis }) } });
 * await email.send(message, { idempotencyKey: `welcome:${user.id}` });
 * ```
 */
export function redisEmailIdempotencyStore(options: RedisEmailStoreOptions): EmailIdempotencyStore {
  check(options, 'redisEmailIdempotencyStore');
  const { client } = options;
  const key = (k: string) => `${options.keyPrefix ?? 'email:'}idem:${k}`;
  return {
    async begin(k, lockMs): Promise<EmailIdempotencyBegin> {
      const token = randomUUID();
      const [acquired, current] = (await client.eval(
        BEGIN,
        1,
        key(k),
        `p:${token}`,
        Math.max(1, Math.ceil(lockMs)),
      )) as [number, string | null];
      if (acquired === 1) return { state: 'acquired', token };
      if (typeof current === 'string' && current.startsWith('d:'))
        return { state: 'done', value: current.slice(2) };
      return { state: 'pending' };
    },
    async complete(k, token, value, ttlMs) {
      await client.eval(COMPLETE, 1, key(k), `p:${token}`, `d:${value}`, Math.max(1, Math.ceil(ttlMs)));
    },
    async release(k, token) {
      await client.eval(RELEASE, 1, key(k), `p:${token}`);
    },
    async close() {},
  };
}

/** Options of {@link redisEmailStatusStore}. */
export interface RedisEmailStatusStoreOptions extends RedisEmailStoreOptions {
  /** How long a message's status is kept after its last event, in ms. @default 2592000000 (30 days) */
  ttlMs?: number;
  /** Most events kept per message (the oldest are trimmed). @default 100 */
  maxEvents?: number;
}

// Dedupe by event id, append the event, and replace the status only by one of equal or higher precedence:
// all in one step, so concurrent webhook deliveries cannot interleave.
const RECORD = `
if redis.call('SADD', KEYS[3], ARGV[1]) == 0 then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[6])
redis.call('LTRIM', KEYS[2], -tonumber(ARGV[8]), -1)
local rank = redis.call('HGET', KEYS[1], 'rank')
if (not rank) or tonumber(ARGV[3]) >= tonumber(rank) then
  redis.call('HSET', KEYS[1], 'status', ARGV[2], 'rank', ARGV[3], 'provider', ARGV[4], 'updatedAt', ARGV[5])
end
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[7]) end
return 1`;
const GET = `return {redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1)}`;

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
  return {
    async record(event: DeliveryEvent): Promise<boolean> {
      const json = JSON.stringify({ ...event, timestamp: event.timestamp.toISOString() });
      const result = await client.eval(
        RECORD,
        3,
        ...keys(event.messageId),
        event.id,
        event.status,
        STATUS_PRECEDENCE[event.status],
        event.provider,
        event.timestamp.getTime(),
        json,
        ttl,
        maxEvents,
      );
      return Number(result) === 1;
    },
    async get(messageId: string): Promise<StatusRecord | undefined> {
      const [status, events] = keys(messageId);
      const [flat, list] = (await client.eval(GET, 2, status as string, events as string)) as [
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
    async close() {},
  };
}
