import { closeable, defineScript, runScript } from '@app/core';
import { ConfigError } from '../../errors.js';
import type {
  ConfigEntry,
  ConfigRecord,
  ConfigStore,
  ConfigSync,
  ConfigTombstone,
  ConfigWriteThrough,
  JsonValue,
} from '../../types.js';
import {
  fromHash,
  type RedisClientLike,
  redisAdapterSetup,
  SYNC_TARGET,
  type SyncTarget,
  toHashArgs,
} from './client.js';
import {
  keyMemo,
  publishCommand,
  redisEntryKey,
  redisIndexKey,
  SHARDS,
  sameSlotPrefixes,
  shardPrefix,
} from './layout.js';

/** Options of {@link redisConfigStore}. */
export interface RedisConfigStoreOptions {
  /** Your ioredis client. It stays yours: the store never closes it. */
  client: RedisClientLike;
  /**
   * Prefix of every key the store writes: `<prefix>{<tag>}:entry:<key>` hashes and one
   * `<prefix>{<tag>}:index` sorted set per shard (16 hash tags; see the README's "Redis Cluster").
   * @default 'config:'
   */
  keyPrefix?: string;
  /**
   * How long one Redis call may take, in ms (swept by one timer: a call gives up between 1x and 1.25x of
   * it). A call past it, or sent while ioredis is reconnecting, fails with `ConfigError` `UNAVAILABLE`
   * instead of waiting in ioredis' offline queue; the service then serves a stale cached value when it has
   * one. @default 1000
   */
  commandTimeoutMs?: number;
}

// Every script's keys (and its change channel) carry the shard tag of the one config key they concern, so
// each runs in one slot on a cluster.
// KEYS: entry hash, shard index. ARGV: key, data, expiresAt. The version survives deletes (tombstones).
const STORE_SET = defineScript(
  `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 't', '0', 'd', ARGV[2], 'x', ARGV[3])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
return v
`,
  2,
);

// The delete both scripts run first: entry hash KEYS[1] becomes a tombstone, key ARGV[1] leaves index KEYS[2].
const DELETE_LIVE = `
if redis.call('HGET', KEYS[1], 't') ~= '0' then return -1 end
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
redis.call('HSET', KEYS[1], 't', '1')
redis.call('HDEL', KEYS[1], 'd', 'x')
redis.call('ZREM', KEYS[2], ARGV[1])
`;
// KEYS: entry hash, index. ARGV: key. Returns the tombstone version, or -1 when nothing was live.
const STORE_DELETE = defineScript(
  `${DELETE_LIVE}return v
`,
  2,
);

// Write-through (store and Redis sync on one client): the store write and the PUBLISH in one script, so other
// instances hear of a change after one round trip and nothing is half-written. Exported for the propagation
// bench's floor row, not by the package. The version comes from the store in this same step. No copy goes to
// the sync's shared cache: with the store in the same Redis, a service reads the store itself (a read costs
// the same, see `replacesCache`). The script drops the key's cache entry instead, so an instance that still
// reads that cache (an older release during a rolling upgrade, or a store and sync on separate clients)
// misses and reads the store rather than a stale copy.
// The index only changes when the entry was not live (HSET added fields: a new key, or one after a delete).
// KEYS: entry hash, shard index, cache hash. ARGV: key, data, expiresAt, channel, message head (the message is
// the head, the version, then the value and expiry: what `redisConfigSync` publishes), and the publish
// command: SPUBLISH on a cluster (the channel is in the keys' slot), PUBLISH on one node.
export const THROUGH_SET = defineScript(
  `
local v = redis.call('HINCRBY', KEYS[1], 'v', 1)
if redis.call('HSET', KEYS[1], 't', '0', 'd', ARGV[2], 'x', ARGV[3]) > 0 then
  redis.call('ZADD', KEYS[2], 0, ARGV[1])
end
redis.call('DEL', KEYS[3])
local x = ARGV[3]
if x == '' then x = 'null' end
redis.call(ARGV[6], ARGV[4], ARGV[5] .. v .. ',"d":' .. ARGV[2] .. ',"x":' .. x .. '}')
return v
`,
  3,
);

// KEYS: entry hash, shard index, cache hash. ARGV: key, channel, message head, publish command.
// -1: nothing live.
const THROUGH_DELETE = defineScript(
  `${DELETE_LIVE}redis.call('DEL', KEYS[3])
redis.call(ARGV[4], ARGV[2], ARGV[3] .. v .. '}')
return v
`,
  3,
);

const LIST_PAGE = 500;

