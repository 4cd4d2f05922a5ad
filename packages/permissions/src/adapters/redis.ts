import { randomBytes } from 'node:crypto';
import {
  type Closeable,
  closeable,
  defineScript,
  type Logger,
  runScript,
  type ScriptClient,
  silentLogger,
  withDeadline,
} from '@app/core';
import type { CacheRead, PermissionCache } from '../cache.js';
import type { CompiledPermissions } from '../compile.js';
import { PermissionError, PermissionErrorCode } from '../errors.js';
import {
  announceInvalidation,
  type InvalidationFeed,
  invalidationFeed,
  type RedisFeedClient,
  watchTopology,
} from './redis-feed.js';

export type { RedisFeedClient, RedisFeedSubscriber } from './redis-feed.js';

/**
 * The few ioredis methods the cache uses: any ioredis 5/6 `Redis` or `Cluster` (or compatible) fits. The
 * topology is read from the client (`isCluster`), never configured.
 */
export interface RedisCacheClient extends ScriptClient, RedisFeedClient {
  set(key: string, value: string): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
}

/** The cache {@link redisPermissionCache} returns: a {@link PermissionCache} that reports its notifications. */
export interface RedisPermissionCache extends PermissionCache {
  /**
   * Where invalidation notifications stand: `off` (strict mode, or a client without `duplicate`),
   * `connecting` (not yet proved to arrive: local copies are not used without asking Redis), `live`.
   * For health checks and tests.
   */
  notifications(): 'off' | 'connecting' | 'live';
}

/** Options of {@link redisPermissionCache}. */
export interface RedisPermissionCacheOptions {
  /** Your ioredis client (`Redis` or `Cluster`). The cache never closes it. */
  client: RedisCacheClient;
  /**
   * Prefix of every key and channel. Do not put a `{hash tag}` in it: the cache tags keys per subject so a
   * Redis Cluster spreads them over its shards. @default 'perm:'
   */
  keyPrefix?: string;
  /** How long a compiled set lives in Redis, in ms. @default 300000 */
  ttlMs?: number;
  /**
   * How long this instance may use its local copy without asking Redis, in ms. `0` (strict) asks Redis on
   * every check (one round trip), so a revoke is seen by the next check on every instance. A positive value
   * saves that round trip: the copy is then also dropped as soon as another instance's invalidation arrives
   * (pub/sub; sharded pub/sub on a Cluster), so `maxStalenessMs` only bounds what a lost notification costs.
   * @default 0
   */
  maxStalenessMs?: number;
  /** Most compiled sets kept in this process; the oldest go first. @default 10000 */
  maxLocalEntries?: number;
  /**
   * Longest a check waits for Redis, in ms, before it is answered from the store instead (`bypass`) or fails
   * (`throw`); also bounds invalidations. A client that is not connected is not asked at all, so a check
   * never waits behind a reconnect. @default 1000
   */
  redisTimeoutMs?: number;
  /**
   * What a check does when Redis fails or is slower than `redisTimeoutMs`: `bypass` loads from the store
   * (always fresh, never cached) and logs a warning; `throw` fails the check with `STORE_FAILED`. Either way
   * a failure never allows.
   * @default 'bypass'
   */
  onRedisError?: 'bypass' | 'throw';
  /** Receives Redis failures. @default silentLogger */
  logger?: Logger;
  /** The clock, for tests of `maxStalenessMs`. @default Date.now */
  now?: () => number;
}

// Keys: `<prefix>{s:<subject>}:epoch` and `<prefix>{s:<subject>}:set` share the subject's hash tag, so the
// scripts below touch one slot and the subjects spread over a cluster's shards; the global epoch lives in
// its own slot (`<prefix>{g}:epoch`). Epochs are random tokens, not counters: after Redis loses its data a
// new epoch can never equal an old one, so no instance mistakes a copy from before the loss for a current one.

// The global epoch, created when missing.
const GLOBAL = defineScript(
  `
local g = redis.call('GET', KEYS[1])
if not g then g = ARGV[1]; redis.call('SET', KEYS[1], g) end
return g
`,
  1,
);

