/** A Map-backed LRU: the Map keeps insertion order, so re-inserting on a hit makes the first key the eldest. */
export class Lru<V> {
  private readonly map = new Map<string, V>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  /** Reads and marks as recently used. */
  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  /** Reads without touching the order. */
  peek(key: string): V | undefined {
    return this.map.get(key);
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.maxEntries) {
      const eldest = this.map.keys().next();
      if (!eldest.done) this.map.delete(eldest.value);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }
}
