import { type Logger, optionChecks, silentLogger, type Unsubscribe } from '@app/core';
import { EntryCache } from './cache.js';
import { type CacheEntry, readEntry, TypedKeys } from './entries.js';
import { ConfigError, rejectRenamed } from './errors.js';
import { inProcessConfigSync } from './in-process-sync.js';
import type { ServiceInternals } from './internals.js';
import { listEntries } from './list.js';
import { resynchronise } from './resync.js';
import type {
  ConfigInput,
  ConfigListEntry,
  ConfigSchemas,
  ConfigService,
  ConfigServiceOptions,
  ConfigSetOptions,
  ConfigValue,
  ListedValue,
  NoSchemas,
  WatchedValue,
} from './service-types.js';
import { SharedLayer } from './shared-layer.js';
import { SingleFlight, TaskTracker } from './single-flight.js';
import { type ConfigLayer, type ConfigObserver, configObserver } from './telemetry.js';
import type { ConfigRecord, ConfigStore, ConfigSync, ConfigWriteThrough, JsonValue } from './types.js';
import { assertJson, assertKey } from './validate.js';
import { Watchers } from './watchers.js';

const DEFAULT_MAX_ENTRIES = 1000;
const DEFAULT_CACHE_TTL_MS = 30_000;

const check = optionChecks((message) => new ConfigError('INVALID_OPTIONS', message));

/** A store or adapter failure as the caller sees it: `UNAVAILABLE` passes through, anything else is `STORE_ERROR`. */
function storeFailure(error: unknown, message: string): ConfigError {
  if (error instanceof ConfigError && error.code === 'UNAVAILABLE') return error;
  return new ConfigError('STORE_ERROR', message, { cause: error });
}

/** The service: composes the cache, single-flight reads, typed keys, watchers and the shared layer. */
class Service<S extends ConfigSchemas> implements ConfigService<S>, ServiceInternals {
  readonly instanceId: string;
  readonly store: ConfigStore;
  readonly logger: Logger;
  readonly now: () => number;
  readonly cache: EntryCache;
  readonly watchers: Watchers;
  readonly typed: TypedKeys;
  readonly shared: SharedLayer;
  private readonly sync: ConfigSync;
  /** Store-and-share in one step, when the store and the sync share a backend. */
  private readonly through: ConfigWriteThrough | undefined;
  private readonly loads = new SingleFlight<CacheEntry>();
  private readonly background: TaskTracker;
  private readonly stopSync: Unsubscribe;
  private readonly closing = new AbortController();
  private closed = false;
  private readonly observe: ConfigObserver;
  /**
   * The layer that answered a read below the in-process cache, kept only while telemetry records and only
   * until the reading `get` has reported it (so it never grows with the keys read).
   */
  private readonly answeredBy = new Map<string, ConfigLayer>();

