import type { ConfigSource, ConfigWatchCallback } from '@app/core';

/** A watchable in-memory ConfigSource; `set` notifies watchers synchronously. */
export function memoryConfig(initial: Record<string, unknown> = {}) {
  const values = new Map(Object.entries(initial));
  const watchers = new Map<string, Set<ConfigWatchCallback>>();
  let reads = 0;
  const source: ConfigSource & {
    set(key: string, value: unknown): void;
    watcherCount(key: string): number;
    readonly reads: number;
  } = {
    async get(key) {
      reads++;
      return values.get(key);
    },
    watch(key, cb) {
      const set = watchers.get(key) ?? new Set<ConfigWatchCallback>();
      watchers.set(key, set);
      set.add(cb);
      return () => set.delete(cb);
    },
    set(key, value) {
      values.set(key, value);
      for (const cb of watchers.get(key) ?? []) cb(value, key);
    },
    watcherCount: (key) => watchers.get(key)?.size ?? 0,
    get reads() {
      return reads;
    },
  };
  return source;
}

export function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued microtask and pending I/O callback run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));
