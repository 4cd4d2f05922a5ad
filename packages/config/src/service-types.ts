import type {
  Closeable,
  ConfigSource,
  Logger,
  StandardSchemaV1,
  TelemetrySetting,
  Unsubscribe,
} from '@app/core';
import type { ConfigStore, ConfigSync, JsonValue } from './types.js';

/** Schemas of typed keys, declared once: `{ 'email.provider': z.enum(['ses', 'sendgrid']) }`. */
export type ConfigSchemas = Record<string, StandardSchemaV1>;

/** No typed keys. */
export type NoSchemas = Record<never, never>;

/** What `get` resolves to for `K`: the schema's output for a typed key, JSON otherwise. */
export type ConfigValue<S extends ConfigSchemas, K extends string> = K extends keyof S
  ? StandardSchemaV1.InferOutput<S[K]>
  : JsonValue;

/** What `set` accepts for `K`: the schema's input for a typed key, JSON otherwise. */
export type ConfigInput<S extends ConfigSchemas, K extends string> = K extends keyof S
  ? StandardSchemaV1.InferInput<S[K]>
  : JsonValue;

/** What a watch callback receives for a key or pattern: `undefined` after a delete or an expiry. */
export type WatchedValue<S extends ConfigSchemas, K extends string> = K extends `${string}*` | `${string}.`
  ? unknown
  : ConfigValue<S, K> | undefined;

/**
 * What {@link ConfigService.list} values can be: JSON, or for typed keys their schema's output (a prefix can
 * cover typed and untyped keys alike).
 */
export type ListedValue<S extends ConfigSchemas> =
  | JsonValue
  | { [K in keyof S]: StandardSchemaV1.InferOutput<S[K]> }[keyof S];

/** One live entry returned by {@link ConfigService.list}. */
export interface ConfigListEntry<V = unknown> {
  /** The value: the schema's output for a typed key, the frozen JSON otherwise. */
  readonly value: V;
  /** The entry's version in the store (grows on every `set` and `delete` of the key). */
  readonly version: number;
  /** When the value expires (epoch ms), or `null` when it never does. */
  readonly expiresAt: number | null;
}

/** Options of {@link ConfigService.set}. */
export interface ConfigSetOptions {
  /** The value stops applying after this many ms (then `get` returns the default). @default undefined (never) */
  ttlMs?: number;
}

/** Bounds of the in-process cache. */
export interface ConfigCacheOptions {
  /** Most entries kept; the least recently used go first (second-chance approximation). Deleted keys count too. @default 1000 */
  maxEntries?: number;
  /** How long an entry is served before it is read again from the shared cache or the store, in ms. @default 30000 */
  ttlMs?: number;
}

/** Options of {@link createConfigService}. */
export interface ConfigServiceOptions<S extends ConfigSchemas = NoSchemas> {
  /** The durable source of truth: `memoryConfigStore()`, `prismaConfigStore({ prisma })`, or your own. */
  store: ConfigStore;
  /**
   * How instances share changes (and optionally a shared cache): `redisConfigSync({ client })` across
   * processes, `inProcessConfigSync()` across services in one process. @default a private in-process sync
   */
  sync?: ConfigSync;
  /** Typed keys: values are validated with these Standard Schemas on `set` and on every read. @default {} */
  schemas?: S;
  /** Bounds of the in-process cache. @default { maxEntries: 1000, ttlMs: 30000 } */
  cache?: ConfigCacheOptions;
  /** Where warnings (shared layer down, corrupt cache entries, failing watchers) go. @default silent */
  logger?: Logger;
  /** The clock, in epoch ms; inject one in tests. @default Date.now */
  now?: () => number;
  /** This instance's id in change notifications. @default a random id */
  instanceId?: string;
  /**
   * OpenTelemetry: `app.config.get` / `app.config.set` / `app.config.propagation` spans and the
   * `app.config.cache.lookups` and `app.config.propagation.delay` metrics (see docs/observability.md);
   * `false` turns them off. Free when `@opentelemetry/api` is absent or no SDK is registered.
   * @default the global tracer and meter providers
   */
  telemetry?: TelemetrySetting;
}

/**
 * Runtime configuration every instance sees. Satisfies `ConfigSource` from `@app/core`, so `@app/di` and
 * `@app/flags` can read and watch it.
 */
export interface ConfigService<S extends ConfigSchemas = NoSchemas> extends ConfigSource, Closeable {
  /** This instance's id in change notifications. */
  readonly instanceId: string;
  /** The current value, or `undefined` when the key is not set (or deleted, or expired). */
  get<K extends string>(key: K): Promise<ConfigValue<S, K> | undefined>;
  /** The current value, or `defaultValue` when the key is not set. */
  get<K extends string>(key: K, defaultValue: ConfigValue<S, K>): Promise<ConfigValue<S, K>>;
  /** The value in the in-process cache, without I/O: `undefined` when not cached, stale, or not set. */
  peek<K extends string>(key: K): ConfigValue<S, K> | undefined;
  /** Validates, writes to the store, updates every cache and notifies every instance. Resolves to the new version. */
  set<K extends string>(key: K, value: ConfigInput<S, K>, options?: ConfigSetOptions): Promise<number>;
  /** Deletes the key everywhere. Resolves to `false` when it was not set. */
  delete(key: string): Promise<boolean>;
  /**
   * Every live entry whose key starts with `prefix` (taken literally, no wildcards), read from the store,
   * the source of truth: deleted and expired keys are left out. Resolves to a new `Map` from key to
   * `{ value, version, expiresAt }`, in key order.
   *
   * The prefix is checked like a key (`INVALID_KEY` before any I/O). A typed key whose stored value fails
   * its schema makes the call reject with `INVALID_VALUE`, as `get` of that key would. Keys already in the
   * in-process cache are refreshed when the store holds a newer version (their watchers are called, as for
   * any change this instance had missed); watched keys are cached as a `get` would cache them; other keys
   * are not cached, so listing never evicts hot keys for keys nobody follows.
   *
   * @example
   * ```ts
   * await config.set('email.provider', 'ses');
   * await config.set('email.retries', 3);
   * const email = await config.list('email.');
   * for (const [key, { value, version }] of email) console.log(key, value, version);
   * // email.provider ses 1
   * // email.retries 3 1
   * ```
   */
  list(prefix: string): Promise<Map<string, ConfigListEntry<ListedValue<S>>>>;
  /**
   * Calls `callback` after `key` changes on any instance, or any key under a pattern ending with `*` or `.`
   * (`'email.*'`, `'email.'`). Returns the function that stops watching.
   */
  watch<K extends string>(key: K, callback: (value: WatchedValue<S, K>, key: string) => void): Unsubscribe;
  /** Stops listening for changes and empties the cache. The store's and Redis' clients stay yours to close. */
  close(): Promise<void>;
}
