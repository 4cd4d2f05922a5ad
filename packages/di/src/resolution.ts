// Resolution: from a token to an instance, synchronously or not, through the lifetimes, building classes
// from their constructor parameters and factories with a resolver that continues the path.
import { resolveOnTsyringe, resolveThroughTsyringe } from './bridge.js';
import { buildFromConfig, rebuild } from './config-bound.js';
import { addWait, creationOf, endCreation, enter, join, untilSettled } from './cycles.js';
import { link, store, symbolDisposer, trackTransient } from './disposal.js';
import { DiError, DiErrorCode } from './errors.js';
import { type Frame, lookup, type Node, type Registration, type Slot } from './model.js';
import type { Param } from './params.js';
import { assertOpen, describePath, disposedError, notRegistered, pathOf } from './path.js';
import { planOf, runPlan } from './plan.js';
import { paramsFor } from './registration.js';
import { scopedSlot } from './scopes.js';
import { type Constructor, type InjectionToken, tokenName } from './token.js';
import type { AsyncFactoryProvider, ClassProvider, Container, FactoryProvider, Resolver } from './types.js';

/** `container.resolve(token)`. */
/** A transient's value, tracked for disposal when its provider has a dispose hook. */
function tracked(c: Node, reg: Registration, value: unknown, frame: Frame): unknown {
  if (reg.provider.dispose !== undefined) trackTransient(c, reg, value, frame);
  return value;
}

/** Enters a cached (singleton or scoped) registration: its slot becomes the frame's owner, linked to the parent. */
function enterSlot(c: Node, reg: Registration, parent: Frame | undefined): Frame {
  const slot = reg.lifetime === 'singleton' ? reg.slot! : scopedSlot(c, reg, parent);
  const frame = enter(reg, parent, slot);
  link(slot, parent);
  return frame;
}

export function resolveToken(c: Node, token: unknown): unknown {
  const reg = lookup(c, token);
  // A disposed scope must refuse even what its parent has cached: resolveSync throws DISPOSED.
  if (reg !== undefined && !c.disposed) {
    const slot = reg.slot;
    if (slot?.has && !reg.isAsync) return slot.value;
  }
  return resolveSync(c, token, reg, undefined);
}

/** `container.resolveAsync(token)`. */
export function resolveTokenAsync(c: Node, token: unknown): Promise<unknown> {
  const reg = lookup(c, token);
  if (reg !== undefined && !c.disposed) {
    const slot = reg.slot;
    if (slot?.has && slot.pending === undefined) return Promise.resolve(slot.value);
  }
  return resolveAsyncIn(c, token, reg, undefined);
}

export function resolveSync(
  c: Node,
  token: unknown,
  reg: Registration | undefined,
  parent: Frame | undefined,
): unknown {
  assertOpen(c, parent);
  if (reg === undefined) return resolveUnregistered(c, token, parent, false);
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
      // Outside any cached instance's build, an acyclic all-transient subtree runs as one compiled plan.
      if (parent === undefined || parent.owner === undefined) {
        const plan = planOf(c, reg);
        if (plan !== undefined) return runPlan(c, plan, parent);
      }
      const frame = enter(reg, parent, undefined);
      return tracked(c, reg, buildSync(c, reg, frame), frame);
    }
    default: {
      const frame = enterSlot(c, reg, parent);
      const slot = frame.owner!;
      if (slot.has) return slot.value;
      if (slot.pending !== undefined) {
        const path = pathOf(parent, reg.name);
        throw new DiError(
          DiErrorCode.ASYNC_PROVIDER,
          `'${reg.name}' is being created by a pending resolveAsync(): await that or use resolveAsync()${describePath(path)}`,
          { path },
        );
      }
      const value = buildSync(slot.container, reg, frame);
      store(slot.container, slot, value);
      return value;
    }
  }
}

export async function resolveAsyncIn(
  c: Node,
  token: unknown,
  reg: Registration | undefined,
  parent: Frame | undefined,
): Promise<unknown> {
  assertOpen(c, parent);
  if (reg === undefined) return resolveUnregistered(c, token, parent, true);
  switch (reg.lifetime) {
    case 'value':
      return reg.slot!.value;
    case 'transient': {
      const frame = enter(reg, parent, undefined);
      const value = await buildAsync(c, reg, frame, undefined);
      if (c.disposed) {
        // Created after the container was disposed: nobody would ever dispose it.
        await reg.provider.dispose?.(value);
        throw disposedError(c, parent);
      }
      return tracked(c, reg, value, frame);
    }
    default: {
      const frame = enterSlot(c, reg, parent);
      const slot = frame.owner!;
      if (slot.pending !== undefined) return parent === undefined ? slot.pending : join(slot, parent);
      if (slot.has) return slot.value;
      // This creation now waits on the one it starts (recorded first, so it covers the build's synchronous part).
      const wait = addWait(creationOf(parent), parent, slot, frame);
      const started = startBuild(slot.container, slot, frame);
      return wait === undefined ? started : untilSettled(wait, started);
    }
  }
}

