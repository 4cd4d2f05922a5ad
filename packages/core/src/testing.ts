import type { describe, expect, it } from 'vitest';
import type { ConfigSource, ConfigWatchCallback } from './config-source.js';

/**
 * The test API every contract suite takes: vitest's `describe`, `it` and `expect`. One type for every
 * `@app/<pkg>/testing` suite, so an adapter author passes the same three things everywhere.
 */
export interface ContractTestApi {
  /** vitest's `describe`. */
  describe: typeof describe;
  /** vitest's `it`. */
  it: typeof it;
  /** vitest's `expect`. */
  expect: typeof expect;
}

/**
 * The options every contract suite takes, whatever it tests: the test API, a name, a factory, an optional
 * raw-storage probe, limits for the race tests, and capability switches (keyv's test suite is the model:
 * an adapter that cannot do something turns that part off instead of failing it).
 *
 * `Subject` is what the suite tests (a store, a transport, a provider); `Raw` is what `inspect` returns;
 * `Capability` names the parts an adapter may switch off.
 */
export interface ContractOptions<Subject, Raw = readonly string[], Capability extends string = never>
  extends ContractTestApi {
  /** Shown in the suite name, e.g. `redis`. */
  name: string;
  /** Makes a fresh subject; called once per test. Subjects may share a backend (tests use fresh keys). */
  create: () => Subject | Promise<Subject>;
  /**
   * Reads what the adapter wrote straight from the backend (not through the adapter), for the at-rest
   * checks: no secret, code or destination in clear. Without it those tests are skipped.
   * @default undefined
   */
  inspect?: (() => Promise<Raw>) | undefined;
  /** Per-test timeout in ms, sized for a busy machine. @default 60000 */
  timeoutMs?: number | undefined;
  /** Concurrent calls in the race tests. @default 1000 */
  concurrency?: number | undefined;
  /** Capabilities the adapter lacks: those parts of the suite are skipped, visibly. @default {} (all on) */
  features?: Partial<Record<Capability, boolean>> | undefined;
}

/** {@link ContractOptions} with every default applied, as a suite reads them. */
export interface ResolvedContractOptions<Subject, Raw, Capability extends string>
  extends ContractOptions<Subject, Raw, Capability> {
  /** Per-test timeout in ms. @default 60000 */
  timeoutMs: number;
  /** Concurrent calls in the race tests. @default 1000 */
  concurrency: number;
  /** Whether a capability is on (every capability is, unless switched off). */
  has(capability: Capability): boolean;
}

/** Default per-test timeout of every contract suite, in ms: generous, for a loaded CI runner. */
export const CONTRACT_TIMEOUT_MS = 60_000;
/** Default number of concurrent calls in a contract suite's race tests. */
export const CONTRACT_CONCURRENCY = 1000;

/**
 * Applies the shared defaults to a suite's options. Every contract suite starts with this line.
 *
 * @example
 * ```ts
 * export function otpStoreContract(options: OtpStoreContractOptions) {
 *   const o = contractOptions(options);
 *   o.describe(`OtpStore contract: ${o.name}`, () => {
 *     o.it('verifies once', async () => { ... }, o.timeoutMs);
 *   });
 * }
 * ```
 */
export function contractOptions<Subject, Raw, Capability extends string>(
  options: ContractOptions<Subject, Raw, Capability>,
): ResolvedContractOptions<Subject, Raw, Capability> {
  const features: Partial<Record<Capability, boolean>> = options.features ?? {};
  return {
    ...options,
    timeoutMs: options.timeoutMs ?? CONTRACT_TIMEOUT_MS,
    concurrency: options.concurrency ?? CONTRACT_CONCURRENCY,
    has: (capability) => features[capability] !== false,
  };
}

/** What {@link memoryConfigSource} returns: a {@link ConfigSource} a test can change and probe. */
export interface MemoryConfigSource extends ConfigSource {
  /** Stores `value` under `key` and notifies the key's watchers synchronously, as a local config does. */
  set(key: string, value: unknown): void;
  /** How many watchers are subscribed to `key` (to every key when omitted). */
  watcherCount(key?: string): number;
  /** How many times `get` was called. */
  readonly reads: number;
}

/**
 * A watchable in-memory {@link ConfigSource} for tests of anything that reads config (`configuredProviders`,
 * config-bound DI factories, provider choice from config): `set` notifies the key's watchers at once.
 *
 * @example
 * ```ts
 * const config = memoryConfigSource({ 'email.providers': { primary: 'ses' } });
 * const service = createEmailService({ config, ... });
 * config.set('email.providers', { primary: 'sendgrid' });
 * expect(config.watcherCount('email.providers')).toBe(1);
 * ```
 */
export function memoryConfigSource(initial: Record<string, unknown> = {}): MemoryConfigSource {
  const values = new Map(Object.entries(initial));
  const watchers = new Map<string, Set<ConfigWatchCallback>>();
  let reads = 0;
  return {
    async get(key) {
      reads++;
      return values.get(key);
    },
    watch(key, callback) {
      const set = watchers.get(key) ?? new Set();
      watchers.set(key, set);
      // One entry per subscription, so the same callback watched twice counts twice.
      const entry: ConfigWatchCallback = (v, k) => callback(v, k);
      set.add(entry);
      return () => set.delete(entry);
    },
    set(key, value) {
      values.set(key, value);
      for (const cb of watchers.get(key) ?? []) cb(value, key);
    },
    watcherCount: (key) =>
      key === undefined
        ? [...watchers.values()].reduce((n, s) => n + s.size, 0)
        : (watchers.get(key)?.size ?? 0),
    get reads() {
      return reads;
    },
  };
}

/**
 * A promise with its `resolve`/`reject` handed out: a gate a test opens when it wants a call to finish.
 *
 * @example
 * ```ts
 * const gate = deferred();
 * const pending = service.call(() => gate.promise);
 * gate.resolve();
 * await pending;
 * ```
 */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
