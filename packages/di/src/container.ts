// tsyringe refuses to load without the Reflect metadata API, and decorator metadata needs it installed
// before decorated classes are defined: this module is the one that loads both (see README "reflect-metadata").
import 'reflect-metadata';
import {
  type ConfigSource,
  type Logger,
  silentLogger,
  type Unsubscribe,
  validateWithSchema,
} from '@app/core';
import { type DependencyContainer, Lifecycle, container as tsyringeRoot } from 'tsyringe';
import { DiError, DiErrorCode } from './errors.js';
import { type Param, paramsOf } from './params.js';
import { type Constructor, createToken, type InjectionToken, type Token, tokenName } from './token.js';
import type {
  AsyncFactoryProvider,
  ClassProvider,
  ConfigFactoryProvider,
  Container,
  ContainerOptions,
  FactoryProvider,
  Lifetime,
  Provider,
  Resolver,
  ValueProvider,
} from './types.js';

/**
 * The token config-bound providers read their {@link ConfigSource} from, unless they name another one.
 * `createContainer({ config })` registers it for you.
 *
 * @example
 * ```ts
 * container.register(CONFIG_SOURCE, { useValue: configService });
 * ```
 */
export const CONFIG_SOURCE: Token<ConfigSource> = createToken<ConfigSource>('ConfigSource');

type Kind = 'value' | 'class' | 'factory' | 'async' | 'config';

interface Registration {
  readonly token: InjectionToken<unknown>;
  readonly name: string;
  readonly kind: Kind;
  readonly lifetime: Lifetime | 'value';
  /** Async factories and config-bound factories can only be resolved with `resolveAsync`. */
  readonly isAsync: boolean;
  readonly owner: ContainerImpl;
  readonly provider: Provider<unknown>;
  /** The cache of singleton, config-bound and value providers (scoped ones live in each scope's map). */
  readonly slot: Slot | undefined;
  params: Param[] | undefined;
}

/** One cached instance (or the promise of one). */
interface Slot {
  readonly reg: Registration;
  /** The container that caches it and tracks its disposal. */
  readonly container: ContainerImpl;
  value: unknown;
  has: boolean;
  pending: Promise<unknown> | undefined;
  entry: Entry | undefined;
  /** Transients with a dispose hook built for this instance: disposed with it when it is replaced or dropped. */
  transients: Entry[] | undefined;
  /** Cached instances built with this one: dropped when it is rebuilt. */
  dependents: Set<Slot> | undefined;
  dependsOn: Set<Slot> | undefined;
  unwatch: Unsubscribe | undefined;
  /** The raw config value the current instance was built from. */
  configValue: unknown;
  /** A config change arrived while a build was in flight: rebuild once it settles. */
  dirty: boolean;
  /** The root frame of the creation (first build or rebuild) in flight, if any. */
  building: Frame | undefined;
  /** What that creation is waiting on: its edges in the wait-for graph (see {@link Wait}). */
  waits: Set<Wait> | undefined;
}

/**
 * One edge of the wait-for graph: a creation in flight waits on another one (it started it, or joined its
 * shared promise). Each resolve's path catches cycles within one resolution; this graph catches cycles that
 * only exist between concurrent resolves (`a` joins `b`'s creation while `b` joins `a`'s), which would
 * otherwise wait on each other forever.
 */
interface Wait {
  /** The root frame of the waiting creation. */
  readonly from: Frame;
  /** The frame inside that creation that waits (for the error's path). */
  readonly at: Frame;
  readonly target: Slot;
  /** The root frame of the target's creation waited on: the edge is stale once it no longer builds. */
  readonly build: Frame;
}

/** An instance to dispose, with its creation order. */
interface Entry {
  readonly order: number;
  readonly kind: Kind;
  readonly name: string;
  readonly value: unknown;
  readonly hook: (value: unknown) => unknown;
  readonly container: ContainerImpl;
}

/** One step of a resolution path. */
interface Frame {
  readonly reg: Registration;
  readonly parent: Frame | undefined;
  /** The nearest cached instance being built: whatever this step resolves becomes its dependency. */
  readonly owner: Slot | undefined;
  readonly inSingleton: boolean;
}

/** State shared by a root container and all its scopes. */
interface Shared {
  order: number;
  readonly logger: Logger;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly implicit: Map<unknown, Registration>;
}

const LIFETIMES: ReadonlySet<string> = new Set(['singleton', 'scoped', 'transient']);
const wrappers = new WeakMap<DependencyContainer, ContainerImpl>();

/**
 * While tsyringe builds something for a resolution here (tsyringe resolves synchronously), the frame that
 * resolution is at: what tsyringe then asks this container for continues it, so lifetime checks (a
 * singleton must not capture a scoped instance) and dependency tracking hold across the bridge.
 */
let bridgeFrame: Frame | undefined;
/** The first DiError thrown across the bridge: tsyringe rewraps it in a plain Error, this keeps it. */
let bridgeFailure: DiError | undefined;

