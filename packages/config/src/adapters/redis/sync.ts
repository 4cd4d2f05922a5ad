import { closeable, defineScript, type Logger, optionChecks, runScript, silentLogger } from '@app/core';
import { ConfigError, rejectRenamed } from '../../errors.js';
import type { ConfigRecord, ConfigSync, ConfigSyncListener, JsonValue } from '../../types.js';
import {
  boundedCalls,
  checkPrefix,
  fromHash,
  type RedisClientLike,
  requireClient,
  SYNC_TARGET,
  type SyncTarget,
  toHashArgs,
} from './client.js';

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
  cacheTtlMs?: number;
  /** How long one Redis call may take before the service falls back to the store, in ms. @default 1000 */
  commandTimeoutMs?: number;
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
const SYNC_WRITE = defineScript(
  `
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
`,
  1,
);

interface WireMessage {
  /** origin instance */
  o: string;
  k: string;
  v: number;
  /** value; absent for a tombstone */
  d?: JsonValue;
  x?: number | null;
}

const check = optionChecks((message) => new ConfigError('INVALID_OPTIONS', `redisConfigSync: ${message}`));

/**
 * Redis as the shared cache and change notifier in front of a durable store: cache entries are
 * version-checked in Lua (an older version never overwrites a newer one), every `set` and `delete` is
 * published on one channel in the same script, and each service listens on one `client.duplicate()`
 * connection. While Redis is unreachable calls fail fast and the service falls back to its cache and store;
 * when the subscriber reconnects, the service flushes its cache. `close()` ends every subscription it
 * started (the client stays yours).
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
  rejectRenamed(options, { cacheTtl: 'cacheTtlMs', timeout: 'commandTimeoutMs' }, 'redisConfigSync');
  const cacheTtlMs = check.positiveInt('cacheTtlMs', options.cacheTtlMs ?? 300_000);
  const commandTimeoutMs = check.positiveInt('commandTimeoutMs', options.commandTimeoutMs ?? 1000);
  const logger = options.logger ?? silentLogger;
  const channel = redisChangeChannel(prefix);
  /** Keys whose cached entry was corrupt: the next fill may overwrite the same version. */
  const corrupt = new Set<string>();

  const call = boundedCalls(client, commandTimeoutMs);
  /** How long a record's cache entry lives: `cacheTtlMs`, shorter when the value expires sooner. */
  const cacheTtlOf = (record: ConfigRecord): number =>
    !record.deleted && record.expiresAt !== null
      ? Math.max(1, Math.min(cacheTtlMs, record.expiresAt - Date.now()))
      : cacheTtlMs;
  // A Redis store on the same client writes through this sync in one script (see redisConfigStore).
  const target: SyncTarget = {
    client,
    channel,
    cacheKey: (key) => redisCacheKey(prefix, key),
    cacheTtlMs: cacheTtlOf,
    messageHead: (origin, key) => `{"o":${JSON.stringify(origin)},"k":${JSON.stringify(key)},"v":`,
    repaired: (key) => corrupt.delete(key),
  };

  /** Every live subscription, ended by `close()`. */
  const subscriptions = new Set<() => void>();

  const sync: Omit<ConfigSync, 'close' | typeof Symbol.asyncDispose> = {
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
      const ttl = cacheTtlOf(record);
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
        runScript(
          client,
          SYNC_WRITE,
          [redisCacheKey(prefix, record.key)],
          [record.version, t, d, x, ttl, repair ? '1' : '0', channel, message],
        ),
      );
      corrupt.delete(record.key);
    },

    subscribe(listener: ConfigSyncListener) {
      const sub = client.duplicate();
      let stopped = false;
      sub.on('error', (error) => logger.debug({ err: error }, '[@app/config] Redis subscriber error'));
      // This service's own changes come back on the channel too: drop them before decoding.
      const own = listener.origin === undefined ? undefined : `{"o":${JSON.stringify(listener.origin)},`;
      sub.on('message', (from, message) => {
        if (from !== channel || stopped || (own !== undefined && message.startsWith(own))) return;
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
      const stop = () => {
        subscriptions.delete(stop);
        if (stopped) return;
        stopped = true;
        sub.disconnect();
      };
      subscriptions.add(stop);
      return stop;
    },
  };
  Object.defineProperty(sync, SYNC_TARGET, { value: target });
  return closeable(sync, () => {
    for (const stop of [...subscriptions]) stop();
  });
}
