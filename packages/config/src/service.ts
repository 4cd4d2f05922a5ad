import {
  type ConfigSource,
  type Logger,
  retry,
  type StandardSchemaV1,
  silentLogger,
  type Unsubscribe,
  validateWithSchema,
} from '@app/core';
import { ConfigError } from './errors.js';
import { inProcessConfigSync } from './in-process-sync.js';
import { Lru } from './lru.js';
import type { ConfigEntry, ConfigRecord, ConfigStore, ConfigSync, JsonValue } from './types.js';
import { assertJson, assertKey } from './validate.js';

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
  ttl?: number;
}

/** Bounds of the in-process cache. */
export interface ConfigCacheOptions {
  /** Most entries kept; the least recently used go first (second-chance approximation). Deleted keys count too. @default 1000 */
  maxEntries?: number;
  /** How long an entry is served before it is read again from the shared cache or the store, in ms. @default 30000 */
  ttl?: number;
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
  /** Bounds of the in-process cache. @default { maxEntries: 1000, ttl: 30000 } */
  cache?: ConfigCacheOptions;
  /** Where warnings (shared layer down, corrupt cache entries, failing watchers) go. @default silent */
  logger?: Logger;
  /** The clock, in epoch ms; inject one in tests. @default Date.now */
  now?: () => number;
  /** This instance's id in change notifications. @default a random id */
  instanceId?: string;
}

/**
 * Runtime configuration every instance sees. Satisfies `ConfigSource` from `@app/core`, so `@app/di` and
 * `@app/flags` can read and watch it.
 */
export interface ConfigService<S extends ConfigSchemas = NoSchemas> extends ConfigSource, AsyncDisposable {
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

interface CacheEntry {
  readonly version: number;
  readonly deleted: boolean;
  /** Parsed (schema output) for typed keys, the frozen JSON otherwise. */
  readonly value: unknown;
  /** Set when a typed key's stored value fails its schema: reads throw it. */
  readonly invalid: ConfigError | undefined;
  readonly valueExpiresAt: number | null;
  freshUntil: number;
}

type WatchCallback = (value: unknown, key: string) => void;

const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_CACHE_TTL = 30_000;
const MAX_PENDING = 10_000;
/** About 3 s in all, jittered. */
const PENDING_RETRY = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1000 } as const;

function positiveInteger(value: unknown, name: string): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError('INVALID_OPTIONS', `${name} must be a positive integer`);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** The prefix a watch pattern stands for, or `undefined` for an exact key. */
function patternPrefix(key: string): string | undefined {
  if (key.endsWith('*')) return key.slice(0, -1);
  if (key.endsWith('.')) return key;
  return undefined;
}

class Service<S extends ConfigSchemas> implements ConfigService<S> {
  readonly instanceId: string;
  private readonly store: ConfigStore;
  private readonly sync: ConfigSync;
  private readonly schemas: S | undefined;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly ttl: number;
  private readonly cache: Lru<CacheEntry>;
  private readonly inflight = new Map<string, Promise<CacheEntry>>();
  private readonly exactWatchers = new Map<string, Set<WatchCallback>>();
  private readonly prefixWatchers = new Map<string, Set<WatchCallback>>();
  /** Keys whose change reached the store but not the shared layer: replayed when it is back. */
  private readonly pending = new Set<string>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly stopSync: Unsubscribe;
  private readonly closing = new AbortController();
  private sharedDown = false;
  private replaying = false;
  private closed = false;