// The subject's epoch (created when missing) and its cached entry: the entry's data only when the caller's
// own copy has another tag. The caller compares `<global>:<subject epoch>` with the entry's tag.
const READ = defineScript(
  `
local s = redis.call('GET', KEYS[1])
if not s then s = ARGV[2]; redis.call('SET', KEYS[1], s, 'PX', ARGV[3]) end
local cur = redis.call('HMGET', KEYS[2], 'tag', 'data')
if not cur[1] then return {s} end
if cur[1] == ARGV[1] then return {s, cur[1]} end
return {s, cur[1], cur[2]}
`,
  2,
);

// Writes a compiled set only if the subject's epoch is still the one the read saw. A global change in
// between is harmless: the entry's tag names the old global epoch, which no reader will match again.
const WRITE = defineScript(
  `
local s = redis.call('GET', KEYS[1])
if (not s) or s ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[2], 'tag', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
`,
  2,
);

/** ioredis statuses in which a command would only wait in the offline queue. */
const DOWN = new Set(['reconnecting', 'close', 'end']);

/** Tokens of reads that could not reach Redis: never written back, and unique so no check joins another's load. */
const BYPASS = 'bypass:';
let bypasses = 0;

interface Local {
  tag: string;
  compiled: CompiledPermissions;
  /** When it was loaded: after `ttlMs` it is dropped even if no write happened (writes made outside a service). */
  loadedAt: number;
  /** When Redis last confirmed it current. */
  checkedAt: number;
}

const token = () => randomBytes(8).toString('hex');

/**
 * A shared cache of compiled permission sets in Redis, with a local copy per instance. Every write through
 * any instance's service changes an epoch key (global for role and rule changes, per subject for
 * assignments); a check compares epochs (two small scripts sent together), so a revoke takes effect on the
 * next check on every instance. Entries expire after `ttlMs`. Uses no KEYS.
 *
 * Works unchanged on one node, behind Sentinel and on Redis Cluster: each subject's keys share a hash tag
 * (subjects spread over the shards); invalidations are also announced on pub/sub channels (sharded pub/sub
 * on a Cluster), which instances with `maxStalenessMs > 0` subscribe to. After a reconnect or a failover an
 * instance drops its local copies and, on a Cluster, moves the global epoch (a write the old master
 * acknowledged may not have reached the promoted replica). With Redis down, checks are answered from the
 * store within `redisTimeoutMs`.
 *
 * @example
 * ```ts
 * import { Cluster } from 'ioredis';
 * import { redisPermissionCache } from '@app/permissions/redis';
 *
 * const permissions = createPermissionService({
 *   store: prismaPermissionStore({ prisma }),
 *   cache: redisPermissionCache({ client: new Cluster([{ host: 'redis', port: 6379 }]), keyPrefix: 'myapp:perm:' }),
 * });
 * ```
 */