/** tsyringe's lifecycle of a token registered on its side (read through its runtime registry). */
function tsyringeLifecycle(container: DependencyContainer, token: unknown): unknown {
  const internal = container as unknown as {
    getRegistration?: (token: unknown) => { options?: { lifecycle?: unknown } } | null;
  };
  return typeof internal.getRegistration === 'function'
    ? internal.getRegistration(token)?.options?.lifecycle
    : undefined;
}

function pathOf(frame: Frame | undefined, last?: string): string[] {
  const names: string[] = last === undefined ? [] : [last];
  for (let f = frame; f !== undefined; f = f.parent) names.unshift(f.reg.name);
  return names;
}

function describePath(path: string[]): string {
  return path.length > 1 ? ` (path: ${path.join(' -> ')})` : '';
}

function symbolDisposer(value: unknown): ((value: unknown) => unknown) | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  const v = value as Partial<AsyncDisposable & Disposable>;
  if (typeof v[Symbol.asyncDispose] === 'function')
    return (x) => (x as AsyncDisposable)[Symbol.asyncDispose]();
  if (typeof v[Symbol.dispose] === 'function') return (x) => (x as Disposable)[Symbol.dispose]();
  return undefined;
}

function sameConfig(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  try {
    return JSON.stringify(a) === JSON.stringify(b);
  } catch {
    return false;
  }
}

async function disposeEntries(entries: Entry[]): Promise<DiError[]> {
  entries.sort((a, b) => b.order - a.order);
  const errors: DiError[] = [];
  for (const entry of entries) {
    entry.container.disposables.delete(entry);
    try {
      await entry.hook(entry.value);
    } catch (cause) {
      errors.push(new DiError(DiErrorCode.DISPOSE_FAILED, `disposing '${entry.name}' failed`, { cause }));
    }
  }
  return errors;
}

function validateProvider(token: unknown, provider: unknown): { kind: Kind; lifetime: Lifetime | 'value' } {
  const tokenOk =
    typeof token === 'symbol' ||
    typeof token === 'function' ||
    (typeof token === 'string' && token.length > 0);
  if (!tokenOk) {
    throw new DiError(
      DiErrorCode.INVALID_PROVIDER,
      'a token must be a createToken() symbol, a class or a string',
    );
  }
  const name = tokenName(token);
  if (typeof provider !== 'object' || provider === null) {
    throw new DiError(DiErrorCode.INVALID_PROVIDER, `the provider of '${name}' must be an object`);
  }
  const p = provider as Record<string, unknown>;
  const keys = ['useValue', 'useClass', 'useFactory', 'useAsyncFactory', 'useConfigFactory'].filter(
    (k) => k in p,
  );
  if (keys.length !== 1) {
    throw new DiError(
      DiErrorCode.INVALID_PROVIDER,
      `the provider of '${name}' needs exactly one of useValue, useClass, useFactory, useAsyncFactory, useConfigFactory (got ${keys.length === 0 ? 'none' : keys.join(', ')})`,
    );
  }
  if (p.dispose !== undefined && typeof p.dispose !== 'function') {
    throw new DiError(DiErrorCode.INVALID_PROVIDER, `the dispose hook of '${name}' must be a function`);
  }
  const key = keys[0];
  if (key === 'useValue') return { kind: 'value', lifetime: 'value' };
  if (key === 'useConfigFactory') {
    if (typeof p.useConfigFactory !== 'function') {
      throw new DiError(DiErrorCode.INVALID_PROVIDER, `useConfigFactory of '${name}' must be a function`);
    }
    if (typeof p.configKey !== 'string' || p.configKey.length === 0) {
      throw new DiError(
        DiErrorCode.INVALID_PROVIDER,
        `the config-bound provider '${name}' needs a configKey`,
      );
    }
    if (p.lifetime !== undefined && p.lifetime !== 'singleton') {
      throw new DiError(
        DiErrorCode.INVALID_PROVIDER,
        `config-bound provider '${name}' is always a singleton`,
      );
    }
    return { kind: 'config', lifetime: 'singleton' };
  }
  if (typeof p[key as string] !== 'function') {
    throw new DiError(DiErrorCode.INVALID_PROVIDER, `${key} of '${name}' must be a function`);
  }
  const lifetime = p.lifetime ?? 'transient';
  if (typeof lifetime !== 'string' || !LIFETIMES.has(lifetime)) {
    throw new DiError(
      DiErrorCode.INVALID_PROVIDER,
      `the lifetime of '${name}' must be 'singleton', 'scoped' or 'transient' (got ${String(lifetime)})`,
    );
  }
  const kind: Kind = key === 'useClass' ? 'class' : key === 'useFactory' ? 'factory' : 'async';
  return { kind, lifetime: lifetime as Lifetime };
}

