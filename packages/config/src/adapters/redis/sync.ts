import { closeable, defineScript, type Logger, retry, runScript, silentLogger } from '@app/core';
import { rejectRenamed } from '../../errors.js';
import type { ConfigRecord, ConfigSync, ConfigSyncListener, JsonValue } from '../../types.js';
import {
  fromHash,
  type RedisClientLike,
  type RedisSubscriberLike,
  redisAdapterSetup,
  SYNC_TARGET,
  type SyncKeyNames,
  type SyncTarget,
  toHashArgs,
} from './client.js';
import { isClusterClient, keyMemo, keyShardPrefix, publishCommand, shardChannels } from './layout.js';

// ---------------------------------------------------------------------------------------------------------
// redisConfigSync: the shared cache and change notifier in front of a durable store.
// ---------------------------------------------------------------------------------------------------------

/** Options of {@link redisConfigSync}. */
export interface RedisConfigSyncOptions {
  /**
   * Your ioredis `Redis` (one node, or Sentinel mode) or `Cluster`; `client.duplicate()` makes the one
   * subscriber connection per service (on a Cluster, with ioredis' `shardedSubscribers`: one connection per
   * master). Stays yours to close.
   */
  client: RedisClientLike;
  /**
   * Prefix of the cache keys (`<prefix>{<tag>}:cache:<key>`) and of the 16 change channels
   * (`<prefix>{<tag>}:changes`). @default 'config:'
   */
  keyPrefix?: string;
  /** How long a cached record stays in Redis, in ms. @default 300000 */
  cacheTtlMs?: number;
  /**
   * How long one Redis call may take before the service falls back to the store, in ms (one timer sweeps the
   * calls in flight, so a call gives up between 1x and 1.25x of it). @default 1000
   */
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
  return `${keyShardPrefix(keyPrefix, key)}cache:${key}`;
}

/**
 * The channel a key's changes are published on: one of 16 per key prefix, in the slot of the key's cache
 * entry (on a cluster, a sharded channel: SPUBLISH/SSUBSCRIBE; on one node, a classic one).
 *
 * @example
 * ```ts
 * redisChangeChannel('myapp:config:', 'email.provider'); // 'myapp:config:{c42}:changes'
 * ```
 */
export function redisChangeChannel(keyPrefix: string, key: string): string {
  return `${keyShardPrefix(keyPrefix, key)}changes`;
}

/**
 * Every change channel of a key prefix (16): what a subscriber listens on.
 *
 * @example
 * ```ts
 * await subscriber.subscribe(...redisChangeChannels('myapp:config:')); // messages: {"o","k","v","d"?,"x"?}
 * ```
 */
export function redisChangeChannels(keyPrefix: string): string[] {
  return shardChannels(keyPrefix);
}

// KEYS: cache hash. ARGV: version, tombstone flag, data, expiresAt, ttl ms, force, channel, message, publish
// command (SPUBLISH on a cluster: the channel is in the cache key's slot; PUBLISH on one node).
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
  redis.call(ARGV[9], ARGV[7], ARGV[8])
