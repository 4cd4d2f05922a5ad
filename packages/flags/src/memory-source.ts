import type { ConfigSource, ConfigWatchCallback, Unsubscribe } from '@app/core';
import type { FlagListing } from './keys.js';
import type { FlagStore } from './writer.js';

/** A ConfigSource and FlagStore kept in this process: for tests, demos and single-process apps. */
export interface MemoryConfigSource extends ConfigSource, FlagStore {
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Every key under `prefix` (literal) and its value, in key order, like `@app/config`'s `list`. Absent
   * when created with `{ list: false }`.
   */
  list?(prefix: string): Promise<FlagListing>;
  /** Every key and value, for tests that check what was written. */
  entries(): Map<string, unknown>;
}

/** Options of {@link memoryConfigSource}. */
export interface MemoryConfigSourceOptions {
  /**
   * Offer `list(prefix)`, as `@app/config` does. `false` makes a plain `ConfigSource`, to try the index
   * that flags fall back on for sources that cannot list.
   * @default true
   */
  list?: boolean;
}

/**
 * An in-memory config source that also accepts writes. Values are copied on the way in and out, and
 * watchers run synchronously after each write; a watch key ending in `.` or `*` watches that prefix. It
 * lists keys by prefix like `@app/config` unless created with `{ list: false }`.
 *
 * @example
 * ```ts
 * const source = memoryConfigSource();
 * await setFlag(source, 'dark-mode', { enabled: true });
 * const flags = createFlags({ source });
 *
 * const plain = memoryConfigSource({}, { list: false }); // flags fall back on the index key
 * ```
 */
export function memoryConfigSource(
  initial: Record<string, unknown> = {},
  options: MemoryConfigSourceOptions = {},
): MemoryConfigSource {
  const data = new Map<string, unknown>(Object.entries(initial).map(([k, v]) => [k, structuredClone(v)]));
  const watchers = new Set<{ key: string; prefix: boolean; callback: ConfigWatchCallback }>();

  const notify = (key: string, value: unknown) => {
    for (const w of [...watchers]) {
      if (w.prefix ? key.startsWith(w.key) : key === w.key) w.callback(structuredClone(value), key);
    }
  };

  const source: MemoryConfigSource = {
    async get(key) {
      return structuredClone(data.get(key));
    },
    watch(key, callback): Unsubscribe {
      const prefix = key.endsWith('.') || key.endsWith('*');
      const entry = { key: key.endsWith('*') ? key.slice(0, -1) : key, prefix, callback };
      watchers.add(entry);
      return () => {
        watchers.delete(entry);
      };
    },
    async set(key, value) {
      const copy = structuredClone(value);
      data.set(key, copy);
      notify(key, copy);
    },
    async delete(key) {
      if (data.delete(key)) notify(key, undefined);
    },
    entries: () => new Map([...data].map(([k, v]) => [k, structuredClone(v)])),
  };
  if (options.list !== false) {
    source.list = async (prefix) => {
      const keys = [...data.keys()].filter((k) => k.startsWith(prefix)).sort();
      return new Map(keys.map((k) => [k, { value: structuredClone(data.get(k)) }]));
    };
  }
  return source;
}