class ContainerImpl implements Container {
  readonly tsyringe: DependencyContainer;
  readonly parent: ContainerImpl | undefined;
  disposed = false;
  readonly disposables = new Set<Entry>();
  private readonly registry = new Map<unknown, Registration>();
  private readonly scopedSlots = new Map<Registration, Slot>();
  private readonly scopes = new Set<ContainerImpl>();
  private disposing: Promise<void> | undefined;

  constructor(
    private readonly shared: Shared,
    parent: ContainerImpl | undefined,
    tsyringe: DependencyContainer,
  ) {
    this.parent = parent;
    this.tsyringe = tsyringe;
    wrappers.set(tsyringe, this);
  }

  register<T, C>(token: InjectionToken<T>, provider: ConfigFactoryProvider<T, C>): this;
  register<T>(token: InjectionToken<T>, provider: Provider<T>): this;
  register<T>(token: InjectionToken<T>, provider: Provider<T>): this {
    this.assertOpen(undefined);
    const { kind, lifetime } = validateProvider(token, provider);
    const name = tokenName(token);
    const hasSlot = lifetime === 'singleton' || lifetime === 'value';
    const reg: Registration = {
      token,
      name,
      kind,
      lifetime,
      isAsync: kind === 'async' || kind === 'config',
      owner: this,
      provider: provider as Provider<unknown>,
      slot: undefined,
      params: undefined,
    };
    if (hasSlot) {
      const slot = this.newSlot(reg, this);
      (reg as { slot: Slot }).slot = slot;
      if (kind === 'value') {
        const value = (provider as ValueProvider<T>).useValue;
        slot.value = value;
        slot.has = true;
        slot.entry = this.track(reg, value, this);
      }
    }
    const replaced = this.registry.get(token);
    if (replaced?.slot !== undefined) {
      // Its cached instance stays tracked for disposal; it just no longer follows config changes.
      replaced.slot.unwatch?.();
      replaced.slot.unwatch = undefined;
    }
    this.registry.set(token, reg);
    // Anything tsyringe builds itself (delay(), @injectAll, @singleton classes) finds our tokens through this.
    this.tsyringe.register(token as never, {
      useFactory: (c: DependencyContainer) => {
        const target = wrappers.get(c) ?? this;
        if (bridgeFrame === undefined) return target.resolve(token);
        try {
          return target.resolveSync(token, target.lookup(token), bridgeFrame);
        } catch (error) {
          if (error instanceof DiError) bridgeFailure ??= error;
          throw error;
        }
      },
    });
    return this;
  }

  isRegistered(token: InjectionToken<unknown>, recursive = true): boolean {
    return recursive ? this.lookup(token) !== undefined : this.registry.has(token);
  }

  resolve<T>(token: InjectionToken<T>): T {
    const reg = this.lookup(token);
    // A disposed scope must refuse even what its parent has cached: resolveSync throws DISPOSED.
    if (reg !== undefined && !this.disposed) {
      const slot = reg.slot;
      if (slot?.has && !reg.isAsync) return slot.value as T;
    }
    return this.resolveSync(token, reg, undefined) as T;
  }

  resolveAsync<T>(token: InjectionToken<T>): Promise<T> {
    const reg = this.lookup(token);
    if (reg !== undefined && !this.disposed) {
      const slot = reg.slot;
      if (slot?.has && slot.pending === undefined) return Promise.resolve(slot.value as T);
    }
    return this.resolveAsyncIn(token, reg, undefined) as Promise<T>;
  }

  async invalidate(token: InjectionToken<unknown>): Promise<void> {
    this.assertOpen(undefined);
    const reg = this.lookup(token);
    if (reg === undefined) throw this.notRegistered(token, undefined);
    const slot = reg.lifetime === 'scoped' ? this.scopedSlots.get(reg) : reg.slot;
    if (slot === undefined || reg.kind === 'value') return;
    if (slot.pending !== undefined) await slot.pending.catch(() => undefined);
    if (!slot.has) return;
    await slot.container.rebuild(slot, true, false);
  }

  async clear(): Promise<void> {
    const entries: Entry[] = [];
    for (const slot of this.ownSlots()) {
      if (slot.reg.kind !== 'value') this.dropSlot(slot, entries);
    }
    // What is left besides values: transients registered with a dispose hook.
    for (const entry of this.disposables) {
      if (entry.kind !== 'value' && !entries.includes(entry)) entries.push(entry);
    }
    const errors = await disposeEntries(entries);
    if (errors.length > 0)
      throw new AggregateError(errors, `[@app/di] ${errors.length} dispose hook(s) failed`);
  }

  createScope(): Container {
    this.assertOpen(undefined);
    const scope = new ContainerImpl(this.shared, this, this.tsyringe.createChildContainer());
    this.scopes.add(scope);
    return scope;
  }

  dispose(): Promise<void> {
    this.disposing ??= this.disposeTree();
    return this.disposing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }

  // ---- resolution ----------------------------------------------------------------------------------

