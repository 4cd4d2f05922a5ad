import type { ConfigSource, Logger } from '@app/core';
import { memoryConfigSource } from '@app/core/testing';

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
  const source = memoryConfigSource(initial);
  return {
    // A clone per read, so a test mutating what it passed in (or read back) cannot reach the stored value.
    get: async (key) => structuredClone(await source.get(key)),
    watch: (key, callback) => source.watch(key, callback),
    set: (key, value) => source.set(key, value),
    watching: () => source.watcherCount(),
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
