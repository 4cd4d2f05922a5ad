import { Deadlines, type OptionChecks, optionChecks } from '@app/core';
import { ConfigError } from '../../errors.js';
import type { ConfigRecord, JsonValue } from '../../types.js';

/**
 * The subscriber connection made with `client.duplicate()`: the few ioredis methods used. On one node it
 * SUBSCRIBEs (`message` events); on a Cluster it SSUBSCRIBEs (`smessage` events), and `-subscriber` /
 * `subscribersReady` tell when a shard's subscriber was lost and when every shard is subscribed again.
 */
export interface RedisSubscriberLike {
  subscribe(...channels: string[]): Promise<unknown>;
  ssubscribe?(...channels: string[]): Promise<unknown>;
  on(event: 'message' | 'smessage', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready' | '-subscriber' | 'subscribersReady', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  disconnect(): void;
}

/** The user's ioredis client (5.x or 6.x), `Redis` or `Cluster`, typed by the few methods used. */
export interface RedisClientLike {
  /** ioredis' connection state; commands fail fast unless it is `ready`. */
  readonly status?: string;
  /** `true` on an ioredis `Cluster`: keys are spread by hash tag, notifications use sharded pub/sub. */
  readonly isCluster?: boolean;
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
  /** ioredis' event emitter: used to wait for the first connection instead of queueing behind it. */
  once?(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
}

/** Where a `redisConfigSync` keeps what a Redis store on the same client needs to write through it. */
export const SYNC_TARGET = Symbol('@app/config/redis sync target');

/** What a `redisConfigSync` tells a Redis store on the same client, to write through it. */
export interface SyncTarget {
  readonly client: RedisClientLike;
  /** The sync's key prefix (the store writes through only when both prefixes put a key in one slot). */
  readonly keyPrefix: string;
  /** The sync's names of `key`: its cache entry and its change channel (in the slot of its keys). */
  names(key: string): SyncKeyNames;
  /**
   * The first part of a change message, up to and including `"v":` (`keyField` is the key's, from `names`);
   * the script appends the version.
   */
  messageHead(origin: string, keyField: string): string;
  /** The cache entry of `key` is good again (it was corrupt, and the write dropped it). */
  repaired(key: string): void;
}

/** Where `redisConfigSync` caches a key and announces its changes. */
export interface SyncKeyNames {
  readonly cacheKey: string;
  readonly channel: string;
  /** `,"k":<key as JSON>,"v":`: the key's part of a change message. */
  readonly keyField: string;
}

/** Hash fields of one record: v version, t '1' for a tombstone, d JSON value, x expiresAt ('' for never). */
export type RawHash = Record<string, string>;

/** The `t`, `d` and `x` hash fields of a record. */
export function toHashArgs(record: ConfigRecord): [string, string, string] {
  return record.deleted
    ? ['1', '', '']
    : ['0', JSON.stringify(record.value), record.expiresAt === null ? '' : String(record.expiresAt)];
}

/** Parses a record hash; throws on corrupt data. `undefined` for an empty hash. */
export function fromHash(key: string, hash: RawHash): ConfigRecord | undefined {
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

/** The options both Redis adapters share. */
export interface RedisAdapterOptions {
  client: RedisClientLike;
  keyPrefix?: string;
  commandTimeoutMs?: number;
}

/** What both Redis adapters set up from their options: the checked client, prefix and bounded calls. */
export interface RedisAdapterSetup {
  readonly client: RedisClientLike;
  readonly prefix: string;
  readonly call: RedisCall;
  readonly check: OptionChecks;
}

/**
 * Checks the shared options of a Redis adapter before any I/O (`INVALID_OPTIONS`): an ioredis client, a
 * string key prefix, a positive `commandTimeoutMs`; and returns the bounded call every request goes through.
 */
export function redisAdapterSetup(options: RedisAdapterOptions, factory: string): RedisAdapterSetup {
  const client = options?.client;
  if (typeof (client as RedisClientLike | undefined)?.evalsha !== 'function') {
    throw new ConfigError('INVALID_OPTIONS', `${factory}: option 'client' must be an ioredis client`);
  }
  const prefix = options.keyPrefix ?? 'config:';
  if (typeof prefix !== 'string')
    throw new ConfigError('INVALID_OPTIONS', `${factory}: keyPrefix must be a string`);
  const check = optionChecks((message) => new ConfigError('INVALID_OPTIONS', `${factory}: ${message}`));
  const call = boundedCalls(client, check.positiveInt('commandTimeoutMs', options.commandTimeoutMs ?? 1000));
  return { client, prefix, call, check };
}

/** ioredis states in which a command would wait in the offline queue for a reconnect. */
const DOWN = new Set(['reconnecting', 'close', 'end']);
/** ioredis states of a first connection (or a reconnect attempt) under way. */
const CONNECTING = new Set(['connecting', 'connect']);

/**
 * Runs one Redis request-path call within `commandTimeoutMs`, or fails with `UNAVAILABLE`; `map` turns the
 * reply into the result in the same step.
 */
export type RedisCall = <T, R = T>(what: string, run: () => Promise<T>, map?: (reply: T) => R) => Promise<R>;

/**
 * The bound every request-path Redis call of the config adapters goes through:
 * - while ioredis waits to reconnect (`reconnecting`, `close`, `end`), the call is not sent at all (it
 *   would sit in the offline queue and run after the reconnect): it fails at once with `UNAVAILABLE`;
 * - while a connection is being made (`connecting`, `connect`), it waits for `ready` within the bound and is
 *   sent only then, so a call that failed was never sent;
 * - a call that was sent and got no answer within `commandTimeoutMs` fails with `UNAVAILABLE` (a hung or
 *   unreachable server; the command itself may still run on the server when it recovers). One timer sweeps
 *   the calls in flight, so the failure comes between 1x and 1.25x `commandTimeoutMs` after the send.
 */
export function boundedCalls(client: RedisClientLike, commandTimeoutMs: number): RedisCall {
  const unavailable = (what: string, why: string) =>
    new ConfigError('UNAVAILABLE', `Redis ${what} failed: ${why} (commandTimeoutMs ${commandTimeoutMs})`);
  // One swept timer bounds every call (a call times out between 1x and 1.25x the bound), not a timer each.
  const deadlines = new Deadlines(commandTimeoutMs, () => unavailable('call', 'no answer in time'));
  return <T, R = T>(what: string, run: () => Promise<T>, map?: (reply: T) => R): Promise<R> => {
    const status = client.status;
    if (status !== undefined && DOWN.has(status))
      return Promise.reject(unavailable(what, `Redis is ${status}`));
    if (status !== undefined && CONNECTING.has(status) && client.once && client.removeListener) {
      const ready = whenReady(client, commandTimeoutMs, run, () =>
        unavailable(what, 'no connection in time'),
      );
      return map === undefined ? (ready as unknown as Promise<R>) : ready.then(map);
    }
    let work: Promise<T>;
    try {
      work = run();
    } catch (error) {
      return Promise.reject(error);
    }
    return deadlines.run(work, map, undefined, () => unavailable(what, 'no answer in time'));
  };
}

/** Sends `run` once the client is ready, all within `ms`; never sends it after the deadline. */
function whenReady<T>(
  client: RedisClientLike,
  ms: number,
  run: () => Promise<T>,
  timeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const finish = (settle: () => void) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      settle();
    };
    const onReady = () => {
      if (done) return;
      let work: Promise<T>;
      try {
        work = run();
      } catch (error) {
        finish(() => reject(error));
        return;
      }
      work.then(
        (value) => finish(() => resolve(value)),
        (error: unknown) => finish(() => reject(error)),
      );
    };
    const timer = setTimeout(() => {
      client.removeListener?.('ready', onReady);
      finish(() => reject(timeout()));
    }, ms);
    timer.unref?.();
    client.once?.('ready', onReady);
  });
}