  private lookup(token: unknown): Registration | undefined {
    const own = this.registry.get(token);
    if (own !== undefined || this.parent === undefined) return own;
    let c: ContainerImpl | undefined = this.parent;
    do {
      const reg = c.registry.get(token);
      if (reg !== undefined) return reg;
      c = c.parent;
    } while (c !== undefined);
    return undefined;
  }

  private enter(reg: Registration, parent: Frame | undefined, owner: Slot | undefined): Frame {
    for (let f = parent; f !== undefined; f = f.parent) {
      if (f.reg === reg) {
        const path = pathOf(parent, reg.name);
        throw new DiError(DiErrorCode.CIRCULAR_DEPENDENCY, `circular dependency: ${path.join(' -> ')}`, {
          path,
        });
      }
    }
    return {
      reg,
      parent,
      owner: owner ?? parent?.owner,
      inSingleton: reg.lifetime === 'singleton' || (parent?.inSingleton ?? false),
    };
  }

  private resolveSync(token: unknown, reg: Registration | undefined, parent: Frame | undefined): unknown {
    this.assertOpen(parent);
    if (reg === undefined) return this.resolveUnregistered(token, parent, false);
    if (reg.isAsync) {
      const path = pathOf(parent, reg.name);
      throw new DiError(
        DiErrorCode.ASYNC_PROVIDER,
        `'${reg.name}' has an async provider: resolve it with resolveAsync()${describePath(path)}`,
        { path },
      );
    }
    switch (reg.lifetime) {
      case 'value':
        return reg.slot!.value;
      case 'transient': {
        const frame = this.enter(reg, parent, undefined);
        const value = this.buildSync(reg, frame);
        if (reg.provider.dispose !== undefined) this.trackTransient(reg, value, frame);
        return value;
      }
      default: {
        const slot = reg.lifetime === 'singleton' ? reg.slot! : this.scopedSlot(reg, parent);
        const frame = this.enter(reg, parent, slot);
        link(slot, parent);
        if (slot.has) return slot.value;
        if (slot.pending !== undefined) {
          const path = pathOf(parent, reg.name);
          throw new DiError(
            DiErrorCode.ASYNC_PROVIDER,
            `'${reg.name}' is being created by a pending resolveAsync(): await that or use resolveAsync()${describePath(path)}`,
            { path },
          );
        }
        const value = slot.container.buildSync(reg, frame);
        slot.container.store(slot, value);
        return value;
      }
    }
  }

  private async resolveAsyncIn(token: unknown, reg: Registration | undefined, parent: Frame | undefined) {
    this.assertOpen(parent);
    if (reg === undefined) return this.resolveUnregistered(token, parent, true);
    switch (reg.lifetime) {
      case 'value':
        return reg.slot!.value;
      case 'transient': {
        const frame = this.enter(reg, parent, undefined);
        const value = await this.buildAsync(reg, frame, undefined);
        if (this.disposed) {
          // Created after the container was disposed: nobody would ever dispose it.
          await reg.provider.dispose?.(value);
          throw this.disposedError(parent);
        }
        if (reg.provider.dispose !== undefined) this.trackTransient(reg, value, frame);
        return value;
      }
      default: {
        const slot = reg.lifetime === 'singleton' ? reg.slot! : this.scopedSlot(reg, parent);
        const frame = this.enter(reg, parent, slot);
        link(slot, parent);
        if (slot.pending !== undefined) return parent === undefined ? slot.pending : this.join(slot, parent);
        if (slot.has) return slot.value;
        // This creation now waits on the one it starts (recorded first, so it covers the build's synchronous part).
        const wait = addWait(creationOf(parent), parent, slot, frame);
        const started = slot.container.startBuild(slot, frame);
        return wait === undefined ? started : untilSettled(wait, started);
      }
    }
  }

  /**
   * Waits on a creation already in flight from inside another creation: rejects instead of joining when that
   * creation is itself (transitively) waiting on this one, since neither would ever settle.
   */
  private join(slot: Slot, parent: Frame): Promise<unknown> {
    const pending = slot.pending!;
    const from = creationOf(parent);
    if (from === undefined || slot.building === undefined) return pending;
    // Every creation on this path waits on what it resolves (the nearest one directly, the others through it).
    const waiting = new Set<Slot>();
    for (let f: Frame | undefined = from; f !== undefined; f = f.parent) {
      if (f.owner !== undefined && f.owner.building === f) waiting.add(f.owner);
    }
    const chain = waitChain(slot, waiting);
    if (chain !== undefined) {
      const path = pathOf(parent);
      for (const wait of chain) path.push(...segment(wait));
      path.push((chain.at(-1)?.target ?? slot).reg.name);
      throw new DiError(DiErrorCode.CIRCULAR_DEPENDENCY, `circular dependency: ${path.join(' -> ')}`, {
        path,
      });
    }
    return untilSettled(addWait(from, parent, slot, slot.building)!, pending);
  }

