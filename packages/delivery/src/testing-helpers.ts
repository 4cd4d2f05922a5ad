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

/** The provider options of one {@link providerOptionMistakes} case. */
export interface ProviderOptionsCase<P> {
  providers?: Record<string, P>;
  providerFactories?: Record<string, () => P>;
  config?: ConfigSource;
}

/**
 * The provider options every channel's service refuses with INVALID_OPTIONS, whatever the channel: neither
 * ready providers nor factories, both, factories without config, and no factory at all. Each case is the
 * options to pass (with `provider` as the only provider) and what the error message must match.
 *
 * @example
 * ```ts
 * for (const [options, message] of providerOptionMistakes(memorySmsProvider(), config)) {
 *   expect(problem(() => createSmsService(options))).toMatch(message);
 * }
 * ```
 */
export function providerOptionMistakes<P>(
  provider: P,
  config: ConfigSource,
): Array<[options: ProviderOptionsCase<P>, message: RegExp]> {
  const factories = { memory: () => provider };
  return [
    [{ config }, /^INVALID_OPTIONS: .*needs providers \(ready providers\) or providerFactories/],
    [
      { providers: { memory: provider }, providerFactories: factories, config },
      /^INVALID_OPTIONS: .*not both/,
    ],
    [{ providerFactories: factories }, /^INVALID_OPTIONS: .*needs config/],
    [{ providerFactories: {}, config }, /^INVALID_OPTIONS: .*at least one provider/],
  ];
}

/**
 * Awaits a call that must be refused and answers the error it was refused with; fails when it succeeds.
 *
 * @example
 * ```ts
 * const error = await refusal<SmsError>(() => sms.send(TO, 'hi'));
 * expect(error.code).toBe(SmsErrorCode.INVALID_PROVIDER_CONFIG);
 * ```
 */
export async function refusal<E = Error>(call: () => Promise<unknown>): Promise<E> {
  try {
    await call();
  } catch (error) {
    return error as E;
  }
  throw new Error('the call should have been refused');
}

/** What a promise was rejected with, or undefined when it fulfilled. */
const rejectionOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (error: unknown) => error,
  );

/**
 * Under fake timers: sends once, lets 35 s pass (past a 30 s idempotency lock), sends again with the same
 * key (the caller's retry), lets 60 s more pass, and answers what each send was rejected with (undefined
 * for a send that succeeded). For the "a retrying send never outlives its key" test of every channel.
 *
 * @example
 * ```ts
 * const [first, second] = await sendAcrossLockExpiry(() => sms.send(TO, 'hi', { idempotencyKey: 'k' }), (ms) =>
 *   vi.advanceTimersByTimeAsync(ms),
 * );
 * ```
 */
export async function sendAcrossLockExpiry(
  send: () => Promise<unknown>,
  advance: (ms: number) => Promise<unknown>,
): Promise<[first: unknown, second: unknown]> {
  const first = rejectionOf(send());
  await advance(35_000);
  const second = rejectionOf(send());
  await advance(60_000);
  return Promise.all([first, second]);
}