end
return applied
`,
  1,
);

interface WireMessage {
  /** origin instance */
  o: string;
  /** when the writer published (epoch ms, the writer's clock) */
  t?: number;
  k: string;
  v: number;
  /** value; absent for a tombstone */
  d?: JsonValue;
  x?: number | null;
}

/**
 * Redis as the shared cache and change notifier in front of a durable store: cache entries are
 * version-checked in Lua (an older version never overwrites a newer one), and every `set` and `delete` is
 * published in the same script on its key's channel (one of 16). The topology is detected from the client,
 * never configured: on one node (or Sentinel) classic PUBLISH/SUBSCRIBE; on a `Cluster`, sharded pub/sub
 * (SPUBLISH in the script, SSUBSCRIBE through ioredis' `shardedSubscribers`, one connection per master).
 * While Redis is unreachable calls fail fast and the service falls back to its cache and store; when the
 * subscriber first listens, reconnects, or a shard's subscriber comes back after a failover, the service
 * flushes its cache and re-reads what it watches, since changes may have been missed meanwhile. `close()` ends every subscription it started (the client
 * stays yours).
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
  rejectRenamed(options, { cacheTtl: 'cacheTtlMs', timeout: 'commandTimeoutMs' }, 'redisConfigSync');
  const { client, prefix, call, check } = redisAdapterSetup(options, 'redisConfigSync');
  const cacheTtlMs = check.positiveInt('cacheTtlMs', options.cacheTtlMs ?? 300_000);
  const logger = options.logger ?? silentLogger;
  const channels = redisChangeChannels(prefix);
  const publishCmd = publishCommand(client);
  /** Keys whose cached entry was corrupt: the next fill may overwrite the same version. */
  const corrupt = new Set<string>();

  /** How long a record's cache entry lives: `cacheTtlMs`, shorter when the value expires sooner. */
  const cacheTtlOf = (record: ConfigRecord): number =>
    !record.deleted && record.expiresAt !== null
      ? Math.max(1, Math.min(cacheTtlMs, record.expiresAt - Date.now()))
      : cacheTtlMs;
  // A key's cache entry, change channel and message part, built once per key.
  const names = keyMemo(
    (key): SyncKeyNames => ({
      cacheKey: redisCacheKey(prefix, key),
      channel: redisChangeChannel(prefix, key),
      keyField: `,"k":${JSON.stringify(key)},"v":`,
    }),
  );
  // `{"o":<origin>,"t":` of the last origin seen (a service has one).
  let lastOrigin: string | undefined;
  let originField = '';
  // A Redis store on the same client writes through this sync in one script (see redisConfigStore).
  const target: SyncTarget = {
    client,
    keyPrefix: prefix,
    names,
    messageHead(origin, keyField) {
      if (origin !== lastOrigin) {
        lastOrigin = origin;
        originField = `{"o":${JSON.stringify(origin)},"t":`;
      }
      return `${originField}${Date.now()}${keyField}`;
    },
    repaired: (key) => corrupt.delete(key),
  };

  /** Every live subscription, ended by `close()`. */
  const subscriptions = new Set<() => void>();

  const sync: Omit<ConfigSync, 'close' | typeof Symbol.asyncDispose> = {
    async read(key) {
      const hash = await call('read', () => client.hgetall(names(key).cacheKey));
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
        const wire: WireMessage = { o: origin, t: Date.now(), k: record.key, v: record.version };
        if (!record.deleted) {
          wire.d = record.value;
          wire.x = record.expiresAt;
        }
        message = JSON.stringify(wire);
      }
      const repair = force === true || corrupt.has(record.key);
      const { cacheKey, channel } = names(record.key);
      await call('write', () =>
        runScript(
          client,
          SYNC_WRITE,
          [cacheKey],
          [record.version, t, d, x, ttl, repair ? '1' : '0', channel, message, publishCmd],
        ),
      );
      corrupt.delete(record.key);
    },

    subscribe(listener: ConfigSyncListener) {
      let stopped = false;
      // This listener's own changes start with its origin: dropped before any parsing.
      const own = listener.origin === undefined ? undefined : `{"o":${JSON.stringify(listener.origin)},`;
      const sub = subscribeChanges(client, channels, logger, {
        message(message) {
          if (stopped || (own !== undefined && message.startsWith(own))) return;
          const record = decode(message, logger);
          if (record) listener.change(record, record.origin, record.sentAt);
        },
        resubscribed() {
          if (!stopped) listener.reset();
        },
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

/** Decodes a change message; `undefined` for an unreadable one (logged). */
function decode(
  message: string,
  logger: Logger,
): (ConfigRecord & { origin: string; sentAt: number | undefined }) | undefined {
  let wire: WireMessage;
  try {
    wire = JSON.parse(message) as WireMessage;
    if (typeof wire.k !== 'string' || typeof wire.o !== 'string' || !Number.isSafeInteger(wire.v)) {
      throw new Error('not a change message');
    }
  } catch (error) {
    logger.warn({ err: error }, '[@app/config] unreadable change message ignored');
    return undefined;
  }
  const sentAt = typeof wire.t === 'number' ? wire.t : undefined;
  return wire.d === undefined
    ? { key: wire.k, version: wire.v, deleted: true, origin: wire.o, sentAt }
    : {
        key: wire.k,
        version: wire.v,
        value: wire.d,
        expiresAt: wire.x ?? null,
        deleted: false,
        origin: wire.o,
        sentAt,
      };
}

/** About 15 s in all, jittered. */
const RESUBSCRIBE_RETRY = { maxAttempts: 10, baseDelayMs: 200, maxDelayMs: 3000 } as const;

/** What {@link subscribeChanges} reports. */
interface ChangeHandlers {
  message(message: string): void;
  /**
   * Listening: the first time (changes made between the service's start and its subscription were not
   * heard), and again after a reconnect or a shard's failover (messages may have been lost meanwhile).
   */
  resubscribed(): void;
}

/**
 * One subscriber connection listening on every change channel. On one node (or Sentinel): a
 * `client.duplicate()` that SUBSCRIBEs; ioredis re-subscribes after a reconnect, and we subscribe again on
 * every later `ready` to learn when messages flow again. On a Cluster: a duplicate with ioredis'
 * `shardedSubscribers` (a connection per master that owns one of the channels' slots), SSUBSCRIBE per
 * channel. Without that option ioredis sends every SSUBSCRIBE to one node, where those of other slots never
 * answer and nothing is delivered (checked on ioredis 5.11). After a shard's subscriber is lost (its master
 * failed over), ioredis recreates it on the new master when it refreshes the slots and emits
 * `subscribersReady`; we SSUBSCRIBE again (idempotent) and report the gap.
 */
function subscribeChanges(
  client: RedisClientLike,
  channels: readonly string[],
  logger: Logger,
  handlers: ChangeHandlers,
): { disconnect(): void } {
  const cluster = isClusterClient(client);
  const sub = cluster
    ? (client as unknown as { duplicate(nodes: unknown[], o: object): RedisSubscriberLike }).duplicate([], {
        shardedSubscribers: true,
      })
    : client.duplicate();
  const listening = new Set(channels);
  const subscribeAll = (): Promise<unknown> => {
    if (!cluster) return sub.subscribe(...channels);
    const ssubscribe = sub.ssubscribe;
    if (typeof ssubscribe !== 'function' || !('shardedSubscribers' in sub)) {
      return Promise.reject(
        new Error('this ioredis Cluster has no shardedSubscribers option: upgrade ioredis (5.11 is tested)'),
      );
    }
    // One channel per call: each is in a different slot.
    return Promise.all(channels.map((channel) => ssubscribe.call(sub, channel)));
  };
  const failed = (error: unknown) =>
    logger.warn({ err: error }, '[@app/config] could not subscribe to config changes');
  const stopping = new AbortController();
  // After a failover the promoted master may not take subscriptions at once: try again for a while.
  const resubscribe = () =>
    retry(subscribeAll, { ...RESUBSCRIBE_RETRY, signal: stopping.signal }).then(
      () => handlers.resubscribed(),
      (error: unknown) => {
        if (!stopping.signal.aborted) failed(error);
      },
    );

  sub.on('error', (error) => logger.debug({ err: error }, '[@app/config] Redis subscriber error'));
  sub.on(cluster ? 'smessage' : 'message', (from, message) => {
    if (listening.has(from)) handlers.message(message);
  });
  // The first 'ready' is the initial connection (subscribing then too: a subscribe sent before it may have
  // failed); every later one is a reconnect, after which messages may have been lost.
  let readyCount = 0;
  sub.on('ready', () => {
    if (++readyCount > 1) resubscribe();
    else subscribeAll().then(first, failed);
  });
  if (cluster) {
    let lost = false;
    sub.on('-subscriber', () => {
      lost = true;
    });
    sub.on('subscribersReady', () => {
      if (!lost) return;
      lost = false;
      resubscribe();
    });
  }
  // The first subscription to succeed (here, or at the first 'ready') reports once.
  let listened = false;
  function first(): void {
    if (listened) return;
    listened = true;
    handlers.resubscribed();
  }
  subscribeAll().then(first, failed);
  return {
    disconnect() {
      stopping.abort();
      sub.disconnect();
    },
  };
}