export function redisPermissionCache(options: RedisPermissionCacheOptions): RedisPermissionCache {
  const { client } = options;
  const prefix = options.keyPrefix ?? 'perm:';
  const ttlMs = options.ttlMs ?? 300_000;
  const maxStalenessMs = options.maxStalenessMs ?? 0;
  const maxLocal = options.maxLocalEntries ?? 10_000;
  const timeoutMs = options.redisTimeoutMs ?? 1000;
  const onRedisError = options.onRedisError ?? 'bypass';
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const local = new Map<string, Local>();
  const globalKey = `${prefix}{g}:epoch`;
  const subjectKeys = (s: string) => [`${prefix}{s:${s}}:epoch`, `${prefix}{s:${s}}:set`];
  // Bumped whenever local copies are dropped wholesale: a read that started before cannot store its result.
  let generation = 0;
  if (prefix.includes('{')) {
    logger.warn(
      { keyPrefix: prefix },
      'permissions: keyPrefix holds a {hash tag}: every key lands in one cluster slot',
    );
  }

  const flush = () => {
    generation++;
    local.clear();
  };
  const feed: InvalidationFeed | undefined =
    maxStalenessMs > 0
      ? invalidationFeed({
          client,
          prefix,
          logger,
          timeoutMs,
          onMessage: (subject) => (subject === undefined ? flush() : local.delete(subject)),
          onResubscribed: flush,
        })
      : undefined;
  // A promoted replica may lack an epoch change its old master acknowledged: after a failover (or any
  // reconnection: it cannot be told apart from one behind Sentinel) drop local copies and move the epoch.
  const unwatch = watchTopology(client, () => {
    flush();
    redis(() => client.set(globalKey, token())).catch((error: unknown) =>
      logger.warn({ err: error }, 'permissions: moving the epoch after a failover failed'),
    );
  });

  const redis = <T>(work: () => Promise<T>): Promise<T> => {
    // A client known to be down is not asked; one still connecting gets the deadline.
    if (client.status !== undefined && DOWN.has(client.status)) {
      return Promise.reject(
        new PermissionError(PermissionErrorCode.STORE_FAILED, `redis is not connected (${client.status})`),
      );
    }
    return withDeadline(
      work(),
      timeoutMs,
      () => new PermissionError(PermissionErrorCode.STORE_FAILED, `redis did not answer in ${timeoutMs} ms`),
    );
  };

  const remember = (subject: string, entry: Local, since: number) => {
    if (since !== generation) return;
    local.delete(subject);
    local.set(subject, entry);
    while (local.size > maxLocal) {
      const oldest = local.keys().next().value;
      if (oldest === undefined) break;
      local.delete(oldest);
    }
  };

  const failed = (error: unknown, what: string): CacheRead => {
    if (onRedisError === 'throw') throw error;
    logger.warn({ err: error }, `permissions: redis ${what} failed, loading from the store`);
    return { compiled: undefined, token: `${BYPASS}${++bypasses}` };
  };

  const fresh = (mine: Local | undefined, t: number) =>
    mine !== undefined && t - mine.loadedAt < ttlMs && t - mine.checkedAt < maxStalenessMs;

  const cache: Omit<RedisPermissionCache, keyof Closeable> = {
    notifications: () => (feed === undefined ? 'off' : feed.live() ? 'live' : 'connecting'),

    peek(subject) {
      // Only within the staleness the user allowed, and only while notifications are known to arrive.
      if (feed === undefined || !feed.live()) return undefined;
      const mine = local.get(subject);
      return fresh(mine, now()) ? mine!.compiled : undefined;
    },

    read(subject) {
      let mine = local.get(subject);
      if (mine !== undefined && now() - mine.loadedAt >= ttlMs) {
        local.delete(subject);
        mine = undefined;
      }
      if (feed?.live() && fresh(mine, now())) return { compiled: mine!.compiled, token: mine!.tag };
      const since = generation;
      const keys = subjectKeys(subject);
      const read = redis(() =>
        Promise.all([
          runScript(client, GLOBAL, [globalKey], [token()]),
          runScript(client, READ, keys, [mine?.tag ?? '', token(), ttlMs * 2]),
        ]),
      );
      return read.then(
        ([g, reply]) => {
          const [s, entryTag, data] = reply as [string, string | undefined, string | undefined];
          const tag = `${g as string}:${s}`;
          const t = now();
          if (mine !== undefined && mine.tag === tag) {
            mine.checkedAt = t;
            return { compiled: mine.compiled, token: tag };
          }
          if (entryTag === tag && data !== undefined) {
            const compiled = JSON.parse(data) as CompiledPermissions;
            remember(subject, { tag, compiled, loadedAt: t, checkedAt: t }, since);
            return { compiled, token: tag };
          }
          local.delete(subject);
          return { compiled: undefined, token: tag };
        },
        (error: unknown) => failed(error, 'read'),
      );
    },

    async write(subject, compiled, tag) {
      if (tag.startsWith(BYPASS)) return;
      const since = generation;
      const s = tag.slice(tag.indexOf(':') + 1);
      const stored = await redis(() =>
        runScript(client, WRITE, subjectKeys(subject), [s, tag, JSON.stringify(compiled), ttlMs]),
      );
      const t = now();
      if (stored === 1) remember(subject, { tag, compiled, loadedAt: t, checkedAt: t }, since);
    },

    async invalidateSubject(subject) {
      local.delete(subject);
      await redis(() => client.set(subjectKeys(subject)[0]!, token(), 'PX', ttlMs * 2));
      await announce(subject);
    },

    async invalidateAll() {
      flush();
      await redis(() => client.set(globalKey, token()));
      await announce(undefined);
    },
  };

  // The epoch moved already (the guarantee); the announcement only spares other instances' local copies
  // their remaining `maxStalenessMs`, so its failure is logged, not thrown.
  const announce = (subject: string | undefined) =>
    redis(() => announceInvalidation(client, prefix, subject)).catch((error: unknown) =>
      logger.warn({ err: error }, 'permissions: announcing an invalidation failed'),
    );

  return closeable(cache, async () => {
    flush();
    unwatch();
    await feed?.close();
  });
}