/** The first creation of a cached instance: concurrent resolves share `slot.pending`. */
function startBuild(c: Node, slot: Slot, frame: Frame): Promise<unknown> {
  slot.building = frame;
  const pending = buildAsync(c, slot.reg, frame, slot).then(
    async (value) => {
      slot.pending = undefined;
      endCreation(slot);
      if (c.disposed) {
        const hook = slot.reg.provider.dispose ?? symbolDisposer(value);
        await hook?.(value);
        throw disposedError(c, frame.parent);
      }
      store(c, slot, value);
      if (slot.dirty) {
        slot.dirty = false;
        void rebuild(c, slot, false, true);
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

function resolveUnregistered(c: Node, token: unknown, parent: Frame | undefined, async: boolean): unknown {
  if (c.tsyringe.isRegistered(token as never, true)) return resolveOnTsyringe(c, token, parent);
  if (typeof token === 'function') {
    let reg = c.shared.implicit.get(token);
    if (reg === undefined) {
      reg = {
        token: token as Constructor<unknown>,
        name: tokenName(token),
        kind: 'class',
        lifetime: 'transient',
        isAsync: false,
        owner: c,
        provider: { useClass: token as Constructor<unknown> },
        slot: undefined,
        params: undefined,
      };
      c.shared.implicit.set(token, reg);
    }
    return async ? resolveAsyncIn(c, token, reg, parent) : resolveSync(c, token, reg, parent);
  }
  throw notRegistered(token, parent);
}

function buildSync(c: Node, reg: Registration, frame: Frame): unknown {
  if (reg.kind === 'factory')
    return (reg.provider as FactoryProvider<unknown>).useFactory(resolverFor(c, frame));
  const params = paramsFor(reg);
  const Class = (reg.provider as ClassProvider<unknown>).useClass as new (...args: unknown[]) => unknown;
  // Fixed arities avoid building an array and spreading it: this is the hot path of transient graphs.
  switch (params.length) {
    case 0:
      return new Class();
    case 1:
      return new Class(resolveParam(c, params[0]!, frame));
    case 2:
      return new Class(resolveParam(c, params[0]!, frame), resolveParam(c, params[1]!, frame));
    case 3:
      return new Class(
        resolveParam(c, params[0]!, frame),
        resolveParam(c, params[1]!, frame),
        resolveParam(c, params[2]!, frame),
      );
    default:
      return new Class(...params.map((param) => resolveParam(c, param, frame)));
  }
}

export async function buildAsync(
  c: Node,
  reg: Registration,
  frame: Frame,
  slot: Slot | undefined,
): Promise<unknown> {
  switch (reg.kind) {
    case 'async': {
      const provider = reg.provider as AsyncFactoryProvider<unknown>;
      const telemetry = c.shared.telemetry;
      if (!telemetry.enabled()) return provider.useAsyncFactory(resolverFor(c, frame));
      return telemetry.create(reg, () => provider.useAsyncFactory(resolverFor(c, frame)));
    }
    case 'factory':
      return (reg.provider as FactoryProvider<unknown>).useFactory(resolverFor(c, frame));
    case 'config': {
      const built = await c.shared.telemetry.create(reg, () => buildFromConfig(c, slot!, frame, false));
      slot!.configValue = built!.raw;
      return built!.instance;
    }
    default: {
      const params = paramsFor(reg);
      const args: unknown[] = [];
      for (const param of params) args.push(await resolveParamAsync(c, param, frame));
      return new (reg.provider as ClassProvider<unknown>).useClass(...(args as never[]));
    }
  }
}

function resolveParam(c: Node, param: Param, frame: Frame): unknown {
  if (param.kind !== 'token') return resolveThroughTsyringe(c, param, frame, false);
  const reg = lookup(c, param.token);
  if (reg === undefined && param.optional && !canResolve(c, param.token)) return undefined;
  return resolveSync(c, param.token, reg, frame);
}

function resolveParamAsync(c: Node, param: Param, frame: Frame): unknown {
  if (param.kind !== 'token') return resolveThroughTsyringe(c, param, frame, true);
  const reg = lookup(c, param.token);
  if (reg === undefined && param.optional && !canResolve(c, param.token)) return undefined;
  return resolveAsyncIn(c, param.token, reg, frame);
}

function canResolve(c: Node, token: unknown): boolean {
  return typeof token === 'function' || c.tsyringe.isRegistered(token as never, true);
}

/** What a factory receives: resolution from `c` that continues the path at `frame`. */
export function resolverFor(c: Node, frame: Frame): Resolver {
  return {
    resolve: <T>(token: InjectionToken<T>) => resolveSync(c, token, lookup(c, token), frame) as T,
    resolveAsync: <T>(token: InjectionToken<T>) =>
      resolveAsyncIn(c, token, lookup(c, token), frame) as Promise<T>,
    container: c as unknown as Container,
  };
}
