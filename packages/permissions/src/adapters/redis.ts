import { randomBytes } from 'node:crypto';
import {
  type Closeable,
  closeable,
  defineScript,
  type Logger,
  runScript,
  type ScriptClient,
  silentLogger,
} from '@app/core';
import type { CacheRead, PermissionCache } from '../cache.js';
import type { CompiledPermissions } from '../compile.js';

/** The few ioredis methods the cache uses: any ioredis 5/6 client (or compatible) fits. */
export interface RedisCacheClient extends ScriptClient {
  set(key: string, value: string): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number): Promise<unknown>;
}

/** Options of {@link redisPermissionCache}. */
export interface RedisPermissionCacheOptions {
  /** Your ioredis client. The cache never closes it. */
  client: RedisCacheClient;
  /** Prefix of every key. For Redis Cluster use a hash tag, e.g. `{perm}:`, so the scripts' keys share a slot. @default 'perm:' */
  keyPrefix?: string;
  /** How long a compiled set lives in Redis, in ms. @default 300000 */
  ttlMs?: number;
  /**
   * How long this instance may use its local copy without asking Redis, in ms. `0` (strict) asks Redis on
   * every check (one round trip), so a revoke is seen by the next check on every instance. A positive value
   * saves that round trip at the price of up to that much staleness on other instances.
   * @default 0
   */
  maxStalenessMs?: number;
  /** Most compiled sets kept in this process; the oldest go first. @default 10000 */
  maxLocalEntries?: number;
  /**
   * What a check does when Redis fails: `bypass` loads from the store (always fresh, never cached) and logs a
   * warning; `throw` fails the check with `STORE_FAILED`. Either way a failure never allows.
   * @default 'bypass'
   */
  onRedisError?: 'bypass' | 'throw';
  /** Receives Redis failures. @default silentLogger */
  logger?: Logger;
  /** The clock, for tests of `maxStalenessMs`. @default Date.now */
  now?: () => number;
}

// Epochs are random tokens, not counters: after Redis loses its data a new epoch can never equal an old one,
// so no instance can mistake a copy from before the loss for a current one.
const READ = defineScript(
  `
local g = redis.call('GET', KEYS[1])
if not g then g = ARGV[2]; redis.call('SET', KEYS[1], g) end
local s = redis.call('GET', KEYS[2])
if not s then s = ARGV[3]; redis.call('SET', KEYS[2], s, 'PX', ARGV[4]) end
local tag = g .. ':' .. s
if tag == ARGV[1] then return {tag, 'current'} end
local cur = redis.call('HMGET', KEYS[3], 'tag', 'data')
if cur[1] == tag then return {tag, 'hit', cur[2]} end
return {tag, 'miss'}
`,
  3,
);

// Writes a compiled set only if no invalidation happened since the read that produced `tag`.
const WRITE = defineScript(
  `
local g = redis.call('GET', KEYS[1])
local s = redis.call('GET', KEYS[2])
if (not g) or (not s) or (g .. ':' .. s) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[3], 'tag', ARGV[1], 'data', ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
`,
  3,
);

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
 * assignments); a check compares epochs in one round trip (one Lua script), so a revoke takes effect on the
 * next check on every instance. Entries expire after `ttlMs`. Uses no KEYS, no pub/sub connection.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisPermissionCache } from '@app/permissions/redis';
 *
 * const permissions = createPermissionService({
 *   store: prismaPermissionStore({ prisma }),
 *   cache: redisPermissionCache({ client: new Redis(), keyPrefix: 'myapp:perm:' }),
 * });
 * ```
 */
export function redisPermissionCache(options: RedisPermissionCacheOptions): PermissionCache {
  const { client } = options;
  const prefix = options.keyPrefix ?? 'perm:';
  const ttlMs = options.ttlMs ?? 300_000;
  const maxStalenessMs = options.maxStalenessMs ?? 0;
  const maxLocal = options.maxLocalEntries ?? 10_000;
  const onRedisError = options.onRedisError ?? 'bypass';
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  const local = new Map<string, Local>();
  const globalKey = `${prefix}epoch`;
  const subjectKey = (s: string) => `${prefix}epoch:${s}`;
  const setKey = (s: string) => `${prefix}set:${s}`;

  const remember = (subject: string, entry: Local) => {
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

  const cache: Omit<PermissionCache, keyof Closeable> = {
    peek(subject) {
      // Only within the staleness the user allowed: in strict mode (0) every check asks Redis.
      if (maxStalenessMs <= 0) return undefined;
      const mine = local.get(subject);
      if (mine === undefined) return undefined;
      const t = now();
      return t - mine.loadedAt < ttlMs && t - mine.checkedAt < maxStalenessMs ? mine.compiled : undefined;
    },

    read(subject) {
      let mine = local.get(subject);
      if (mine !== undefined && now() - mine.loadedAt >= ttlMs) {
        local.delete(subject);
        mine = undefined;
      }
      if (mine !== undefined && maxStalenessMs > 0 && now() - mine.checkedAt < maxStalenessMs) {
        return { compiled: mine.compiled, token: mine.tag };
      }
      return runScript(
        client,
        READ,
        [globalKey, subjectKey(subject), setKey(subject)],
        [mine?.tag ?? '', token(), token(), ttlMs * 2],
      ).then(
        (reply) => {
          const [tag, status, data] = reply as [string, 'current' | 'hit' | 'miss', string | undefined];
          if (status === 'current' && mine !== undefined) {
            mine.checkedAt = now();
            return { compiled: mine.compiled, token: tag };
          }
          if (status === 'hit' && data !== undefined) {
            const compiled = JSON.parse(data) as CompiledPermissions;
            remember(subject, { tag, compiled, loadedAt: now(), checkedAt: now() });
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
      const stored = await runScript(
        client,
        WRITE,
        [globalKey, subjectKey(subject), setKey(subject)],
        [tag, JSON.stringify(compiled), ttlMs],
      );
      if (stored === 1) remember(subject, { tag, compiled, loadedAt: now(), checkedAt: now() });
    },

    async invalidateSubject(subject) {
      local.delete(subject);
      await client.set(subjectKey(subject), token(), 'PX', ttlMs * 2);
    },

    async invalidateAll() {
      local.clear();
      await client.set(globalKey, token());
    },
  };
  return closeable(cache, () => local.clear());
}