  /** The first creation of a cached instance: concurrent resolves share `slot.pending`. */
  private startBuild(slot: Slot, frame: Frame): Promise<unknown> {
    slot.building = frame;
    const pending = this.buildAsync(slot.reg, frame, slot).then(
      async (value) => {
        slot.pending = undefined;
        endCreation(slot);
        if (this.disposed) {
          const hook = slot.reg.provider.dispose ?? symbolDisposer(value);
          await hook?.(value);
          throw this.disposedError(frame.parent);
        }
        this.store(slot, value);
        if (slot.dirty) {
          slot.dirty = false;
          void this.rebuild(slot, false, true);
        }
        return value;
      },
      (error: unknown) => {
        slot.pending = undefined;
        endCreation(slot);
        slot.dirty = false;
        slot.unwatch?.();
        slot.unwatch = undefined;
        throw error;
      },
    );
    slot.pending = pending;
    return pending;
  }

  /** Runs a synchronous tsyringe resolution as a step `frame` of the current resolution. */
  private bridged<R>(frame: Frame | undefined, run: () => R): R {
    const previous = bridgeFrame;
    const previousFailure = bridgeFailure;
    bridgeFrame = frame;
    bridgeFailure = undefined;
    try {
      return run();
    } catch (error) {
      // Our own error, with its path, rather than tsyringe's rewording of it.
      throw bridgeFailure !== undefined && !(error instanceof DiError) ? bridgeFailure : error;
    } finally {
      bridgeFrame = previous;
      bridgeFailure = previousFailure;
    }
  }

  private resolveUnregistered(token: unknown, parent: Frame | undefined, async: boolean): unknown {
    if (this.tsyringe.isRegistered(token as never, true)) {
      // A tsyringe singleton keeps what it is built with forever: build it as one of ours would be.
      const singleton = tsyringeLifecycle(this.tsyringe, token) === Lifecycle.Singleton;
      const step: Registration = {
        token: token as InjectionToken<unknown>,
        name: tokenName(token),
        kind: 'class',
        lifetime: singleton ? 'singleton' : 'transient',
        isAsync: false,
        owner: this,
        provider: { useValue: undefined },
        slot: undefined,
        params: undefined,
      };
      return this.bridged(this.enter(step, parent, undefined), () => this.tsyringe.resolve(token as never));
    }
    if (typeof token === 'function') {
      let reg = this.shared.implicit.get(token);
      if (reg === undefined) {
        reg = {
          token: token as Constructor<unknown>,
          name: tokenName(token),
          kind: 'class',
          lifetime: 'transient',
          isAsync: false,
          owner: this,
          provider: { useClass: token as Constructor<unknown> },
          slot: undefined,
          params: undefined,
        };
        this.shared.implicit.set(token, reg);
      }
      return async ? this.resolveAsyncIn(token, reg, parent) : this.resolveSync(token, reg, parent);
    }
    throw this.notRegistered(token, parent);
  }

  private buildSync(reg: Registration, frame: Frame): unknown {
    if (reg.kind === 'factory')
      return (reg.provider as FactoryProvider<unknown>).useFactory(this.resolverFor(frame));
    const params = paramsFor(reg);
    const Class = (reg.provider as ClassProvider<unknown>).useClass as new (...args: unknown[]) => unknown;
    // Fixed arities avoid building an array and spreading it: this is the hot path of transient graphs.
    switch (params.length) {
      case 0:
        return new Class();
      case 1:
        return new Class(this.resolveParam(params[0]!, frame));
      case 2:
        return new Class(this.resolveParam(params[0]!, frame), this.resolveParam(params[1]!, frame));
      case 3:
        return new Class(
          this.resolveParam(params[0]!, frame),
          this.resolveParam(params[1]!, frame),
          this.resolveParam(params[2]!, frame),
        );
      default:
        return new Class(...params.map((param) => this.resolveParam(param, frame)));
    }
  }

  private async buildAsync(reg: Registration, frame: Frame, slot: Slot | undefined): Promise<unknown> {
    switch (reg.kind) {
      case 'async':
        return (reg.provider as AsyncFactoryProvider<unknown>).useAsyncFactory(this.resolverFor(frame));
      case 'factory':
        return (reg.provider as FactoryProvider<unknown>).useFactory(this.resolverFor(frame));
      case 'config': {
        const built = await this.buildFromConfig(slot!, frame, false);
        slot!.configValue = built!.raw;
        return built!.instance;
      }
      default: {
        const params = paramsFor(reg);
        const args: unknown[] = [];
        for (const param of params) args.push(await this.resolveParamAsync(param, frame));
        return new (reg.provider as ClassProvider<unknown>).useClass(...(args as never[]));
      }
    }
  }

