interface Slot<V> {
  value: V;
  /** Read since it was last given a second chance. */
  used: boolean;
}

/**
 * A bounded cache with second-chance (CLOCK) eviction, an approximation of least-recently-used: a hit only
 * sets a flag, so reads never reorder the Map (re-inserting on every hit would cost more than the read).
 * When full, the eldest entry is evicted unless it was read since its last chance, in which case it moves to
 * the young end with its flag cleared.
 */
export class Lru<V> {
  private readonly map = new Map<string, Slot<V>>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.map.size;
  }

  /** Reads and marks as recently used. */
  get(key: string): V | undefined {
    const slot = this.map.get(key);
    if (slot === undefined) return undefined;
    slot.used = true;
    return slot.value;
  }

  /** Reads without marking. */
  peek(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  set(key: string, value: V): void {
    const slot = this.map.get(key);
    if (slot !== undefined) {
      slot.value = value;
      slot.used = true;
      return;
    }
    if (this.map.size >= this.maxEntries) this.evictOne();
    this.map.set(key, { value, used: false });
  }

  delete(key: string): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  *entries(): IterableIterator<[string, V]> {
    for (const [key, slot] of this.map) yield [key, slot.value];
  }

  private evictOne(): void {
    // Terminates: every entry given a second chance has its flag cleared, so one full pass finds a victim.
    for (;;) {
      const eldest = this.map.entries().next();
      if (eldest.done) return;
      const [key, slot] = eldest.value;
      this.map.delete(key);
      if (!slot.used) return;
      slot.used = false;
      this.map.set(key, slot);
    }
  }
}
