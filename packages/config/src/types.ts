import type { Closeable, Unsubscribe } from '@app/core';

/** A JSON value: what a configuration entry holds. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A live configuration entry as a {@link ConfigStore} keeps it. */
export interface ConfigEntry {
  readonly key: string;
  readonly value: JsonValue;
  /** Grows by at least 1 on every `set` and `delete` of this key, and never goes back. */
  readonly version: number;
  /** When the value stops applying (epoch ms), or `null` when it never does. */
  readonly expiresAt: number | null;
  readonly deleted: false;
}

/** What is left of a deleted key: its last version, so that no cache accepts an older value afterwards. */
export interface ConfigTombstone {
  readonly key: string;
  readonly version: number;
  readonly deleted: true;
}

/** A key's state with its version: a live entry or a tombstone. */
export type ConfigRecord = ConfigEntry | ConfigTombstone;

/** Options of {@link ConfigStore.set}. */
export interface StoreSetOptions {
  /** When the value stops applying (epoch ms). @default null (never) */
  expiresAt?: number | null;
}

/**
 * The durable source of truth of configuration entries. Adapters: `memoryConfigStore()` (`@app/config/memory`),
 * `redisConfigStore()` (`@app/config/redis`), `prismaConfigStore()` (`@app/config/prisma`). Prove your own
 * with `configStoreContract` from `@app/config/testing`.
 *
 * Stores do not read the clock: they persist `expiresAt`, and the service decides when an entry has expired.
 * `close()` releases what the store itself holds; a client you passed in stays yours to close.
 */
export interface ConfigStore extends Closeable {
  /** The key's record: a live entry, a tombstone after `delete`, or `undefined` when it was never set. */
  get(key: string): Promise<ConfigRecord | undefined>;
  /** Writes the value and returns the entry with its new version (greater than any before, tombstones included). */
  set(key: string, value: JsonValue, options?: StoreSetOptions): Promise<ConfigEntry>;
  /** Replaces a live entry by a tombstone with a new version and returns it; `undefined` when there was no live entry. */
  delete(key: string): Promise<ConfigTombstone | undefined>;
  /** Live entries whose key starts with `prefix` (taken literally), ordered by key. */
  list(prefix: string): Promise<ConfigEntry[]>;
  /**
   * Optional: when this store and `sync` live on one backend (`redisConfigStore` and `redisConfigSync` on one
   * client), writes that update the store (and the shared cache) and notify every instance in one atomic step
   * (one round trip, nothing half-written). The service then uses them instead of a store write followed by a
   * sync write. `undefined` when they do not share a backend.
   * @default undefined
   */
  writeThrough?(sync: ConfigSync): ConfigWriteThrough | undefined;
}

/**
 * Store-and-share writes from {@link ConfigStore.writeThrough}: each writes the store, updates the shared
 * cache (or, with `replacesCache`, drops its copy) and publishes the change (with `origin`) atomically, and
 * resolves like the store's own write.
 */
export interface ConfigWriteThrough {
  /**
   * True when the store lives where the shared cache does (a Redis store on the sync's own client), so a
   * store read costs what a cache read would: the service then reads the store directly and never fills the
   * cache, and these writes drop a key's cached copy instead of updating it. @default false
   */
  readonly replacesCache?: boolean;
  /** Like {@link ConfigStore.set}; the value is serialised, never kept by reference. */
  set(
    key: string,
    value: JsonValue,
    options: { expiresAt: number | null; origin: string },
  ): Promise<ConfigEntry>;
  /** Like {@link ConfigStore.delete}. */
  delete(key: string, options: { origin: string }): Promise<ConfigTombstone | undefined>;
}

/** Receives changes from a {@link ConfigSync}. */
export interface ConfigSyncListener {
  /**
   * The listening service's own `instanceId`: a sync may drop messages from this origin without decoding
   * them (the service ignores its own changes anyway). @default undefined (every message is delivered)
   */
  readonly origin?: string;
  /**
   * A key changed on some instance (`origin` is that service's `instanceId`; `sentAt`, when the sync
   * carries it, the writer's clock when it published, in epoch ms).
   */
  change(record: ConfigRecord, origin: string, sentAt?: number): void;
  /**
   * Notifications may have been lost (the subscriber reconnected): the service flushes its in-process cache
   * and re-reads what its watchers watch.
   */
  reset(): void;
}

/**
 * How instances share changes: a change notifier and, optionally, a shared cache in front of the store.
 * `inProcessConfigSync()` (from `@app/config`) connects services of one process; `redisConfigSync()`
 * (from `@app/config/redis`) connects every instance through Redis pub/sub and a Redis cache. `close()`
 * ends every subscription it started; a client you passed in stays yours to close.
 */
export interface ConfigSync extends Closeable {
  /** Reads the shared cache: the cached record, or `undefined` on a miss. Rejects when unreachable. */
  read?(key: string): Promise<ConfigRecord | undefined>;
  /**
   * Stores `record` in the shared cache unless it holds a newer version, and when `publish` is set tells
   * every subscribed instance about it. Rejects when unreachable.
   */
  write(record: ConfigRecord, options: { publish: boolean; origin: string; force?: boolean }): Promise<void>;
  /** Starts delivering changes to `listener` (one connection per call) until the returned function is called. */
  subscribe(listener: ConfigSyncListener): Unsubscribe;
}