  constructor(options: ConfigServiceOptions<S>) {
    if (typeof options?.store?.get !== 'function') {
      throw new ConfigError('INVALID_OPTIONS', 'store is required (e.g. memoryConfigStore())');
    }
    const maxEntries = options.cache?.maxEntries ?? DEFAULT_MAX_ENTRIES;
    const ttl = options.cache?.ttl ?? DEFAULT_CACHE_TTL;
    positiveInteger(maxEntries, 'cache.maxEntries');
    positiveInteger(ttl, 'cache.ttl');
    this.store = options.store;
    this.sync = options.sync ?? inProcessConfigSync();
    this.schemas = options.schemas;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.ttl = ttl;
    this.cache = new Lru(maxEntries);
    this.instanceId = options.instanceId ?? `cfg-${Math.random().toString(36).slice(2, 10)}`;
    this.stopSync = this.sync.subscribe({
      change: (record, origin) => this.onRemoteChange(record, origin),
      reset: () => this.track(this.onReset()),
    });
  }

  get<K extends string>(key: K): Promise<ConfigValue<S, K> | undefined>;
  get<K extends string>(key: K, defaultValue: ConfigValue<S, K>): Promise<ConfigValue<S, K>>;
  get(key: string, defaultValue?: unknown): Promise<unknown> {
    // The hot path: a cached key was validated when it was first read, and close() empties the cache.
    const entry = this.cache.get(key);
    try {
      if (entry !== undefined && entry.freshUntil > this.now())
        return Promise.resolve(this.read(entry, defaultValue));
      this.assertOpen();
      assertKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.load(key, entry).then((loaded) => this.read(loaded, defaultValue));
  }

  peek<K extends string>(key: K): ConfigValue<S, K> | undefined {
    const entry = this.cache.get(key);
    if (entry === undefined || entry.freshUntil <= this.now()) return undefined;
    return this.read(entry, undefined) as ConfigValue<S, K> | undefined;
  }

  async set<K extends string>(key: K, value: ConfigInput<S, K>, options?: ConfigSetOptions): Promise<number> {
    this.assertOpen();
    assertKey(key);
    if (options?.ttl !== undefined) positiveInteger(options.ttl, 'ttl');
    assertJson(value, key);
    const schema = this.schemas?.[key];
    if (schema) {
      const result = await validateWithSchema(schema, value);
      if (!result.ok) {
        throw new ConfigError(
          'INVALID_VALUE',
          `value of '${key}' fails its schema: ${result.issues.join('; ')}`,
          {
            issues: result.issues,
          },
        );
      }
    }
    const expiresAt = options?.ttl === undefined ? null : this.now() + options.ttl;
    let entry: ConfigRecord;
    try {
      // A copy: the store (and, through it, every cache) never shares an object with the caller.
      entry = await this.store.set(key, structuredClone(value) as JsonValue, { expiresAt });
    } catch (error) {
      throw new ConfigError('STORE_ERROR', `could not write '${key}' to the store`, { cause: error });
    }
    this.apply(key, await this.toEntry(entry), true);
    await this.share(entry);
    return entry.version;
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    assertKey(key);
    let tombstone: ConfigRecord | undefined;
    try {
      tombstone = await this.store.delete(key);
    } catch (error) {
      throw new ConfigError('STORE_ERROR', `could not delete '${key}' from the store`, { cause: error });
    }
    if (tombstone === undefined) {
      // Nothing was live in the store, so a cached value here could only be stale.
      this.cache.delete(key);
      return false;
    }
    this.apply(key, await this.toEntry(tombstone), true);
    await this.share(tombstone);
    return true;
  }

  async list(prefix: string): Promise<Map<string, ConfigListEntry<ListedValue<S>>>> {
    this.assertOpen();
    assertKey(prefix, 'prefix');
    let entries: ConfigEntry[];
    try {
      entries = await this.store.list(prefix);
    } catch (error) {
      throw new ConfigError('STORE_ERROR', `could not list '${prefix}' from the store`, { cause: error });
    }
    const now = this.now();
    const out = new Map<string, ConfigListEntry<ListedValue<S>>>();
    // Code-unit order, whatever the database's collation.
    const sorted = [...entries].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (const entry of sorted) {
      // The store only returns live entries under the prefix; the service still decides expiry (stores never
      // read the clock), and a foreign store that lists too much must not leak other keys.
      if (!entry.key.startsWith(prefix) || (entry.expiresAt !== null && entry.expiresAt <= now)) continue;
      const cached = await this.toEntry(entry);
      if (cached.invalid) throw cached.invalid;
      // Cached keys are refreshed; watched ones are cached as a get would, so a reconnect re-reads them.
      if (this.cache.peek(entry.key) !== undefined || this.isWatched(entry.key)) {
        this.apply(entry.key, cached, false);
      }
      out.set(
        entry.key,
        Object.freeze({
          value: cached.value as ListedValue<S>,
          version: entry.version,
          expiresAt: entry.expiresAt,
        }),
      );
    }
    return out;
  }

  watch<K extends string>(key: K, callback: (value: WatchedValue<S, K>, key: string) => void): Unsubscribe {
    this.assertOpen();
    const prefix = patternPrefix(key);
    if (prefix === undefined) assertKey(key);
    const map = prefix === undefined ? this.exactWatchers : this.prefixWatchers;
    const slot = prefix ?? key;
    let set = map.get(slot);
    if (!set) {
      set = new Set();
      map.set(slot, set);
    }
    // A wrapper per call, so watching twice with one function makes two watches that stop separately.
    const cb: WatchCallback = (value, changed) => callback(value as WatchedValue<S, K>, changed);
    set.add(cb);
    return () => {
      const current = map.get(slot);
      if (!current) return;
      current.delete(cb);
      if (current.size === 0) map.delete(slot);
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    this.closing.abort();
    this.stopSync();
    await Promise.allSettled([...this.background, ...this.inflight.values()]);
    this.exactWatchers.clear();
    this.prefixWatchers.clear();
    this.pending.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new ConfigError('CLOSED', 'the config service is closed');
  }

  private read(entry: CacheEntry, defaultValue: unknown): unknown {
    if (entry.deleted || (entry.valueExpiresAt !== null && entry.valueExpiresAt <= this.now()))
      return defaultValue;
    if (entry.invalid) throw entry.invalid;
    return entry.value;
  }

  /** Reads a key below the in-process cache, once however many callers wait for it. */
  private load(key: string, stale: CacheEntry | undefined): Promise<CacheEntry> {
    const running = this.inflight.get(key);
    if (running) return running;
    const promise = this.fetch(key)
      .then(async (record) => this.apply(key, await this.toEntry(record), false))
      .catch((error: unknown) => {
        if (stale !== undefined && !this.closed) {
          // Better an old value than none while the store is unreachable; the next read tries again.
          this.logger.warn(
            { err: error, key },
            '[@app/config] store unreachable: serving the stale cached value',
          );
          return stale;
        }
        throw error instanceof ConfigError
          ? error
          : new ConfigError('STORE_ERROR', `could not read '${key}' from the store`, { cause: error });
      })
      .finally(() => {
        if (this.inflight.get(key) === promise) this.inflight.delete(key);
      });
    this.inflight.set(key, promise);
    return promise;
  }

  private async fetch(key: string): Promise<ConfigRecord> {
    if (this.sync.read) {
      try {
        const cached = await this.sync.read(key);
        this.sharedUp();
        if (cached !== undefined) return cached;
      } catch (error) {
        this.sharedFailed(error, key);
      }
    }
    const stored: ConfigRecord = (await this.store.get(key)) ?? { key, version: 0, deleted: true };
    if (this.sync.read && !this.sharedDown) {
      // Fill the shared cache for the other instances without making this caller wait for it.
      this.track(
        this.sync
          .write(stored, { publish: false, origin: this.instanceId })
          .catch((error: unknown) => this.sharedFailed(error, key)),
      );
    }
    return stored;
  }

  /** Turns a record into a cache entry, validating typed keys. */
  private async toEntry(record: ConfigRecord): Promise<CacheEntry> {
    const freshUntil = this.now() + this.ttl;
    if (record.deleted) {
      return {
        version: record.version,
        deleted: true,
        value: undefined,
        invalid: undefined,
        valueExpiresAt: null,
        freshUntil,
      };
    }
    const schema = this.schemas?.[record.key];
    let value: unknown = deepFreeze(record.value);
    let invalid: ConfigError | undefined;
    if (schema) {
      const result = await validateWithSchema(schema, record.value);
      if (result.ok) value = result.value;
      else {
        invalid = new ConfigError(
          'INVALID_VALUE',
          `stored value of '${record.key}' (version ${record.version}) fails its schema: ${result.issues.join('; ')}`,
          { issues: result.issues },
        );
        this.logger.error(
          { key: record.key, version: record.version, issues: result.issues },
          invalid.message,
        );
      }
    }
    return {
      version: record.version,
      deleted: false,
      value,
      invalid,
      valueExpiresAt: record.expiresAt,
      freshUntil,
    };
  }

  /**
   * Puts an entry in the cache unless the cache holds a newer version, and tells the watchers when the key
   * changed. Returns the entry the cache holds afterwards.
   */
  private apply(key: string, entry: CacheEntry, isChange: boolean): CacheEntry {
    if (this.closed) return entry;
    const current = this.cache.peek(key);
    if (current !== undefined && current.version >= entry.version) {
      if (current.version === entry.version)
        current.freshUntil = Math.max(current.freshUntil, entry.freshUntil);
      return current;
    }
    this.cache.set(key, entry);
    // A read that finds a newer version than the cached one is a change whose notification was lost.
    if (isChange || current !== undefined) this.notify(key, entry);
    return entry;
  }

  private onRemoteChange(record: ConfigRecord, origin: string): void {
    if (this.closed || origin === this.instanceId) return;
    const key = record.key;
    const current = this.cache.peek(key);
    if (current !== undefined && current.version >= record.version) return;
    // Keys nobody here reads or watches are not worth a cache slot.
    if (current === undefined && !this.inflight.has(key) && !this.isWatched(key)) return;
    this.track(this.toEntry(record).then((entry) => this.apply(key, entry, true)));
  }

  private isWatched(key: string): boolean {
    if (this.exactWatchers.has(key)) return true;
    for (const prefix of this.prefixWatchers.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  private notify(key: string, entry: CacheEntry): void {
    if (entry.invalid) return;
    const value = this.read(entry, undefined);
    const callbacks: WatchCallback[] = [...(this.exactWatchers.get(key) ?? [])];
    for (const [prefix, set] of this.prefixWatchers) if (key.startsWith(prefix)) callbacks.push(...set);
    for (const cb of callbacks) {
      try {
        cb(value, key);
      } catch (error) {
        this.logger.error({ err: error, key }, '[@app/config] a watch callback threw');
      }
    }
  }

  /** Hands a change to the shared layer; when it is down, the store has it and it is replayed later. */
  private async share(record: ConfigRecord): Promise<void> {
    try {
      await this.sync.write(record, { publish: true, origin: this.instanceId });
      this.pending.delete(record.key);
      this.sharedUp();
    } catch (error) {
      if (this.pending.size < MAX_PENDING) this.pending.add(record.key);
      this.sharedDown = true;
      this.logger.warn(
        { err: error, key: record.key, version: record.version },
        '[@app/config] shared layer unreachable: the change is saved in the store and will be shared when it is back',
      );
    }
  }

  private sharedFailed(error: unknown, key: string): void {
    if (!this.sharedDown) {
      this.sharedDown = true;
      this.logger.warn({ err: error, key }, '[@app/config] shared layer unreachable: reading from the store');
    }
  }

  private sharedUp(): void {
    if (this.sharedDown) {
      this.sharedDown = false;
      this.logger.info({}, '[@app/config] shared layer reachable again');
      if (this.pending.size > 0 && !this.closed) this.track(this.replayPending());
    }
  }

  /**
   * Notifications may have been missed: forget the cache, replay changes not yet shared, and re-read what is
   * watched. Watched entries stay as stale markers (never served) so the re-read can tell whether they changed.
   */
  private async onReset(): Promise<void> {
    if (this.closed) return;
    const watched: string[] = [];
    for (const [key, entry] of [...this.cache.entries()]) {
      if (this.isWatched(key)) {
        entry.freshUntil = Number.NEGATIVE_INFINITY;
        watched.push(key);
      } else {
        this.cache.delete(key);
      }
    }
    this.sharedUp();
    this.logger.info(
      { watched: watched.length, pending: this.pending.size },
      '[@app/config] resynchronising',
    );
    await this.replayPending();
    for (const key of watched) {
      if (this.closed) return;
      // apply() notifies when the re-read finds a newer version than the stale marker.
      await this.load(key, undefined).catch((error: unknown) => {
        this.logger.warn({ err: error, key }, '[@app/config] could not re-read a watched key');
      });
    }
    // A key created while notifications were lost is in no cache: list what the prefix watchers cover.
    for (const prefix of [...this.prefixWatchers.keys()]) {
      if (this.closed) return;
      let listed: ConfigEntry[];
      try {
        listed = await this.store.list(prefix);
      } catch (error) {
        this.logger.warn({ err: error, prefix }, '[@app/config] could not re-list a watched prefix');
        continue;
      }
      const now = this.now();
      for (const record of listed) {
        if (this.closed) return;
        if (!record.key.startsWith(prefix) || (record.expiresAt !== null && record.expiresAt <= now))
          continue;
        const known = this.cache.peek(record.key) !== undefined;
        // Not cached: new to this instance (or evicted), so its watchers hear about it.
        this.apply(record.key, await this.toEntry(record), !known);
      }
    }
  }

  /** Shares the changes that reached the store while the shared layer was down. One replay at a time. */
  private async replayPending(): Promise<void> {
    if (this.replaying || this.pending.size === 0) return;
    this.replaying = true;
    try {
      for (const key of [...this.pending]) {
        try {
          // The subscriber can be back a moment before the command connection: retry briefly.
          await retry(
            async () => {
              const record = (await this.store.get(key)) ?? { key, version: 0, deleted: true as const };
              await this.sync.write(record, { publish: true, origin: this.instanceId, force: true });
            },
            { ...PENDING_RETRY, signal: this.closing.signal },
          );
          this.pending.delete(key);
        } catch (error) {
          if (this.closed) return;
          this.logger.warn({ err: error, key }, '[@app/config] could not share a pending change yet');
        }
      }
    } finally {
      this.replaying = false;
    }
  }

  private track(promise: Promise<unknown>): void {
    const tracked = promise.catch((error: unknown) => {
      this.logger.error({ err: error }, '[@app/config] background task failed');
    });
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }
}

/**
 * Creates the configuration service: reads go through an in-process cache (LRU + TTL), then the shared
 * cache of `sync` (Redis), then the store, with one read per cold key however many callers wait; writes go
 * to the store first, then to every cache and every instance.
 *
 * @example
 * ```ts
 * import { createConfigService } from '@app/config';
 * import { memoryConfigStore } from '@app/config/memory';
 * import { z } from 'zod';
 *
 * const config = createConfigService({
 *   store: memoryConfigStore(),
 *   schemas: { 'email.provider': z.enum(['ses', 'sendgrid']) },
 * });
 * await config.set('email.provider', 'ses');
 * const provider = await config.get('email.provider'); // 'ses' | 'sendgrid' | undefined
 * ```
 */
export function createConfigService<S extends ConfigSchemas = NoSchemas>(
  options: ConfigServiceOptions<S>,
): ConfigService<S> {
  return new Service(options);
}
