import type { ConfigSource, ConfigWatchCallback, Logger } from '@app/core';

/** A {@link ConfigSource} in memory whose `set` notifies the key's watchers at once, as `@app/config` does locally. */
export interface TestConfigSource extends ConfigSource {
  /** Sets a key and notifies its watchers. */
  set(key: string, value: unknown): void;
  /** How many watchers are registered (to check a closed service let go of them). */
  watching(): number;
}

/**
 * A memory config source for tests of providers built from config (the channels' `providerFactories`).
 *
 * @example
 * ```ts
 * const config = testConfigSource({ 'sms.providers': [{ provider: 'twilio', options }] });
 * config.set('sms.providers', []); // watchers run at once
 * ```
 */
export function testConfigSource(initial: Record<string, unknown>): TestConfigSource {
  const values = new Map(Object.entries(initial));
  const watchers = new Map<string, Set<ConfigWatchCallback>>();
  return {
    get: async (key) => structuredClone(values.get(key)),
    watch(key, callback) {
      const set = watchers.get(key) ?? new Set();
      watchers.set(key, set);
      const entry: ConfigWatchCallback = (v, k) => callback(v, k);
      set.add(entry);
      return () => set.delete(entry);
    },
    set(key, value) {
      values.set(key, value);
      for (const cb of watchers.get(key) ?? []) cb(value, key);
    },
    watching: () => [...watchers.values()].reduce((n, s) => n + s.size, 0),
  };
}

/**
 * Lets a rebuild triggered by a config `set` finish (it reads the memory config and builds, with no I/O).
 *
 * @example
 * ```ts
 * config.set('email.providers', next);
 * await settle();
 * ```
 */
export const settle = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A logger that keeps the messages of its `error` calls (and drops the rest).
 *
 * @example
 * ```ts
 * const logger = spyLogger();
 * expect(logger.errors).toEqual([]);
 * ```
 */
export function spyLogger(): Logger & { errors: string[] } {
  const errors: string[] = [];
  const noop = () => {};
  return { errors, debug: noop, info: noop, warn: noop, error: (_o, msg) => errors.push(msg ?? '') };
}