  /** Reads the config value and builds from it; `undefined` when `onlyIfChanged` and it did not change. */
  private async buildFromConfig(
    slot: Slot,
    frame: Frame,
    onlyIfChanged: boolean,
  ): Promise<{ instance: unknown; raw: unknown } | undefined> {
    const provider = slot.reg.provider as ConfigFactoryProvider<unknown, unknown>;
    const sourceToken = provider.configSource ?? CONFIG_SOURCE;
    const source = (await this.resolveAsyncIn(sourceToken, this.lookup(sourceToken), frame)) as ConfigSource;
    // Watch before reading, so a change landing between the read and the watch is not missed.
    slot.unwatch ??= source.watch(provider.configKey, () => this.onConfigChange(slot));
    const raw = await source.get(provider.configKey);
    if (onlyIfChanged && sameConfig(raw, slot.configValue)) return undefined;
    let value = raw;
    if (provider.schema !== undefined) {
      const result = await validateWithSchema(provider.schema, raw);
      if (!result.ok) {
        throw new DiError(
          DiErrorCode.INVALID_CONFIG,
          `config '${provider.configKey}' for '${slot.reg.name}' is invalid: ${result.issues.join('; ')}`,
          { path: pathOf(frame) },
        );
      }
      value = result.value;
    }
    return { instance: await provider.useConfigFactory(value, this.resolverFor(frame)), raw };
  }

  private resolveParam(param: Param, frame: Frame): unknown {
    if (param.kind !== 'token') return this.resolveThroughTsyringe(param, frame, false);
    const reg = this.lookup(param.token);
    if (reg === undefined && param.optional && !this.canResolve(param.token)) return undefined;
    return this.resolveSync(param.token, reg, frame);
  }

  private resolveParamAsync(param: Param, frame: Frame): unknown {
    if (param.kind !== 'token') return this.resolveThroughTsyringe(param, frame, true);
    const reg = this.lookup(param.token);
    if (reg === undefined && param.optional && !this.canResolve(param.token)) return undefined;
    return this.resolveAsyncIn(param.token, reg, frame);
  }

  private resolveThroughTsyringe(
    param: Exclude<Param, { kind: 'token' }>,
    frame: Frame,
    async: boolean,
  ): unknown {
    const t = this.tsyringe;
    if (param.kind === 'delayed') return t.resolve(param.token as never);
    if (param.kind === 'all') return this.bridged(frame, () => t.resolveAll(param.token as never));
    const transformer = t.resolve(param.transform as never) as {
      transform: (input: unknown, ...args: unknown[]) => unknown;
    };
    if (param.multiple) {
      return transformer.transform(
        this.bridged(frame, () => t.resolveAll(param.token as never)),
        ...param.args,
      );
    }
    const reg = this.lookup(param.token);
    if (!async) return transformer.transform(this.resolveSync(param.token, reg, frame), ...param.args);
    return this.resolveAsyncIn(param.token, reg, frame).then((v) => transformer.transform(v, ...param.args));
  }

  private canResolve(token: unknown): boolean {
    return typeof token === 'function' || this.tsyringe.isRegistered(token as never, true);
  }

  private resolverFor(frame: Frame): Resolver {
    return {
      resolve: <T>(token: InjectionToken<T>) => this.resolveSync(token, this.lookup(token), frame) as T,
      resolveAsync: <T>(token: InjectionToken<T>) =>
        this.resolveAsyncIn(token, this.lookup(token), frame) as Promise<T>,
      container: this,
    };
  }

  private scopedSlot(reg: Registration, parent: Frame | undefined): Slot {
    if (parent?.inSingleton) {
      const path = pathOf(parent, reg.name);
      throw new DiError(
        DiErrorCode.LIFETIME_MISMATCH,
        `singleton '${path[0]}' cannot depend on scoped '${reg.name}': it would keep one scope's instance forever${describePath(path)}`,
        { path },
      );
    }
    let slot = this.scopedSlots.get(reg);
    if (slot === undefined) {
      slot = this.newSlot(reg, this);
      this.scopedSlots.set(reg, slot);
    }
    return slot;
  }

  // ---- caching, rebuild, disposal -------------------------------------------------------------------

  private newSlot(reg: Registration, container: ContainerImpl): Slot {
    return {
      reg,
      container,
      value: undefined,
      has: false,
      pending: undefined,
      entry: undefined,
      transients: undefined,
      dependents: undefined,
      dependsOn: undefined,
      unwatch: undefined,
      configValue: undefined,
      dirty: false,
      building: undefined,
      waits: undefined,
    };
  }

  private store(slot: Slot, value: unknown): void {
    slot.value = value;
    slot.has = true;
    slot.entry = this.track(slot.reg, value, this);
  }

  /** Tracks a transient; one built for a cached instance is also tied to it, to go when it goes. */
  private trackTransient(reg: Registration, value: unknown, frame: Frame): void {
    const entry = this.track(reg, value, this);
    const owner = frame.owner;
    if (entry === undefined || owner === undefined) return;
    if (owner.transients === undefined) owner.transients = [];
    owner.transients.push(entry);
  }

  private track(reg: Registration, value: unknown, container: ContainerImpl): Entry | undefined {
    const hook = reg.provider.dispose ?? (reg.kind === 'value' ? undefined : symbolDisposer(value));
    if (hook === undefined) return undefined;
    const entry: Entry = {
      order: this.shared.order++,
      kind: reg.kind,
      name: reg.name,
      value,
      hook,
      container,
    };
    container.disposables.add(entry);
    return entry;
  }

