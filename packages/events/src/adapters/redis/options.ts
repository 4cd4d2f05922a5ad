import { type Logger, type ScriptClient, silentLogger } from '@app/core';
import { EventsError, EventsErrorCode } from '../../errors.js';
import { positiveInt } from '../../internal/validate.js';

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
}

/** Options of {@link redisEventTransport}. */
export interface RedisEventTransportOptions {
  /** An ioredis client (without ioredis' own `keyPrefix` option). It stays yours: `close()` does not quit it. */
  client: RedisStreamsClient;
  /** Prefix of every key the transport writes. @default 'events:' */
  keyPrefix?: string;
  /** Approximate cap on each event's stream (`XADD MAXLEN ~`). Ignored when `maxAgeMs` is set. @default 100000 */
  maxLen?: number;
  /** Keep roughly this much time in each stream instead (`XADD MINID ~`), in ms. @default undefined */
  maxAgeMs?: number;
  /** Approximate cap on each subscription's dead-letter stream. @default 10000 */
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
  /** The stream of one event name. */
  eventKey(name: string): string;
  /** The set of every event name published through this prefix. */
  readonly namesKey: string;
  /** The log of names as they are first published: pattern subscriptions follow new names through it. */
  readonly namesLogKey: string;
  /** A subscription's dead letters. */
  dlqKey(subscription: string): string;
  /** The stream replayed dead letters go to, read by the subscription beside its event streams. */
  retryKey(subscription: string): string;
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
    eventKey: (name) => `${prefix}e:${name}`,
    namesKey: `${prefix}names`,
    namesLogKey: `${prefix}names:log`,
    dlqKey: (sub) => `${prefix}dlq:${sub}`,
    retryKey: (sub) => `${prefix}retry:${sub}`,
    trimArgs: () =>
      maxAgeMs === undefined ? ['MAXLEN', '~', maxLen] : ['MINID', '~', Date.now() - maxAgeMs],
  };
}
