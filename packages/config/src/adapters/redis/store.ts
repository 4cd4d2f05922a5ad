import { closeable, defineScript, optionChecks, runScript } from '@app/core';
import { ConfigError } from '../../errors.js';
import type { ConfigEntry, ConfigRecord, ConfigStore, ConfigTombstone, JsonValue } from '../../types.js';
import {
  boundedCalls,
  checkPrefix,
  fromHash,
  type RedisClientLike,
  requireClient,
  toHashArgs,
} from './client.js';

/** Options of {@link redisConfigStore}. */
export interface RedisConfigStoreOptions {
  /** Your ioredis client. It stays yours: the store never closes it. */
  client: RedisClientLike;
  /** Prefix of every key the store writes: `<prefix>entry:<key>` hashes and the `<prefix>index` sorted set. @default 'config:' */
  keyPrefix?: string;
  /**
   * How long one Redis call may take, in ms. A call past it, or sent while ioredis is reconnecting, fails
   * with `ConfigError` `UNAVAILABLE` instead of waiting in ioredis' offline queue; the service then serves
   * a stale cached value when it has one. @default 1000
   */
  commandTimeoutMs?: number;
}

const check = optionChecks((message) => new ConfigError('INVALID_OPTIONS', `redisConfigStore: ${message}`));

// KEYS: entry hash, index. ARGV: key, data, expiresAt. The version survives deletes (tombstones).
const STORE_SET = defineScript(
  `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 't', '0', 'd', ARGV[2], 'x', ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return v
`,
  2,
);

// KEYS: entry hash, index. ARGV: key. Returns the tombstone version, or -1 when nothing was live.
const STORE_DELETE = defineScript(
  `
if redis.call('HGET', KEYS[1], 't') ~= '0' then return -1 end
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 't', '1')
redis.call('HDEL', KEYS[1], 'd', 'x')
redis.call('ZREM', KEYS[2], ARGV[1])
return v
`,
  2,
);

const LIST_PAGE = 500;

/**
 * A {@link ConfigStore} in Redis, for deployments where Redis is persisted and is the source of truth. Each
 * key is a hash (version, value, expiry) written by one Lua script, so versions stay atomic and monotonic;
 * `list` walks a sorted-set index (never KEYS or SCAN). Every call is bounded by `commandTimeoutMs` and is
 * never queued behind a reconnect: with Redis down, calls fail at once with `UNAVAILABLE`. `close()`
 * releases nothing of yours: the client stays open.
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
  const call = boundedCalls(client, check.positiveInt('commandTimeoutMs', options.commandTimeoutMs ?? 1000));

  const read = async (key: string): Promise<ConfigRecord | undefined> => {
    const hash = await call('read', () => client.hgetall(entryKey(key)));
    try {
      return fromHash(key, hash);
    } catch (error) {
      throw new ConfigError('STORE_ERROR', `corrupt entry for '${key}' in Redis`, { cause: error });
    }
  };

  return closeable({
    get: read,
    async set(key: string, value: JsonValue, setOptions?: { expiresAt?: number | null }) {
      const expiresAt = setOptions?.expiresAt ?? null;
      const record: ConfigEntry = { key, value, version: 0, expiresAt, deleted: false };
      const [, data, x] = toHashArgs(record);
      const version = Number(
        await call('write', () => runScript(client, STORE_SET, [entryKey(key), indexKey], [key, data, x])),
      );
      return { ...record, value: JSON.parse(data) as JsonValue, version };
    },
    async delete(key: string) {
      const version = await call('delete', () =>
        runScript(client, STORE_DELETE, [entryKey(key), indexKey], [key]),
      );
      if (Number(version) < 0) return undefined;
      return { key, version: Number(version), deleted: true } satisfies ConfigTombstone;
    },
    async list(listPrefix: string) {
      const keys: string[] = [];
      // Lexicographic walk from the prefix; members sort by bytes, so the matches are contiguous.
      for (let offset = 0; ; offset += LIST_PAGE) {
        const page = await call('list', () =>
          client.zrangebylex(indexKey, `[${listPrefix}`, '+', 'LIMIT', offset, LIST_PAGE),
        );
        const matching = page.filter((k) => k.startsWith(listPrefix));
        keys.push(...matching);
        if (page.length < LIST_PAGE || matching.length < page.length) break;
      }
      const records = await Promise.all(keys.map(read));
      return records.filter((r): r is ConfigEntry => r !== undefined && !r.deleted);
    },
  });
}
