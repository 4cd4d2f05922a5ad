import { ConfigError } from '../../errors.js';
import type { ConfigRecord, JsonValue } from '../../types.js';

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

/** Throws `INVALID_OPTIONS` unless `client` looks like an ioredis client. */
export function requireClient(client: unknown, factory: string): asserts client is RedisClientLike {
  if (typeof (client as RedisClientLike | undefined)?.evalsha !== 'function') {
    throw new ConfigError('INVALID_OPTIONS', `${factory}: option 'client' must be an ioredis client`);
  }
}

/** The key prefix option, checked. */
export function checkPrefix(keyPrefix: unknown, factory: string): string {
  if (typeof keyPrefix !== 'string')
    throw new ConfigError('INVALID_OPTIONS', `${factory}: keyPrefix must be a string`);
  return keyPrefix;
}
