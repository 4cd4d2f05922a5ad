import type { CacheEntry } from './entries.js';
import { Lru } from './lru.js';

/** What {@link EntryCache.put} did. */
export interface PutResult {
  /** The entry the cache holds afterwards. */
  readonly held: CacheEntry;
  /** True when `entry` replaced what was there (it was newer, or nothing was cached). */
  readonly stored: boolean;
  /** True when a (now replaced) older entry was cached before. */
  readonly hadOlder: boolean;
}

/**
 * The in-process cache: a bounded LRU of entries, each fresh until its `freshUntil`. It only ever moves a
 * key forward: an entry never replaces a newer version.
 */
export class EntryCache {
  private readonly lru: Lru<CacheEntry>;

  constructor(maxEntries: number) {
    this.lru = new Lru(maxEntries);
  }

  /** The cached entry, marked as recently used (fresh or not). */
  get(key: string): CacheEntry | undefined {
    return this.lru.get(key);
  }

  /** The cached entry, without marking it. */
  peek(key: string): CacheEntry | undefined {
    return this.lru.peek(key);
  }

  /** Caches `entry` unless the cache holds a newer version; an equal version only extends the freshness. */
  put(key: string, entry: CacheEntry): PutResult {
    const current = this.lru.peek(key);
    if (current !== undefined && current.version >= entry.version) {
      if (current.version === entry.version)
        current.freshUntil = Math.max(current.freshUntil, entry.freshUntil);
      return { held: current, stored: false, hadOlder: false };
    }
    this.lru.set(key, entry);
    return { held: entry, stored: true, hadOlder: current !== undefined };
  }

  delete(key: string): void {
    this.lru.delete(key);
  }

  clear(): void {
    this.lru.clear();
  }

  entries(): IterableIterator<[string, CacheEntry]> {
    return this.lru.entries();
  }
}
