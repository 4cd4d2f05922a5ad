import type { ConfigSource, Unsubscribe } from './config-source.js';
import { AppError } from './errors.js';
import { type Logger, silentLogger } from './logger.js';

/**
 * Named providers that are resolved on demand rather than held ready: what {@link configuredProviders}
 * returns and what `createProviderRouter` accepts besides a plain `{ name: provider }` record.
 */
export interface ProviderSource<P> {
  /** Every provider name the source can resolve, in order. */
  readonly names: readonly string[];
  /**
   * Runs `fn` with the current provider `name`, resolving it first if needed. A provider replaced while
   * `fn` runs is disposed only after `fn` settles. Rejects without calling `fn` when the provider cannot be
   * resolved.
   */
  use<T>(name: string, fn: (provider: P) => Promise<T> | T): Promise<T>;
}

/**
 * Builds one provider from the value found in config. It receives that value unchecked (whatever the
 * config holds, `undefined` when the key is not set) and must validate it, throwing a typed error when
 * it is unusable. It may be async.
 */
export type ConfiguredProviderFactory<P> = (options: unknown, name: string) => P | Promise<P>;

/** Options of {@link configuredProviders}. */
export interface ConfiguredProvidersOptions<P> {
  /** Where each provider's options are read and watched (`@app/config` fits). */
  config: ConfigSource;
  /**
   * The key under which each provider's options live: provider `ses` reads `${keyPrefix}.ses`.
   * A trailing `.` is allowed.
   */
  keyPrefix: string;
  /** One factory per provider name, e.g. `{ ses: (options) => sesProvider(validate(options)) }`. */
  factories: Readonly<Record<string, ConfiguredProviderFactory<P>>>;
  /**
   * Frees a provider that was replaced (after a config change) or closed. Errors are logged, not thrown.
   * @default calls the provider's `close()` when it has one
   */
  dispose?: (provider: P, name: string) => void | Promise<void>;
  /** Logs rebuilds and failed rebuilds (provider name and key only, never the options). @default silentLogger */
  logger?: Logger;
  /** The package named in error messages and `error.package`. @default '@app/core' */
  packageName?: string;
}

