import { createHash } from 'node:crypto';
import { type Logger, silentLogger } from '@app/core';
import { ConfigError } from '../errors.js';
import type {
  ConfigEntry,
  ConfigRecord,
  ConfigStore,
  ConfigSync,
  ConfigSyncListener,
  ConfigTombstone,
  JsonValue,
} from '../types.js';

/** The subscriber connection made with `client.duplicate()`: the few ioredis methods used. */
export interface RedisSubscriberLike {
  subscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  disconnect(): void;
}

/** The user's ioredis client (5.x or 6.x), typed by the few methods used. */
export interface RedisClientLike {
  /** ioredis' connection state; commands fail fast unless it is `ready`. */
  readonly status?: string;
  hgetall(key: string): Promise<Record<string, string>>;
  zrangebylex(
    key: string,
    min: string,
    max: string,
    limit: 'LIMIT',
    offset: number,
    count: number,
  ): Promise<string[]>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  evalsha(sha1: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  duplicate(): RedisSubscriberLike;
}

/** Runs a Lua script by its SHA (one round trip), loading it with EVAL when the server does not have it yet. */
class Script {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }
  async run(client: RedisClientLike, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.includes('NOSCRIPT')) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Hash fields of one record: v version, t '1' for a tombstone, d JSON value, x expiresAt ('' for never). */
type RawHash = Record<string, string>;

function toHashArgs(record: ConfigRecord): string[] {
  return record.deleted
    ? ['1', '', '']
    : ['0', JSON.stringify(record.value), record.expiresAt === null ? '' : String(record.expiresAt)];
}

/** Parses a record hash; throws on corrupt data. `undefined` for an empty hash. */
function fromHash(key: string, hash: RawHash): ConfigRecord | undefined {
  if (hash.v === undefined) return undefined;
  const version = Number(hash.v);
  if (!Number.isSafeInteger(version) || version < 0) throw new Error(`bad version ${JSON.stringify(hash.v)}`);
  if (hash.t === '1') return { key, version, deleted: true };
  if (hash.d === undefined) throw new Error('missing value');
  const value = JSON.parse(hash.d) as JsonValue;
  const expiresAt = hash.x ? Number(hash.x) : null;
  if (expiresAt !== null && !Number.isFinite(expiresAt))
    throw new Error(`bad expiresAt ${JSON.stringify(hash.x)}`);
  return { key, value, version, expiresAt, deleted: false };
}

function requireClient(client: unknown, factory: string): asserts client is RedisClientLike {
  if (typeof (client as RedisClientLike | undefined)?.evalsha !== 'function') {
    throw new ConfigError('INVALID_OPTIONS', `${factory}: option 'client' must be an ioredis client`);
  }
}

function checkPrefix(keyPrefix: unknown, factory: string): string {
  if (typeof keyPrefix !== 'string')
    throw new ConfigError('INVALID_OPTIONS', `${factory}: keyPrefix must be a string`);
  return keyPrefix;
}

// ---------------------------------------------------------------------------------------------------------
// redisConfigStore: Redis as the durable store (when it is persisted: AOF/RDB).
// ---------------------------------------------------------------------------------------------------------

/** Options of {@link redisConfigStore}. */
export interface RedisConfigStoreOptions {
  /** Your ioredis client. It stays yours: the store never closes it. */
  client: RedisClientLike;
  /** Prefix of every key the store writes: `<prefix>entry:<key>` hashes and the `<prefix>index` sorted set. @default 'config:' */
  keyPrefix?: string;
}

// KEYS: entry hash, index. ARGV: key, data, expiresAt. The version survives deletes (tombstones).
const STORE_SET = new Script(`
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 't', '0', 'd', ARGV[2], 'x', ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return v
`);

// KEYS: entry hash, index. ARGV: key. Returns the tombstone version, or -1 when nothing was live.
const STORE_DELETE = new Script(`
if redis.call('HGET', KEYS[1], 't') ~= '0' then return -1 end
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 't', '1')
redis.call('HDEL', KEYS[1], 'd', 'x')
redis.call('ZREM', KEYS[2], ARGV[1])
return v
`);

const LIST_PAGE = 500;

/**
 * A {@link ConfigStore} in Redis, for deployments where Redis is persisted and is the source of truth. Each
 * key is a hash (version, value, expiry) written by one Lua script, so versions stay atomic and monotonic;
 * `list` walks a sorted-set index (never KEYS or SCAN).
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisConfigStore } from '@app/config/redis';
 *
 * const store = redisConfigStore({ client: new Redis(), keyPrefix: 'myapp:config:' });
 * ```
 */
export function redisConfigStore(options: RedisConfigStoreOptions): ConfigStore {
  requireClient(options?.client, 'redisConfigStore');
  const { client } = options;
  const prefix = checkPrefix(options.keyPrefix ?? 'config:', 'redisConfigStore');
  const entryKey = (key: string) => `${prefix}entry:${key}`;
  const indexKey = `${prefix}index`;

  const read = async (key: string): Promise<ConfigRecord | undefined> => {
    const hash = await client.hgetall(entryKey(key));
    try {
      return fromHash(key, hash);
    } catch (error) {
      throw new ConfigError('STORE_ERROR', `corrupt entry for '${key}' in Redis`, { cause: error });
    }
  };

  return {
    get: read,
    async set(key, value, setOptions) {
      const expiresAt = setOptions?.expiresAt ?? null;
      const record: ConfigEntry = { key, value, version: 0, expiresAt, deleted: false };
      const [, data, x] = toHashArgs(record);
      const version = Number(
        await STORE_SET.run(client, [entryKey(key), indexKey], [key, data ?? '', x ?? '']),
      );
      return { ...record, value: JSON.parse(data ?? 'null') as JsonValue, version };
    },
    async delete(key) {
      const version = await STORE_DELETE.run(client, [entryKey(key), indexKey], [key]);
      if (Number(version) < 0) return undefined;
      return { key, version: Number(version), deleted: true } satisfies ConfigTombstone;
    },
    async list(listPrefix) {
      const keys: string[] = [];
      // Lexicographic walk from the prefix; members sort by bytes, so the matches are contiguous.
      for (let offset = 0; ; offset += LIST_PAGE) {
        const page = await client.zrangebylex(indexKey, `[${listPrefix}`, '+', 'LIMIT', offset, LIST_PAGE);
        const matching = page.filter((k) => k.startsWith(listPrefix));
        keys.push(...matching);
        if (page.length < LIST_PAGE || matching.length < page.length) break;
      }
      const records = await Promise.all(keys.map(read));
      return records.filter((r): r is ConfigEntry => r !== undefined && !r.deleted);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// redisConfigSync: the shared cache and change notifier in front of a durable store.
// ---------------------------------------------------------------------------------------------------------

/** Options of {@link redisConfigSync}. */
export interface RedisConfigSyncOptions {
  /** Your ioredis client; `client.duplicate()` makes the one subscriber connection per service. Stays yours to close. */
  client: RedisClientLike;
  /** Prefix of the cache keys (`<prefix>cache:<key>`) and of the change channel (`<prefix>changes`). @default 'config:' */
  keyPrefix?: string;
  /** How long a cached record stays in Redis, in ms. @default 300000 */
  cacheTtl?: number;
  /** How long one Redis call may take before the service falls back to the store, in ms. @default 1000 */
  timeout?: number;
  /** Where corrupt cache entries and bad messages are reported. @default silent */
  logger?: Logger;
}

/**
 * The Redis cache key of a config key, e.g. to inspect or evict an entry by hand.
 *
 * @example
 * ```ts
 * await redis.hgetall(redisCacheKey('myapp:config:', 'email.provider')); // { v: '3', t: '0', d: '"ses"', x: '' }
 * ```
 */
export function redisCacheKey(keyPrefix: string, key: string): string {
  return `${keyPrefix}cache:${key}`;
}

/**
 * The one pub/sub channel of a key prefix: writers publish and subscribers listen on this same name.
 *
 * @example
 * ```ts
 * await subscriber.subscribe(redisChangeChannel('myapp:config:')); // messages: {"o","k","v","d"?,"x"?}
 * ```
 */
export function redisChangeChannel(keyPrefix: string): string {
  return `${keyPrefix}changes`;
}

// KEYS: cache hash. ARGV: version, tombstone flag, data, expiresAt, ttl ms, force, channel, message.
// Compare-and-set: a record replaces the cached one only when its version is newer (or equal, when forced to
// repair or re-announce). The PUBLISH happens in the same step, so messages leave in version order.
const SYNC_WRITE = new Script(`
local cur = tonumber(redis.call('HGET', KEYS[1], 'v'))
local v = tonumber(ARGV[1])
local force = ARGV[6] == '1'
local applied = 0
if cur == nil or cur < v or (force and cur == v) then
  redis.call('HSET', KEYS[1], 'v', ARGV[1], 't', ARGV[2], 'd', ARGV[3], 'x', ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  applied = 1
end
if ARGV[8] ~= '' and applied == 1 then
  redis.call('PUBLISH', ARGV[7], ARGV[8])
end
return applied
`);

interface WireMessage {
  /** origin instance */
  o: string;
  k: string;
  v: number;
  /** value; absent for a tombstone */
  d?: JsonValue;
  x?: number | null;
}

function positive(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError('INVALID_OPTIONS', `redisConfigSync: ${name} must be a positive integer`);
  }
  return value;
}

/**
 * Redis as the shared cache and change notifier in front of a durable store: cache entries are
 * version-checked in Lua (an older version never overwrites a newer one), every `set` and `delete` is
 * published on one channel in the same script, and each service listens on one `client.duplicate()`
 * connection. While Redis is unreachable calls fail fast and the service falls back to its cache and store;
 * when the subscriber reconnects, the service flushes its cache.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createConfigService } from '@app/config';
 * import { prismaConfigStore } from '@app/config/prisma';
 * import { redisConfigSync } from '@app/config/redis';
 *
 * const config = createConfigService({
 *   store: prismaConfigStore({ prisma }),
 *   sync: redisConfigSync({ client: new Redis(process.env.REDIS_URL), keyPrefix: 'myapp:config:' }),
 * });
 * ```
 */
export function redisConfigSync(options: RedisConfigSyncOptions): ConfigSync {
  requireClient(options?.client, 'redisConfigSync');
  const { client } = options;
  const prefix = checkPrefix(options.keyPrefix ?? 'config:', 'redisConfigSync');
  const cacheTtl = positive(options.cacheTtl ?? 300_000, 'cacheTtl');
  const timeout = positive(options.timeout ?? 1000, 'timeout');
  const logger = options.logger ?? silentLogger;
  const channel = redisChangeChannel(prefix);
  /** Keys whose cached entry was corrupt: the next fill may overwrite the same version. */
  const corrupt = new Set<string>();

  /** Fails fast while disconnected, so callers fall back at once instead of queueing behind a reconnect. */
  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    // While ioredis waits to reconnect, a command would sit in its offline queue: fail at once instead. A first
    // connection ('connecting', or 'wait' under lazyConnect) is worth waiting for, within the timeout.
    if (client.status === 'reconnecting' || client.status === 'close' || client.status === 'end') {
      throw new ConfigError('UNAVAILABLE', `Redis is ${client.status}`);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new ConfigError('UNAVAILABLE', `Redis ${what} timed out`)),
            timeout,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async read(key) {
      const hash = await call('read', () => client.hgetall(redisCacheKey(prefix, key)));
      try {
        return fromHash(key, hash);
      } catch (error) {
        corrupt.add(key);
        logger.warn({ err: error, key }, '[@app/config] corrupt entry in the Redis cache: treated as a miss');
        return undefined;
      }
    },

    async write(record, { publish, origin, force }) {
      const [t, d, x] = toHashArgs(record);
      let ttl = cacheTtl;
      if (!record.deleted && record.expiresAt !== null)
        ttl = Math.max(1, Math.min(ttl, record.expiresAt - Date.now()));
      let message = '';
      if (publish) {
        const wire: WireMessage = { o: origin, k: record.key, v: record.version };
        if (!record.deleted) {
          wire.d = record.value;
          wire.x = record.expiresAt;
        }
        message = JSON.stringify(wire);
      }
      const repair = force === true || corrupt.has(record.key);
      await call('write', () =>
        SYNC_WRITE.run(
          client,
          [redisCacheKey(prefix, record.key)],
          [record.version, t ?? '', d ?? '', x ?? '', ttl, repair ? '1' : '0', channel, message],
        ),
      );
      corrupt.delete(record.key);
    },

    subscribe(listener: ConfigSyncListener) {
      const sub = client.duplicate();
      let stopped = false;
      sub.on('error', (error) => logger.debug({ err: error }, '[@app/config] Redis subscriber error'));
      sub.on('message', (from, message) => {
        if (from !== channel || stopped) return;
        let wire: WireMessage;
        try {
          wire = JSON.parse(message) as WireMessage;
          if (typeof wire.k !== 'string' || typeof wire.o !== 'string' || !Number.isSafeInteger(wire.v)) {
            throw new Error('not a change message');
          }
        } catch (error) {
          logger.warn({ err: error }, '[@app/config] unreadable change message ignored');
          return;
        }
        const record: ConfigRecord =
          wire.d === undefined
            ? { key: wire.k, version: wire.v, deleted: true }
            : { key: wire.k, version: wire.v, value: wire.d, expiresAt: wire.x ?? null, deleted: false };
        listener.change(record, wire.o);
      });
      // The first 'ready' is the initial connection; every later one is a reconnect, after which messages
      // may have been lost. ioredis re-subscribes by itself; subscribing again is harmless and tells us when
      // messages flow again, which is when the service should flush.
      let readyCount = 0;
      sub.on('ready', () => {
        const reconnect = ++readyCount > 1;
        if (stopped) return;
        sub.subscribe(channel).then(
          () => {
            if (reconnect && !stopped) listener.reset();
          },
          (error: unknown) =>
            logger.warn({ err: error }, '[@app/config] could not subscribe to config changes'),
        );
      });
      sub.subscribe(channel).catch((error: unknown) => {
        logger.warn({ err: error }, '[@app/config] could not subscribe to config changes');
      });
      return () => {
        stopped = true;
        sub.disconnect();
      };
    },
  };
}
