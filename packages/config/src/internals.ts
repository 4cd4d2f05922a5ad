import type { Logger } from '@app/core';
import type { EntryCache } from './cache.js';
import type { CacheEntry, TypedKeys } from './entries.js';
import type { SharedLayer } from './shared-layer.js';
import type { ConfigStore } from './types.js';
import type { Watchers } from './watchers.js';

/** The parts of the service that its modules (listing, resynchronisation) work with. */
export interface ServiceInternals {
  readonly store: ConfigStore;
  readonly cache: EntryCache;
  readonly watchers: Watchers;
  readonly shared: SharedLayer;
  readonly typed: TypedKeys;
  readonly logger: Logger;
  readonly now: () => number;
  readonly isClosed: boolean;
  /** Reads a key below the in-process cache, once however many callers wait (`stale` is served on failure). */
  load(key: string, stale: CacheEntry | undefined): Promise<CacheEntry>;
  /** Caches `entry` unless a newer one is cached, and tells the watchers when the key changed. */
  apply(key: string, entry: CacheEntry, isChange: boolean): CacheEntry;
}