  private onConfigChange(slot: Slot): void {
    if (this.disposed) return;
    if (slot.pending !== undefined) {
      slot.dirty = true;
      return;
    }
    if (slot.has) void this.rebuild(slot, false, true);
  }

  /**
   * Builds a replacement, swaps it in, then disposes the old instance and the cached instances built
   * with it. Resolves during the rebuild share its promise; a failure keeps the old instance.
   */
  rebuild(slot: Slot, force: boolean, background: boolean): Promise<void> {
    const reg = slot.reg;
    const frame: Frame = { reg, parent: undefined, owner: slot, inSingleton: reg.lifetime === 'singleton' };
    const oldEntry = slot.entry;
    // The transients of the old instance go with it; those the new build makes are collected afresh.
    const oldTransients = slot.transients;
    slot.transients = undefined;
    slot.building = frame;
    const work: Promise<{ instance: unknown; raw: unknown } | undefined> =
      reg.kind === 'config'
        ? this.buildFromConfig(slot, frame, !force)
        : this.buildAsync(reg, frame, slot).then((instance) => ({ instance, raw: undefined }));
    const outcome = work.then(
      (built) => {
        if (built === undefined) return { ok: true as const, changed: false };
        slot.value = built.instance;
        slot.configValue = built.raw;
        slot.entry = this.track(reg, built.instance, this);
        return { ok: true as const, changed: true };
      },
      (error: unknown) => ({ ok: false as const, error }),
    );
    slot.pending = outcome.then(() => slot.value);
    return outcome.then(async (result) => {
      slot.pending = undefined;
      endCreation(slot);
      if (slot.dirty && !this.disposed) {
        slot.dirty = false;
        void this.rebuild(slot, false, true);
      }
      if (result.ok && result.changed) {
        const stale: Entry[] = [];
        this.dropDependents(slot, stale);
        if (oldEntry !== undefined) stale.push(oldEntry);
        if (oldTransients !== undefined) stale.push(...oldTransients);
        for (const error of await disposeEntries(stale)) this.report(error, reg.name);
        if (this.disposed) await disposeEntries(slot.entry ? [slot.entry] : []);
      }
      if (!(result.ok && result.changed) && oldTransients !== undefined) {
        // The old instance stays in service, with its transients.
        slot.transients = [...oldTransients, ...(slot.transients ?? [])];
      }
      if (!result.ok) {
        const error = new DiError(
          DiErrorCode.REBUILD_FAILED,
          `rebuilding '${reg.name}' failed; the previous instance stays in service`,
          { cause: result.error },
        );
        if (!background) throw error;
        this.report(error, reg.name);
      }
    });
  }

  private report(error: unknown, name: string): void {
    this.shared.logger.error({ err: error, token: name }, '[@app/di] background failure');
    try {
      this.shared.onError?.(error);
    } catch {
      // A throwing onError must not break the rebuild that reported to it.
    }
  }

  private dropDependents(slot: Slot, out: Entry[]): void {
    const dependents = slot.dependents;
    if (dependents === undefined) return;
    slot.dependents = undefined;
    for (const dependent of dependents) {
      if (dependent.has && dependent.pending === undefined) dependent.container.dropSlot(dependent, out);
    }
  }

  /** Forgets a cached instance (collecting its disposal) and, transitively, what was built with it. */
  private dropSlot(slot: Slot, out: Entry[]): void {
    if (slot.has && slot.entry !== undefined) out.push(slot.entry);
    if (slot.transients !== undefined) out.push(...slot.transients);
    slot.transients = undefined;
    slot.has = false;
    slot.value = undefined;
    slot.entry = undefined;
    slot.configValue = undefined;
    slot.unwatch?.();
    slot.unwatch = undefined;
    if (slot.dependsOn !== undefined) {
      for (const upstream of slot.dependsOn) upstream.dependents?.delete(slot);
      slot.dependsOn = undefined;
    }
    this.dropDependents(slot, out);
  }

  private *ownSlots(): Iterable<Slot> {
    for (const reg of this.registry.values()) if (reg.slot !== undefined) yield reg.slot;
    yield* this.scopedSlots.values();
  }

  private collectTree(into: ContainerImpl[]): ContainerImpl[] {
    into.push(this);
    for (const scope of this.scopes) scope.collectTree(into);
    return into;
  }

  private async disposeTree(): Promise<void> {
    const tree = this.collectTree([]);
    const entries: Entry[] = [];
    for (const c of tree) {
      c.disposed = true;
      for (const slot of c.ownSlots()) c.dropSlot(slot, []);
      entries.push(...c.disposables);
    }
    this.parent?.scopes.delete(this);
    const errors: unknown[] = await disposeEntries(entries);
    for (const c of tree.reverse()) {
      try {
        await c.tsyringe.dispose();
      } catch (cause) {
        errors.push(
          new DiError(DiErrorCode.DISPOSE_FAILED, 'disposing the tsyringe container failed', { cause }),
        );
      }
    }
    if (errors.length > 0)
      throw new AggregateError(errors, `[@app/di] ${errors.length} dispose hook(s) failed`);
  }

