// tsyringe refuses to load without the Reflect metadata API, and decorator metadata needs it installed
// before decorated classes are defined: this module is the one that loads both (see README "reflect-metadata").
import 'reflect-metadata';
import { silentLogger } from '@app/core';
import { type DependencyContainer, container as tsyringeRoot } from 'tsyringe';
import { registerOnTsyringe, wrap } from './bridge.js';
import { CONFIG_SOURCE, rebuild } from './config-bound.js';
import { clearContainer, disposeTree, track } from './disposal.js';
import {
  type Entry,
  lookup,
  type Node,
  newSlot,
  type Plan,
  type Registration,
  type Shared,
  type Slot,
} from './model.js';
import { assertOpen, notRegistered } from './path.js';
import { validateProvider } from './registration.js';
import { resolveToken, resolveTokenAsync } from './resolution.js';
import { diTelemetry } from './telemetry.js';
import { type InjectionToken, tokenName } from './token.js';
import type { ConfigFactoryProvider, Container, ContainerOptions, Provider, ValueProvider } from './types.js';

export { CONFIG_SOURCE } from './config-bound.js';

/** A container or scope: the public API over the state the resolution, rebuild and disposal modules share. */
class ContainerImpl implements Container, Node {
  readonly tsyringe: DependencyContainer;
  readonly parent: ContainerImpl | undefined;
  readonly shared: Shared;
  disposed = false;
  readonly disposables = new Set<Entry>();
  readonly registry = new Map<unknown, Registration>();
  readonly scopedSlots = new Map<Registration, Slot>();
  readonly scopes = new Set<Node>();
  readonly plans = new Map<Registration, Plan | null>();
  planEpoch = -1;
  private disposing: Promise<void> | undefined;

  constructor(shared: Shared, parent: ContainerImpl | undefined, tsyringe: DependencyContainer) {
    this.shared = shared;
    this.parent = parent;
    this.tsyringe = tsyringe;
    wrap(this);
  }

  register<T, C>(token: InjectionToken<T>, provider: ConfigFactoryProvider<T, C>): this;
  register<T>(token: InjectionToken<T>, provider: Provider<T>): this;
  register<T>(token: InjectionToken<T>, provider: Provider<T>): this {
    assertOpen(this, undefined);
    const { kind, lifetime } = validateProvider(token, provider);
    const reg: Registration = {
      token,
      name: tokenName(token),
      kind,
      lifetime,
      isAsync: kind === 'async' || kind === 'config',
      owner: this,
      provider: provider as Provider<unknown>,
      slot: undefined,
      params: undefined,
    };
    if (lifetime === 'singleton' || lifetime === 'value') {
      const slot = newSlot(reg, this);
      (reg as { slot: Slot }).slot = slot;
      if (kind === 'value') {
        const value = (provider as ValueProvider<T>).useValue;
        slot.value = value;
        slot.has = true;
        slot.entry = track(this, reg, value, this);
      }
    }
    const replaced = this.registry.get(token);
    if (replaced?.slot !== undefined) {
      // Its cached instance stays tracked for disposal; it just no longer follows config changes.
      replaced.slot.unwatch?.();
      replaced.slot.unwatch = undefined;
    }
    this.registry.set(token, reg);
    // What any container of the tree resolves may have changed: compiled plans are rebuilt on next use.
    this.shared.epoch++;
    // Anything tsyringe builds itself (delay(), @injectAll, @singleton classes) finds our tokens through this.
    registerOnTsyringe(this, token);
    return this;
  }

  isRegistered(token: InjectionToken<unknown>, recursive = true): boolean {
    return recursive ? lookup(this, token) !== undefined : this.registry.has(token);
  }

  resolve<T>(token: InjectionToken<T>): T {
    return resolveToken(this, token) as T;
  }

  resolveAsync<T>(token: InjectionToken<T>): Promise<T> {
    return resolveTokenAsync(this, token) as Promise<T>;
  }

  async invalidate(token: InjectionToken<unknown>): Promise<void> {
    assertOpen(this, undefined);
    const reg = lookup(this, token);
    if (reg === undefined) throw notRegistered(token, undefined);
    const slot = reg.lifetime === 'scoped' ? this.scopedSlots.get(reg) : reg.slot;
    if (slot === undefined || reg.kind === 'value') return;
    if (slot.pending !== undefined) await slot.pending.catch(() => undefined);
    if (!slot.has) return;
    await rebuild(slot.container, slot, true, false);
  }

  clear(): Promise<void> {
    return clearContainer(this);
  }

  createScope(): Container {
    assertOpen(this, undefined);
    const scope = new ContainerImpl(this.shared, this, this.tsyringe.createChildContainer());
    this.scopes.add(scope);
    return scope;
  }

  dispose(): Promise<void> {
    this.disposing ??= disposeTree(this);
    return this.disposing;
  }

  close(): Promise<void> {
    return this.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
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
    epoch: 0,
    logger: options.logger ?? silentLogger,
    onError: options.onError,
    implicit: new Map(),
    telemetry: diTelemetry(options.telemetry),
  };
  const root = new ContainerImpl(shared, undefined, (options.parent ?? tsyringeRoot).createChildContainer());
  if (options.config !== undefined) root.register(CONFIG_SOURCE, { useValue: options.config });
  return root;
}
