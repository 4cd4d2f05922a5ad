// The data the container's modules share: registrations, cached-instance slots, resolution frames, the
// wait-for graph's edges and disposal entries. Behaviour lives in the modules named in each comment.
import type { Logger, Unsubscribe } from '@app/core';
import type { DependencyContainer } from 'tsyringe';
import type { Param } from './params.js';
import type { DiTelemetry } from './telemetry.js';
import type { InjectionToken } from './token.js';
import type { Lifetime, Provider } from './types.js';

export type Kind = 'value' | 'class' | 'factory' | 'async' | 'config';

/** A compiled resolution plan (plan.ts): builds one instance of an acyclic all-transient subtree. */
export type Plan = () => unknown;

export interface Registration {
  readonly token: InjectionToken<unknown>;
  readonly name: string;
  readonly kind: Kind;
  readonly lifetime: Lifetime | 'value';
  /** Async factories and config-bound factories can only be resolved with `resolveAsync`. */
  readonly isAsync: boolean;
  readonly owner: Node;
  readonly provider: Provider<unknown>;
  /** The cache of singleton, config-bound and value providers (scoped ones live in each scope's map). */
  readonly slot: Slot | undefined;
  params: Param[] | undefined;
}

/** One cached instance (or the promise of one). */
export interface Slot {
  readonly reg: Registration;
  /** The container that caches it and tracks its disposal. */
  readonly container: Node;
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
 * One edge of the wait-for graph (cycles.ts): a creation in flight waits on another one (it started it, or
 * joined its shared promise). Each resolve's path catches cycles within one resolution; this graph catches
 * cycles that only exist between concurrent resolves (`a` joins `b`'s creation while `b` joins `a`'s), which
 * would otherwise wait on each other forever.
 */
export interface Wait {
  /** The root frame of the waiting creation. */
  readonly from: Frame;
  /** The frame inside that creation that waits (for the error's path). */
  readonly at: Frame;
  readonly target: Slot;
  /** The root frame of the target's creation waited on: the edge is stale once it no longer builds. */
  readonly build: Frame;
}

/** An instance to dispose (disposal.ts), with its creation order. */
export interface Entry {
  readonly order: number;
  readonly kind: Kind;
  readonly name: string;
  readonly value: unknown;
  readonly hook: (value: unknown) => unknown;
  readonly container: Node;
}

/** One step of a resolution path. */
export interface Frame {
  readonly reg: Registration;
  readonly parent: Frame | undefined;
  /** The nearest cached instance being built: whatever this step resolves becomes its dependency. */
  readonly owner: Slot | undefined;
  readonly inSingleton: boolean;
}

/** State shared by a root container and all its scopes. */
export interface Shared {
  order: number;
  /** Bumped by every registration anywhere in the tree: compiled plans older than it are stale. */
  epoch: number;
  readonly logger: Logger;
  readonly onError: ((error: unknown) => void) | undefined;
  readonly implicit: Map<unknown, Registration>;
  /** Spans and metrics of creations and rebuilds (nothing when nobody listens). */
  readonly telemetry: DiTelemetry;
}

/** The state of one container or scope, as the modules see it (implemented by the container class). */
export interface Node {
  readonly shared: Shared;
  readonly parent: Node | undefined;
  readonly tsyringe: DependencyContainer;
  disposed: boolean;
  readonly disposables: Set<Entry>;
  readonly registry: Map<unknown, Registration>;
  readonly scopedSlots: Map<Registration, Slot>;
  readonly scopes: Set<Node>;
  /** Compiled plans of transients resolved here (`null`: none possible), valid while `planEpoch` is the shared epoch. */
  readonly plans: Map<Registration, Plan | null>;
  planEpoch: number;
}

export function newSlot(reg: Registration, container: Node): Slot {
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

/** The registration `token` resolves to from `c`: its own, else the nearest ancestor's. */
export function lookup(c: Node, token: unknown): Registration | undefined {
  const own = c.registry.get(token);
  if (own !== undefined || c.parent === undefined) return own;
  let p: Node | undefined = c.parent;
  do {
    const reg = p.registry.get(token);
    if (reg !== undefined) return reg;
    p = p.parent;
  } while (p !== undefined);
  return undefined;
}