  // ---- errors ---------------------------------------------------------------------------------------

  private assertOpen(parent: Frame | undefined): void {
    if (this.disposed) throw this.disposedError(parent);
  }

  private disposedError(parent: Frame | undefined): DiError {
    return new DiError(DiErrorCode.DISPOSED, `this ${this.parent ? 'scope' : 'container'} was disposed`, {
      path: pathOf(parent),
    });
  }

  private notRegistered(token: unknown, parent: Frame | undefined): DiError {
    const name = tokenName(token);
    const path = pathOf(parent, name);
    const chain =
      parent === undefined ? '' : ` (requested by ${pathOf(parent).at(-1)}; path: ${path.join(' -> ')})`;
    return new DiError(DiErrorCode.NOT_REGISTERED, `nothing is registered for '${name}'${chain}`, {
      path,
    });
  }
}

function link(slot: Slot, parent: Frame | undefined): void {
  const owner = parent?.owner;
  if (owner === undefined || owner === slot || slot.reg.kind === 'value') return;
  if (slot.dependents === undefined) slot.dependents = new Set();
  slot.dependents.add(owner);
  if (owner.dependsOn === undefined) owner.dependsOn = new Set();
  owner.dependsOn.add(slot);
}

// ---- the wait-for graph (cycles across concurrent resolves) ----------------------------------------------

/** The root frame of the nearest creation in flight that `frame` runs inside. */
function creationOf(frame: Frame | undefined): Frame | undefined {
  for (let f = frame; f !== undefined; f = f.parent) {
    if (f.owner !== undefined && f.owner.building === f) return f;
  }
  return undefined;
}

function addWait(
  from: Frame | undefined,
  at: Frame | undefined,
  target: Slot,
  build: Frame,
): Wait | undefined {
  if (from === undefined || at === undefined) return undefined;
  const wait: Wait = { from, at, target, build };
  const waiter = from.owner!;
  if (waiter.waits === undefined) waiter.waits = new Set();
  waiter.waits.add(wait);
  return wait;
}

/** `promise`, removing `wait` from the graph once it settles. */
function untilSettled(wait: Wait, promise: Promise<unknown>): Promise<unknown> {
  const done = () => wait.from.owner!.waits?.delete(wait);
  return promise.then(
    (value) => {
      done();
      return value;
    },
    (error: unknown) => {
      done();
      throw error;
    },
  );
}

function endCreation(slot: Slot): void {
  slot.building = undefined;
  slot.waits = undefined;
}

/** The live waits leading from `start`'s creation to one of `goals`, if it is (transitively) waiting on one. */
function waitChain(start: Slot, goals: ReadonlySet<Slot>): Wait[] | undefined {
  if (goals.has(start)) return [];
  const seen = new Set<Slot>([start]);
  const chain: Wait[] = [];
  const visit = (slot: Slot): boolean => {
    if (slot.waits === undefined) return false;
    for (const wait of slot.waits) {
      if (wait.from !== slot.building || wait.target.building !== wait.build) continue;
      chain.push(wait);
      if (goals.has(wait.target)) return true;
      if (!seen.has(wait.target)) {
        seen.add(wait.target);
        if (visit(wait.target)) return true;
      }
      chain.pop();
    }
    return false;
  };
  return visit(start) ? chain : undefined;
}

/** The names from a wait's creation down to where it waits. */
function segment(wait: Wait): string[] {
  const names: string[] = [];
  for (let f: Frame | undefined = wait.at; f !== undefined; f = f.parent) {
    names.unshift(f.reg.name);
    if (f === wait.from) break;
  }
  return names;
}

function paramsFor(reg: Registration): Param[] {
  if (reg.params === undefined)
    reg.params = paramsOf((reg.provider as ClassProvider<unknown>).useClass, reg.name);
  return reg.params;
}

/**
 * Creates a root container wrapping a child of tsyringe's global container (or of `options.parent`).
 *
 * @example
 * ```ts
 * import { createContainer, createToken } from '@app/di';
 *
 * const GREETING = createToken<string>('greeting');
 * const container = createContainer();
 * container.register(GREETING, { useValue: 'hello' });
 * container.resolve(GREETING); // 'hello'
 * await container.dispose();
 * ```
 */
export function createContainer(options: ContainerOptions = {}): Container {
  const shared: Shared = {
    order: 0,
    logger: options.logger ?? silentLogger,
    onError: options.onError,
    implicit: new Map(),
  };
  const root = new ContainerImpl(shared, undefined, (options.parent ?? tsyringeRoot).createChildContainer());
  if (options.config !== undefined) root.register(CONFIG_SOURCE, { useValue: options.config });
  return root;
}