/** The providers built from config by {@link configuredProviders}. */
export interface ConfiguredProviders<P> extends ProviderSource<P> {
  /**
   * The current provider `name`, built from its config value on first use (concurrent first calls share
   * one build). Rejects with the factory's error when the value is unusable; nothing is cached then, so
   * the next call reads config again.
   */
  get(name: string): Promise<P>;
  /** The current provider `name` if it was built already, without building it. */
  peek(name: string): P | undefined;
  /**
   * Stops watching config, waits for rebuilds in progress, then disposes every provider once its calls in
   * flight (through {@link ProviderSource.use}) have settled. Later `get`/`use` calls reject with `CLOSED`.
   */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Codes of {@link ConfiguredProvidersError}. */
export const ConfiguredProvidersErrorCode = {
  /** `configuredProviders` was given unusable options. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** A name that has no factory was asked for. */
  UNKNOWN_PROVIDER: 'UNKNOWN_PROVIDER',
  /** The providers were closed. */
  CLOSED: 'CLOSED',
} as const;
export type ConfiguredProvidersErrorCode =
  (typeof ConfiguredProvidersErrorCode)[keyof typeof ConfiguredProvidersErrorCode];

/**
 * Thrown by {@link configuredProviders} for its own failures. A factory's errors are passed through as
 * the factory threw them.
 *
 * @example
 * ```ts
 * if (isAppError(err, '@app/core', ConfiguredProvidersErrorCode.CLOSED)) return;
 * ```
 */
export class ConfiguredProvidersError extends AppError<ConfiguredProvidersErrorCode> {}

interface Built<P> {
  provider: P;
  /** The config value it was built from, as JSON (undefined when not serialisable: never equal). */
  snapshot: string | undefined;
  /** Calls in flight through `use`. */
  users: number;
  /** Resolves the wait for `users` to reach 0. */
  onIdle?: () => void;
  /** Set once replaced or closed: no new call may start on it. */
  retired?: boolean;
}

interface Slot<P> {
  name: string;
  key: string;
  factory: ConfiguredProviderFactory<P>;
  current?: Built<P>;
  /** The first build in progress, shared by concurrent first uses. */
  first?: Promise<Built<P>>;
  /** Bumped by every change notification. */
  version: number;
  /** The version the current provider (or the last failed rebuild) answered. */
  seen: number;
  /** Rebuilds run one at a time per provider. */
  queue: Promise<void>;
  unwatch?: Unsubscribe;
}

function snapshotOf(value: unknown): string | undefined {
  if (value === undefined) return '\u0000undefined';
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

const closeIfAny = (provider: unknown): void | Promise<void> => {
  const close = (provider as { close?: unknown } | null)?.close;
  if (typeof close === 'function') return (close as () => void | Promise<void>).call(provider);
};

/**
 * Providers whose options live in runtime config: provider `name` is built lazily by `factories[name]`
 * from the value at `${keyPrefix}.${name}`, cached, and rebuilt when that key changes (the new one is
 * built, swapped in, then the old one is disposed once its calls in flight settle). A failed rebuild keeps
 * the old provider and logs the error; a change to an equal value (same JSON) rebuilds nothing. Pass the
 * result to `createProviderRouter({ providers })`; `@app/email` and `@app/sms` use it for
 * `providerFactories`.
 *
 * @example
 * ```ts
 * const providers = configuredProviders<EmailProvider>({
 *   config,
 *   keyPrefix: 'email.providers',
 *   factories: { sendgrid: (options) => sendgridProvider(parseSendgridOptions(options)) },
 * });
 * // config: email.providers.sendgrid = { apiKey: 'SG.xxx' }
 * await providers.use('sendgrid', (p) => p.send(message)); // built on first use
 * // config: email.providers.sendgrid = { apiKey: 'SG.yyy' } -> rebuilt; the next call uses the new key
 * await providers.close();
 * ```
 */
export function configuredProviders<P>(options: ConfiguredProvidersOptions<P>): ConfiguredProviders<P> {
  const pkg = options?.packageName ?? '@app/core';
  const fail = (code: ConfiguredProvidersErrorCode, message: string) =>
    new ConfiguredProvidersError(pkg, code, message);
  if (typeof options?.config?.get !== 'function' || typeof options.config.watch !== 'function') {
    throw fail(
      ConfiguredProvidersErrorCode.INVALID_OPTIONS,
      'configuredProviders needs a config source (get and watch)',
    );
  }
  if (typeof options.keyPrefix !== 'string' || options.keyPrefix.replace(/\.$/, '') === '') {
    throw fail(ConfiguredProvidersErrorCode.INVALID_OPTIONS, 'keyPrefix must be a non-empty string');
  }
  const entries = Object.entries(options.factories ?? {});
  if (entries.length === 0) {
    throw fail(ConfiguredProvidersErrorCode.INVALID_OPTIONS, 'factories must name at least one provider');
  }
  for (const [name, factory] of entries) {
    if (typeof factory !== 'function') {
      throw fail(ConfiguredProvidersErrorCode.INVALID_OPTIONS, `the factory of '${name}' is not a function`);
    }
  }

  const { config } = options;
  const prefix = options.keyPrefix.replace(/\.$/, '');
  const logger = options.logger ?? silentLogger;
  const dispose = options.dispose ?? closeIfAny;
  const slots = new Map<string, Slot<P>>(
    entries.map(([name, factory]) => [
      name,
      { name, key: `${prefix}.${name}`, factory, version: 0, seen: 0, queue: Promise.resolve() },
    ]),
  );
  const names = Object.freeze([...slots.keys()]);
  const retiring = new Set<Promise<void>>();
  let closing: Promise<void> | undefined;

  function slotOf(name: string): Slot<P> {
    if (closing) throw fail(ConfiguredProvidersErrorCode.CLOSED, 'the configured providers are closed');
    const slot = slots.get(name);
    if (!slot) {
      throw fail(
        ConfiguredProvidersErrorCode.UNKNOWN_PROVIDER,
        `no factory for provider '${name}' (known: ${names.map((n) => `'${n}'`).join(', ')})`,
      );
    }
    return slot;
  }

  async function build(slot: Slot<P>, value: unknown): Promise<Built<P>> {
    const provider = await slot.factory(value, slot.name);
    return { provider, snapshot: snapshotOf(value), users: 0 };
  }

  /** Disposes `built` once nobody uses it; never throws. */
  function retire(built: Built<P>, name: string): Promise<void> {
    built.retired = true;
    const done = (async () => {
      if (built.users > 0) await new Promise<void>((resolve) => (built.onIdle = resolve));
      try {
        await dispose(built.provider, name);
      } catch (error) {
        logger.error({ err: error, provider: name }, 'could not dispose a provider');
      }
    })();
    retiring.add(done);
    void done.finally(() => retiring.delete(done));
    return done;
  }

  function watch(slot: Slot<P>): void {
    slot.unwatch ??= config.watch(slot.key, () => {
      if (closing) return;
      slot.version++;
      if (slot.current) schedule(slot);
    });
  }

  function schedule(slot: Slot<P>): void {
    // rebuild() handles its own failures; the catch only keeps the queue alive if a logger throws.
    slot.queue = slot.queue.then(() => rebuild(slot)).catch(() => {});
  }

  async function rebuild(slot: Slot<P>): Promise<void> {
    const old = slot.current;
    if (closing || !old || slot.seen === slot.version) return;
    const version = slot.version;
    let next: Built<P>;
    try {
      const value = await config.get(slot.key);
      const snapshot = snapshotOf(value);
      if (snapshot !== undefined && snapshot === old.snapshot) {
        slot.seen = version;
        return;
      }
      next = await build(slot, value);
    } catch (error) {
      slot.seen = version;
      logger.error(
        { err: error, provider: slot.name, key: slot.key },
        'could not rebuild the provider from its new config; keeping the previous one',
      );
      return;
    }
    if (closing) {
      await retire(next, slot.name);
      return;
    }
    slot.current = next;
    slot.seen = version;
    logger.info({ provider: slot.name, key: slot.key }, 'provider rebuilt from its new config');
    void retire(old, slot.name);
  }

  async function buildFirst(slot: Slot<P>): Promise<Built<P>> {
    // Watch before reading, so a change made while the first build runs is not missed.
    watch(slot);
    const version = slot.version;
    const built = await build(slot, await config.get(slot.key));
    if (closing) {
      await retire(built, slot.name);
      throw fail(ConfiguredProvidersErrorCode.CLOSED, 'the configured providers are closed');
    }
    slot.current = built;
    slot.seen = version;
    if (slot.version !== version) schedule(slot);
    return built;
  }

  function acquire(name: string): Promise<Built<P>> {
    const slot = slotOf(name);
    if (slot.current) return Promise.resolve(slot.current);
    slot.first ??= buildFirst(slot).finally(() => {
      slot.first = undefined;
    });
    return slot.first;
  }

  async function use<T>(name: string, fn: (provider: P) => Promise<T> | T): Promise<T> {
    let built = await acquire(name);
    // Replaced between its build and now: take the newer one. The check and the count happen in one
    // synchronous step, so a provider is never disposed under a call that started on it.
    while (built.retired) built = await acquire(name);
    built.users++;
    try {
      return await fn(built.provider);
    } finally {
      built.users--;
      if (built.users === 0) built.onIdle?.();
    }
  }

  async function shutdown(): Promise<void> {
    for (const slot of slots.values()) {
      slot.unwatch?.();
      slot.unwatch = undefined;
    }
    const all = [...slots.values()];
    await Promise.allSettled(all.flatMap((s) => [s.queue, s.first]));
    const current = all.flatMap((s) => (s.current ? [{ built: s.current, name: s.name }] : []));
    for (const slot of all) slot.current = undefined;
    await Promise.all(current.map(({ built, name }) => retire(built, name)));
    await Promise.all([...retiring]);
  }

  const providers: ConfiguredProviders<P> = {
    names,
    use,
    get: async (name) => (await acquire(name)).provider,
    peek: (name) => slots.get(name)?.current?.provider,
    close() {
      closing ??= shutdown();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return providers.close();
    },
  };
  return providers;
}