  constructor(options: ConfigServiceOptions<S>) {
    if (typeof options?.store?.get !== 'function') {
      throw new ConfigError('INVALID_OPTIONS', 'store is required (e.g. memoryConfigStore())');
    }
    rejectRenamed(options.cache, { ttl: 'ttlMs' }, 'cache');
    const maxEntries = check.positiveInt(
      'cache.maxEntries',
      options.cache?.maxEntries ?? DEFAULT_MAX_ENTRIES,
    );
    const ttlMs = check.positiveInt('cache.ttlMs', options.cache?.ttlMs ?? DEFAULT_CACHE_TTL_MS);
    this.store = options.store;
    this.sync = options.sync ?? inProcessConfigSync();
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.instanceId = options.instanceId ?? `cfg-${Math.random().toString(36).slice(2, 10)}`;
    this.cache = new EntryCache(maxEntries);
    this.watchers = new Watchers(this.logger);
    this.typed = new TypedKeys(options.schemas, this.logger, this.now, ttlMs);
    this.background = new TaskTracker((error) =>
      this.logger.error({ err: error }, '[@app/config] background task failed'),
    );
    this.through = this.store.writeThrough?.(this.sync);
    this.shared = new SharedLayer({
      sync: this.sync,
      store: this.store,
      instanceId: this.instanceId,
      useCache: this.through?.replacesCache !== true,
      logger: this.logger,
      signal: this.closing.signal,
      track: (promise) => this.background.track(promise),
    });
    this.observe = configObserver(options.telemetry);
    this.stopSync = this.sync.subscribe({
      origin: this.instanceId,
      change: (record, origin, sentAt) => this.onRemoteChange(record, origin, sentAt),
      reset: () => this.background.track(resynchronise(this)),
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get<K extends string>(key: K): Promise<ConfigValue<S, K> | undefined>;
  get<K extends string>(key: K, defaultValue: ConfigValue<S, K>): Promise<ConfigValue<S, K>>;
  get(key: string, defaultValue?: unknown): Promise<unknown> {
    // The hot path: a cached key was validated when it was first read, and close() empties the cache.
    const entry = this.cache.get(key);
    try {
      const now = this.now();
      if (entry !== undefined && entry.freshUntil > now) {
        if (this.observe.telemetry.enabled()) this.observe.hit(key);
        return Promise.resolve(readEntry(entry, defaultValue, now));
      }
      this.assertOpen();
      assertKey(key);
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.observe.telemetry.enabled()) {
      return this.observe.miss(
        key,
        () => this.load(key, entry).then((loaded) => readEntry(loaded, defaultValue, this.now())),
        () => {
          const layer = this.answeredBy.get(key) ?? 'store';
          this.answeredBy.delete(key);
          return layer;
        },
      );
    }
    return this.load(key, entry).then((loaded) => readEntry(loaded, defaultValue, this.now()));
  }

  peek<K extends string>(key: K): ConfigValue<S, K> | undefined {
    const entry = this.cache.get(key);
    const now = this.now();
    if (entry === undefined || entry.freshUntil <= now) return undefined;
    return readEntry(entry, undefined, now) as ConfigValue<S, K> | undefined;
  }

  set<K extends string>(key: K, value: ConfigInput<S, K>, options?: ConfigSetOptions): Promise<number> {
    if (!this.observe.telemetry.enabled()) return this.write(key, value, options);
    return this.observe.set(key, () => this.write(key, value, options));
  }

  private async write<K extends string>(
    key: K,
    value: ConfigInput<S, K>,
    options?: ConfigSetOptions,
  ): Promise<number> {
    this.assertOpen();
    assertKey(key);
    if (options !== undefined) {
      rejectRenamed(options, { ttl: 'ttlMs' }, 'set');
      if (options.ttlMs !== undefined) check.positiveInt('ttlMs', options.ttlMs);
    }
    assertJson(value, key);
    const checking = this.typed.checkInput(key, value);
    if (checking) await checking;
    const expiresAt = options?.ttlMs === undefined ? null : this.now() + options.ttlMs;
    let entry: ConfigRecord;
    try {
      entry = this.through
        ? // One step: the store and every instance (the value is serialised, so never shared).
          await this.through.set(key, value as JsonValue, { expiresAt, origin: this.instanceId })
        : // A copy: the store (and, through it, every cache) never shares an object with the caller.
          await this.store.set(key, structuredClone(value) as JsonValue, { expiresAt });
    } catch (error) {
      throw storeFailure(error, `could not write '${key}' to the store`);
    }
    const applying = this.applyRecord(entry);
    if (applying) await applying;
    if (!this.through) await this.shared.share(entry);
    return entry.version;
  }

  async delete(key: string): Promise<boolean> {
    this.assertOpen();
    assertKey(key);
    let tombstone: ConfigRecord | undefined;
    try {
      tombstone = this.through
        ? await this.through.delete(key, { origin: this.instanceId })
        : await this.store.delete(key);
    } catch (error) {
      throw storeFailure(error, `could not delete '${key}' from the store`);
    }
    if (tombstone === undefined) {
      // Nothing was live in the store, so a cached value here could only be stale.
      this.cache.delete(key);
      return false;
    }
    const applying = this.applyRecord(tombstone);
    if (applying) await applying;
    if (!this.through) await this.shared.share(tombstone);
    return true;
  }

  list(prefix: string): Promise<Map<string, ConfigListEntry<ListedValue<S>>>> {
    try {
      this.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    return listEntries<ListedValue<S>>(this, prefix);
  }

  watch<K extends string>(key: K, callback: (value: WatchedValue<S, K>, key: string) => void): Unsubscribe {
    this.assertOpen();
    return this.watchers.add(key, callback as (value: unknown, key: string) => void);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cache.clear();
    this.closing.abort();
    this.stopSync();
    await Promise.allSettled([...this.background.all(), ...this.loads.all()]);
    this.watchers.clear();
    this.shared.clear();
    this.answeredBy.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  load(key: string, stale: CacheEntry | undefined): Promise<CacheEntry> {
    return this.loads.run(key, () =>
      this.fetch(key)
        .then(async (record) => this.apply(key, await this.typed.toEntry(record), false))
        .catch((error: unknown) => {
          if (stale !== undefined && !this.closed) {
            this.answered(key, 'memory');
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
        }),
    );
  }

  apply(key: string, entry: CacheEntry, isChange: boolean): CacheEntry {
    if (this.closed) return entry;
    const { held, stored, hadOlder } = this.cache.put(key, entry);
    // A read that finds a newer version than the cached one is a change whose notification was lost.
    if (stored && (isChange || hadOlder) && !entry.invalid) {
      this.watchers.notify(key, readEntry(entry, undefined, this.now()));
    }
    return held;
  }

  private assertOpen(): void {
    if (this.closed) throw new ConfigError('CLOSED', 'the config service is closed');
  }

  /** Applies this instance's own change to its cache (and watchers). */
  private applyRecord(record: ConfigRecord): Promise<void> | undefined {
    const entry = this.typed.toEntry(record);
    if (entry instanceof Promise) {
      return entry.then((e) => {
        this.apply(record.key, e, true);
      });
    }
    this.apply(record.key, entry, true);
    return undefined;
  }

  private async fetch(key: string): Promise<ConfigRecord> {
    const cached = await this.shared.read(key);
    if (cached !== undefined) {
      this.answered(key, 'shared');
      return cached;
    }
    const stored: ConfigRecord = (await this.store.get(key)) ?? { key, version: 0, deleted: true };
    this.answered(key, 'store');
    this.shared.fill(stored);
    return stored;
  }

  private answered(key: string, layer: ConfigLayer): void {
    if (this.observe.telemetry.enabled()) this.answeredBy.set(key, layer);
  }

  private onRemoteChange(record: ConfigRecord, origin: string, sentAt: number | undefined): void {
    if (this.closed || origin === this.instanceId) return;
    const key = record.key;
    if (this.observe.telemetry.enabled()) this.observe.received(key, record.version, sentAt);
    const current = this.cache.peek(key);
    if (current !== undefined && current.version >= record.version) return;
    // Keys nobody here reads or watches are not worth a cache slot.
    if (current === undefined && !this.loads.has(key) && !this.watchers.covers(key)) return;
    const entry = this.typed.toEntry(record);
    if (entry instanceof Promise) this.background.track(entry.then((e) => this.apply(key, e, true)));
    else this.apply(key, entry, true);
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