/**
 * A {@link ConfigStore} in Redis, for deployments where Redis is persisted and is the source of truth. Each
 * key is a hash (version, value, expiry) written by one Lua script, so versions stay atomic and monotonic;
 * `list` walks 16 sorted-set indexes, one per shard (never KEYS or SCAN). Works unchanged on one node, behind
 * Sentinel and on Redis Cluster: a key's hash, its index and its cache entry share a hash tag chosen from the
 * key (one of 16), so no script crosses slots and the keys spread over the masters. Every call is bounded by `commandTimeoutMs` and is
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
  const { client, prefix, call } = redisAdapterSetup(options, 'redisConfigStore');
  const entryKey = (key: string) => redisEntryKey(prefix, key);
  const indexKey = (key: string) => redisIndexKey(prefix, key);
  const indexKeys = Array.from({ length: SHARDS }, (_, shard) => `${shardPrefix(prefix, shard)}index`);
  const publish = publishCommand(client);

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
        await call('write', () =>
          runScript(client, STORE_SET, [entryKey(key), indexKey(key)], [key, data, x]),
        ),
      );
      return { ...record, value: JSON.parse(data) as JsonValue, version };
    },
    async delete(key: string) {
      const version = await call('delete', () =>
        runScript(client, STORE_DELETE, [entryKey(key), indexKey(key)], [key]),
      );
      if (Number(version) < 0) return undefined;
      return { key, version: Number(version), deleted: true } satisfies ConfigTombstone;
    },
    writeThrough(sync: ConfigSync): ConfigWriteThrough | undefined {
      const target = (sync as { [SYNC_TARGET]?: SyncTarget })[SYNC_TARGET];
      // Only on one client (then both live in one Redis and one script can do both), and only when both
      // prefixes put a key's store and cache entries in one slot.
      if (target === undefined || target.client !== client || !sameSlotPrefixes(prefix, target.keyPrefix))
        return undefined;
      // What a write-through script of a config key names: its three keys, its channel, its message part.
      const names = keyMemo((key) => {
        const { cacheKey, channel, keyField } = target.names(key);
        return { keys: [entryKey(key), indexKey(key), cacheKey], channel, keyField };
      });
      return {
        // The store reads as fast as the cache would: the service reads the store, and no copy is cached.
        replacesCache: true,
        set(key, value, { expiresAt, origin }) {
          let data: string;
          let keys: string[];
          let args: string[];
          try {
            // A finite number's JSON is its string (the service only passes JSON values).
            data = typeof value === 'number' ? String(value) : JSON.stringify(value);
            const named = names(key);
            keys = named.keys;
            const x = expiresAt === null ? '' : String(expiresAt);
            args = [key, data, x, named.channel, target.messageHead(origin, named.keyField), publish];
          } catch (error) {
            return Promise.reject(error);
          }
          return call(
            'write',
            () => runScript(client, THROUGH_SET, keys, args),
            (version) => {
              target.repaired(key);
              // A copy for the caches (a primitive is its own copy).
              const copy =
                typeof value === 'object' && value !== null ? (JSON.parse(data) as JsonValue) : value;
              return { key, value: copy, version: Number(version), expiresAt, deleted: false } as const;
            },
          );
        },
        async delete(key, { origin }) {
          const { keys, channel, keyField } = names(key);
          const args = [key, channel, target.messageHead(origin, keyField), publish];
          const version = Number(await call('delete', () => runScript(client, THROUGH_DELETE, keys, args)));
          if (version < 0) return undefined;
          target.repaired(key);
          return { key, version, deleted: true };
        },
      };
    },
    async list(listPrefix: string) {
      // Lexicographic walk from the prefix in each shard's index (in parallel: on a cluster, on their
      // masters); members sort by bytes, so the matches are contiguous.
      const walk = async (index: string): Promise<string[]> => {
        const keys: string[] = [];
        for (let offset = 0; ; offset += LIST_PAGE) {
          const page = await call('list', () =>
            client.zrangebylex(index, `[${listPrefix}`, '+', 'LIMIT', offset, LIST_PAGE),
          );
          const matching = page.filter((k) => k.startsWith(listPrefix));
          keys.push(...matching);
          if (page.length < LIST_PAGE || matching.length < page.length) return keys;
        }
      };
      const keys = (await Promise.all(indexKeys.map(walk))).flat();
      // Byte order, as one sorted set would give (UTF-16 order differs beyond the BMP).
      keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
      const records = await Promise.all(keys.map(read));
      return records.filter((r): r is ConfigEntry => r !== undefined && !r.deleted);
    },
  });
}
