import type { Closeable, ConfigSource, Logger, StandardSchemaV1, TelemetrySetting } from '@app/core';
import type { DependencyContainer } from 'tsyringe';
import type { Constructor, InjectionToken, Token } from './token.js';

/**
 * How long an instance lives.
 * - `singleton`: one per container that registered the provider (its dependencies resolve there too).
 * - `scoped`: one per container or scope that resolves it (per request with {@link Container.createScope}).
 * - `transient`: a new instance on every resolve.
 */
export type Lifetime = 'singleton' | 'scoped' | 'transient';

/**
 * Called when an instance is disposed (by `dispose()`, `clear()`, or after a rebuild replaced it).
 * Without one, instances the container created are disposed through their `[Symbol.asyncDispose]` or
 * `[Symbol.dispose]` method when they have one.
 */
export type DisposeHook<T> = (instance: T) => unknown;

/** What a factory receives: resolution from the container it runs in, keeping the resolution path. */
export interface Resolver {
  /** Resolves a dependency synchronously (throws `ASYNC_PROVIDER` for async providers). */
  resolve<T>(token: InjectionToken<T>): T;
  /** Resolves a dependency, awaiting async providers. */
  resolveAsync<T>(token: InjectionToken<T>): Promise<T>;
  /** The container (or scope) the factory runs in. */
  readonly container: Container;
}

interface ProviderBase<T> {
  /** Disposes the instance; see {@link DisposeHook}. */
  dispose?: DisposeHook<T>;
}

/** Registers an existing value. It is disposed only when a `dispose` hook is given. */
export interface ValueProvider<T> extends ProviderBase<T> {
  useValue: T;
}

/**
 * Registers a class. Its constructor parameters come from tsyringe's decorator metadata
 * (`@injectable()`, `@inject(token)`), and resolve through this container.
 */
export interface ClassProvider<T> extends ProviderBase<T> {
  useClass: Constructor<T>;
  /** @default 'transient' */
  lifetime?: Lifetime;
}

/** Registers a synchronous factory. */
export interface FactoryProvider<T> extends ProviderBase<T> {
  useFactory: (resolver: Resolver) => T;
  /** @default 'transient' */
  lifetime?: Lifetime;
}

/** Registers an async factory; resolve it with `resolveAsync`. Concurrent first resolves share one call. */
export interface AsyncFactoryProvider<T> extends ProviderBase<T> {
  useAsyncFactory: (resolver: Resolver) => Promise<T>;
  /** @default 'transient' */
  lifetime?: Lifetime;
}

/**
 * Registers a singleton built from a config value. The value of `configKey` is read from the
 * {@link ConfigSource} registered under `configSource` and handed to the factory; when the key changes, a
 * new instance is built, swapped in, and the old one disposed. A failed rebuild keeps the old instance and
 * reports the error (`onError`, logger). Always resolved with `resolveAsync`.
 */
export interface ConfigFactoryProvider<T, C = unknown> extends ProviderBase<T> {
  /** The config key whose value feeds the factory, e.g. `'email.provider'`. */
  configKey: string;
  /** Builds the instance from the key's current value (`undefined` when unset). */
  useConfigFactory: (value: NoInfer<C>, resolver: Resolver) => T | Promise<T>;
  /** Validates/parses the value first (zod, valibot, arktype...); failures throw `INVALID_CONFIG`. */
  schema?: StandardSchemaV1<unknown, C>;
  /** Where the config is read from. @default CONFIG_SOURCE */
  configSource?: Token<ConfigSource>;
}

/** Any provider {@link Container.register} accepts. */
export type Provider<T> =
  | ValueProvider<T>
  | ClassProvider<T>
  | FactoryProvider<T>
  | AsyncFactoryProvider<T>
  | ConfigFactoryProvider<T>;

/** Options of {@link createContainer}. */
export interface ContainerOptions {
  /** Registered as a value under `CONFIG_SOURCE`, for config-bound providers. @default undefined (nothing registered) */
  config?: ConfigSource;
  /** Receives background failures: config-driven rebuilds and disposal of replaced instances. @default silentLogger */
  logger?: Logger;
  /** Called with every background failure (after the logger). @default undefined (failures are only logged) */
  onError?: (error: unknown) => void;
  /** The tsyringe container to create the wrapped child from. @default tsyringe's global `container` */
  parent?: DependencyContainer;
  /**
   * OpenTelemetry: async factory and config-bound creations and rebuilds become spans, with counts and
   * durations (see docs/observability.md). Pass providers, or `false` to record nothing. Free when
   * `@opentelemetry/api` is absent or no SDK is registered.
   * @default the global tracer and meter providers
   */
  telemetry?: TelemetrySetting;
}

/**
 * A dependency injection container (or a scope of one). It is {@link Closeable}: `close()`,
 * `[Symbol.asyncDispose]()` and `dispose()` are one operation.
 */
export interface Container extends Closeable {
  /** The wrapped tsyringe child container: tokens it knows (and `@singleton()` classes) resolve through it. */
  readonly tsyringe: DependencyContainer;
  /** The container this scope was created from; `undefined` for a root container. */
  readonly parent: Container | undefined;
  /** Whether `dispose()` was called. */
  readonly disposed: boolean;
  /**
   * Registers (or replaces) the provider of `token`. Returns the container for chaining. A config-bound
   * provider's value type comes from its `schema` (`unknown` without one).
   */
  register<T, C>(token: InjectionToken<T>, provider: ConfigFactoryProvider<T, C>): this;
  register<T>(token: InjectionToken<T>, provider: Provider<T>): this;
  /** Whether `token` has a provider here (or, unless `recursive` is false, in a parent). */
  isRegistered(token: InjectionToken<unknown>, recursive?: boolean): boolean;
  /** Resolves synchronously; async providers throw `ASYNC_PROVIDER` (use {@link resolveAsync}). */
  resolve<T>(token: InjectionToken<T>): T;
  /** Resolves, awaiting async providers. Concurrent first resolves of a singleton share one creation. */
  resolveAsync<T>(token: InjectionToken<T>): Promise<T>;
  /**
   * Rebuilds the cached instance of `token` now: builds a new one, swaps it in, disposes the old one and
   * drops the cached instances that depended on it. Rejects with `REBUILD_FAILED` (keeping the old
   * instance) when the build fails. Does nothing when nothing is cached.
   */
  invalidate(token: InjectionToken<unknown>): Promise<void>;
  /** Disposes every cached instance of this container (registrations stay; next resolves build anew). */
  clear(): Promise<void>;
  /** Opens a child scope: `scoped` providers get one instance per scope; it may register its own providers. */
  createScope(): Container;
  /**
   * Disposes every instance created in this container and its scopes, in reverse creation order. Hook
   * failures are collected and thrown as one `AggregateError` after all hooks ran.
   */
  dispose(): Promise<void>;
  /** The same as {@link Container.dispose}, for code that closes every {@link Closeable} alike. */
  close(): Promise<void>;
}
