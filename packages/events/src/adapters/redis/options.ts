import { createHash } from 'node:crypto';
import { type Logger, type ScriptClient, silentLogger } from '@app/core';
import { EventsError, EventsErrorCode } from '../../errors.js';
import { optionCheck, positiveInt } from '../../internal/validate.js';

type Arg = string | number;

/** The part of an ioredis pipeline or transaction the transport uses. */
export interface RedisBatchLike {
  call(command: string, ...args: Arg[]): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** The part of an ioredis client the transport uses; any ioredis `Redis` instance (5 or 6) fits. */
export interface RedisStreamsClient extends ScriptClient {
  call(command: string, ...args: Arg[]): Promise<unknown>;
  pipeline(): RedisBatchLike;
  multi(): RedisBatchLike;
  /** Called once per transport, for the one connection that blocks on XREAD. */
  duplicate(): RedisStreamsClient;
  disconnect(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
  /** ioredis' connection state (`ready`, `reconnecting`...): a publish fails at once when it is not sending. */
  readonly status?: string;
  /** `true` on an ioredis `Cluster`: keys are grouped per hash slot and each stream is read on its own connection. */
  readonly isCluster?: boolean;
  /** ioredis `Cluster` only: slot -> node keys (`host:port`), master first (where `WAIT` is sent). */
  readonly slots?: ReadonlyArray<readonly string[] | undefined>;
  /** ioredis `Cluster` only: the connections to its nodes. */
  nodes?(role: 'master'): ReadonlyArray<RedisNodeLike>;
}

/** One node connection of an ioredis `Cluster` (an ioredis `Redis`). */
export interface RedisNodeLike {
  readonly options: { readonly host?: string | undefined; readonly port?: number | undefined };
  call(command: string, ...args: Arg[]): Promise<unknown>;
}

/** Options of the opt-in replication wait of {@link redisEventTransport}. */
export interface DurabilityOptions {
  /**
   * How many replicas must have the batch before its publishes resolve (`WAIT replicas timeoutMs`).
   * @default 1
   */
  replicas?: number;
  /**
   * How long the node waits for them, in ms; fewer acknowledgements by then reject the publishes with the
   * retryable `NOT_REPLICATED` (the events are stored on the master, and may or may not survive its loss).
   * @default 500
   */
  timeoutMs?: number;
}

/** Options of the opt-in outage buffer of {@link redisEventTransport}. */
export interface PublishBufferOptions {
  /**
   * The high-water mark: at most this many events wait in memory for Redis to come back.
   * @default 10000
   */
  maxEvents?: number;
  /**
   * What a publish does when the buffer is full: `reject` (the new publish fails with `UNAVAILABLE`, the
   * buffered events are kept) or `drop-oldest` (the oldest buffered events are dropped, with a warning, to
   * make room).
   * @default 'reject'
   */
  onOverflow?: 'reject' | 'drop-oldest';
}

/** Options of {@link redisEventTransport}. */
export interface RedisEventTransportOptions {
  /** An ioredis client (without ioredis' own `keyPrefix` option). It stays yours: `close()` does not quit it. */
  client: RedisStreamsClient;
  /**
   * Prefix of every key the transport writes. Leave braces out of it: the transport picks the hash tags itself
   * (one per event name); a `{tag}` in the prefix would put every key in that one slot, and an unclosed or
   * empty one (`odd{`, `a{}b:`) is rejected.
   * @default 'events:'
   */
  keyPrefix?: string;
  /** Approximate cap on each event's stream (`XADD MAXLEN ~`). Ignored when `maxAgeMs` is set. @default 100000 */
  maxLen?: number;
  /** Keep roughly this much time in each stream instead (`XADD MINID ~`), in ms. @default undefined */
  maxAgeMs?: number;
  /** Approximate cap on each dead-letter stream (one per event name and subscription). @default 10000 */
  deadLetterMaxLen?: number;
  /**
   * A durable delivery unacknowledged for this long is taken over by another member (XAUTOCLAIM), in ms.
   * While a handler runs, its member resets the idle time every `claimIdleMs / 3` (a heartbeat), so only
   * the deliveries of a member that stopped (crashed, hung event loop, lost connection) are taken over.
   * @default 30000
   */
  claimIdleMs?: number;
  /** How often each durable subscription looks for stale deliveries, in ms. @default 5000 */
  claimIntervalMs?: number;
  /** How long one XREAD blocks before it is reissued, in ms. @default 5000 */
  blockMs?: number;
  /** Entries read per stream per round trip. @default 200 */
  batchSize?: number;
  /** Live deliveries buffered per subscription before reading pauses (backpressure). @default 1000 */
  highWaterMark?: number;
  /**
   * A publish that Redis has not acknowledged within this many ms fails with a retryable `UNAVAILABLE` error
   * (it may still be stored later: at-least-once). While the client is not connected (ioredis `reconnecting`)
   * a publish fails at once instead of waiting in ioredis' offline queue for a reconnect.
   * @default 1000
   */
  publishTimeoutMs?: number;
  /**
   * Opt-in, bounded, in-memory outage buffer: publishes that find Redis unavailable resolve at once as
   * `buffered` and are written, in order, when the client is ready again. Lost if the process dies: use the
   * Prisma outbox where an event must survive that.
   * @default undefined (no buffer: publishes fail with UNAVAILABLE during an outage)
   */
  buffer?: PublishBufferOptions;
  /**
   * Opt-in replication wait: after each publish batch, `WAIT replicas timeoutMs` on the node that took the
   * write, so a resolved publish is on `replicas` replicas too and survives a failover. Costs a round trip
   * and the replication delay per batch (see bench/RESULTS.md).
   * @default undefined (off: a publish resolves once the master has it)
   */
  durability?: DurabilityOptions;
  /** Gets warnings about connection trouble. @default silentLogger */
  logger?: Logger;
}

/** The options with defaults applied and checked, plus the key layout: what every module of the transport reads. */
export interface RedisContext {
  readonly client: RedisStreamsClient;
  readonly logger: Logger;
  readonly maxLen: number;
  readonly maxAgeMs: number | undefined;
  readonly deadLetterMaxLen: number;
  readonly claimIdleMs: number;
  readonly claimIntervalMs: number;
  readonly blockMs: number;
  readonly batchSize: number;
  readonly highWaterMark: number;
  readonly publishTimeoutMs: number;
  /** The outage buffer's settings, when it is on. */
  readonly buffer: { maxEvents: number; onOverflow: 'reject' | 'drop-oldest' } | undefined;
  /** The replication wait, when it is on. */
  readonly durability: { replicas: number; timeoutMs: number } | undefined;
  /** Whether the client is an ioredis `Cluster`. */
  readonly cluster: boolean;
  /**
   * The group of keys one command may read together: their hash tag on a cluster (the same slot), and one
   * group (`''`) on a single node.
   */
  groupOf(key: string): string;
  /** The stream of one event name (hash tag: the name). */
  eventKey(name: string): string;
  /** The event name of a stream key this transport made with `eventKey`, or `undefined` for any other key. */
  eventName(key: string): string | undefined;
  /** The set of every event name published through this prefix (hash tag: `names`). */
  readonly namesKey: string;
  /** The log of names as they are first published: pattern subscriptions follow new names through it. */
  readonly namesLogKey: string;
  /** A subscription's dead letters from one event name's stream (in that stream's slot). */
  dlqKey(name: string, subscription: string): string;
  /** The stream one event name's replayed dead letters go to, read by the subscription (in that stream's slot). */
  retryKey(name: string, subscription: string): string;
  /** The set of event names a subscription follows: where its dead letters are found (hash tag: the subscription). */
  subscriptionNamesKey(subscription: string): string;
  /** The trimming arguments of an XADD into an event stream (`MAXLEN ~ n` or `MINID ~ t`). */
  trimArgs(): Arg[];
}

/** Checks the options (before any I/O) and applies the defaults. */
export function resolveOptions(options: RedisEventTransportOptions): RedisContext {
  const { client } = options ?? {};
  if (!client || typeof client.call !== 'function' || typeof client.duplicate !== 'function') {
    throw new EventsError(
      EventsErrorCode.INVALID_OPTIONS,
      'redisEventTransport needs { client }: an ioredis instance',
    );
  }
  const prefix = options.keyPrefix ?? 'events:';
  checkPrefix(prefix);
  const cluster = client.isCluster === true;
  const names = new Map<string, string>();
  const maxLen = positiveInt(options.maxLen, 100_000, 'maxLen');
  const maxAgeMs = options.maxAgeMs === undefined ? undefined : positiveInt(options.maxAgeMs, 1, 'maxAgeMs');
  return {
    client,
    logger: options.logger ?? silentLogger,
    maxLen,
    maxAgeMs,
    deadLetterMaxLen: positiveInt(options.deadLetterMaxLen, 10_000, 'deadLetterMaxLen'),
    claimIdleMs: positiveInt(options.claimIdleMs, 30_000, 'claimIdleMs'),
    claimIntervalMs: positiveInt(options.claimIntervalMs, 5_000, 'claimIntervalMs'),
    blockMs: positiveInt(options.blockMs, 5_000, 'blockMs'),
    batchSize: positiveInt(options.batchSize, 200, 'batchSize'),
    highWaterMark: positiveInt(options.highWaterMark, 1_000, 'highWaterMark'),
    publishTimeoutMs: optionCheck.durationMs('publishTimeoutMs', options.publishTimeoutMs ?? 1000, 1),
    buffer:
      options.buffer === undefined
        ? undefined
        : {
            maxEvents: positiveInt(options.buffer.maxEvents, 10_000, 'buffer.maxEvents'),
            onOverflow: optionCheck.oneOf('buffer.onOverflow', options.buffer.onOverflow ?? 'reject', [
              'reject',
              'drop-oldest',
            ]),
          },
    durability: resolveDurability(options.durability),
    cluster,
    groupOf: cluster ? hashTag : () => '',
    // Every key of one stream carries the stream's name as its hash tag: a script or transaction touching a
    // stream and its dead letters stays in one slot, and the streams spread over the shards.
    eventKey: (name) => {
      const key = `${prefix}e:{${tagOf(name)}}`;
      if (names.size < 100_000) names.set(key, name);
      return key;
    },
    eventName: (key) => names.get(key),
    namesKey: `${prefix}{names}`,
    namesLogKey: `${prefix}{names}:log`,
    dlqKey: (name, sub) => `${prefix}dlq:{${tagOf(name)}}:${sub}`,
    retryKey: (name, sub) => `${prefix}retry:{${tagOf(name)}}:${sub}`,
    subscriptionNamesKey: (sub) => `${prefix}sub:{${tagOf(sub)}}:names`,
    trimArgs: () =>
      maxAgeMs === undefined ? ['MAXLEN', '~', maxLen] : ['MINID', '~', Date.now() - maxAgeMs],
  };
}

function resolveDurability(durability: DurabilityOptions | undefined): RedisContext['durability'] {
  if (durability === undefined) return undefined;
  return {
    replicas: positiveInt(durability.replicas, 1, 'durability.replicas'),
    timeoutMs: optionCheck.durationMs('durability.timeoutMs', durability.timeoutMs ?? 500, 1),
  };
}

/**
 * The hash tag of an event (or subscription) name: the name itself, or, when it holds a `}` (which would end
 * the tag early, or leave it empty), a hash of it. Every key of one name carries the same tag.
 */
function tagOf(name: string): string {
  return name.includes('}') ? `#${createHash('sha1').update(name).digest('hex').slice(0, 16)}` : name;
}

/**
 * A prefix with braces must hold a whole, non-empty hash tag (`app:{tenant}:`: every key in that one slot);
 * a lone `{` or an empty `{}` would make Redis hash whole keys, and a stream would leave its dead letters'
 * slot.
 */
function checkPrefix(prefix: string): void {
  const open = prefix.indexOf('{');
  if (open === -1) return;
  const close = prefix.indexOf('}', open + 1);
  if (close === -1 || close === open + 1) {
    throw new EventsError(
      EventsErrorCode.INVALID_OPTIONS,
      `keyPrefix ${JSON.stringify(prefix)} has an unclosed or empty hash tag: leave braces out of it`,
    );
  }
}

/**
 * The part of a key Redis Cluster hashes: the text between the first `{` and the next `}` when not empty,
 * else the whole key.
 */
export function hashTag(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}
