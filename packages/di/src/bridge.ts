// The bridge to tsyringe: what tsyringe builds for a resolution here (delay(), @injectAll, transforms,
// tokens registered on tsyringe's side) continues that resolution, so paths, lifetime checks and dependency
// tracking hold across it; and what tsyringe asks for our tokens resolves here.
import { type DependencyContainer, Lifecycle } from 'tsyringe';
import { enter } from './cycles.js';
import { DiError } from './errors.js';
import { type Frame, lookup, type Node, type Registration } from './model.js';
import type { Param } from './params.js';
import { resolveAsyncIn, resolveSync, resolveToken } from './resolution.js';
import { type InjectionToken, tokenName } from './token.js';

/** Our container wrapping each tsyringe container, for calls tsyringe makes back into us. */
const wrappers = new WeakMap<DependencyContainer, Node>();

/**
 * While tsyringe builds something for a resolution here (tsyringe resolves synchronously), the frame that
 * resolution is at: what tsyringe then asks this container for continues it, so lifetime checks (a
 * singleton must not capture a scoped instance) and dependency tracking hold across the bridge.
 */
let bridgeFrame: Frame | undefined;
/** The first DiError thrown across the bridge: tsyringe rewraps it in a plain Error, this keeps it. */
let bridgeFailure: DiError | undefined;

export function wrap(c: Node): void {
  wrappers.set(c.tsyringe, c);
}

/** Registers `token` on `c`'s tsyringe side, resolving through us: tsyringe-built classes find our tokens. */
export function registerOnTsyringe(c: Node, token: InjectionToken<unknown>): void {
  c.tsyringe.register(token as never, {
    useFactory: (t: DependencyContainer) => {
      const target = wrappers.get(t) ?? c;
      if (bridgeFrame === undefined) return resolveToken(target, token);
      try {
        return resolveSync(target, token, lookup(target, token), bridgeFrame);
      } catch (error) {
        if (error instanceof DiError) bridgeFailure ??= error;
        throw error;
      }
    },
  });
}

/** tsyringe's lifecycle of a token registered on its side (read through its runtime registry). */
function tsyringeLifecycle(container: DependencyContainer, token: unknown): unknown {
  const internal = container as unknown as {
    getRegistration?: (token: unknown) => { options?: { lifecycle?: unknown } } | null;
  };
  return typeof internal.getRegistration === 'function'
    ? internal.getRegistration(token)?.options?.lifecycle
    : undefined;
}

/** Runs a synchronous tsyringe resolution as a step `frame` of the current resolution. */
function bridged<R>(frame: Frame | undefined, run: () => R): R {
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

/** Resolves a token only tsyringe knows, as a step of the current resolution. */
export function resolveOnTsyringe(c: Node, token: unknown, parent: Frame | undefined): unknown {
  // A tsyringe singleton keeps what it is built with forever: build it as one of ours would be.
  const singleton = tsyringeLifecycle(c.tsyringe, token) === Lifecycle.Singleton;
  const step: Registration = {
    token: token as InjectionToken<unknown>,
    name: tokenName(token),
    kind: 'class',
    lifetime: singleton ? 'singleton' : 'transient',
    isAsync: false,
    owner: c,
    provider: { useValue: undefined },
    slot: undefined,
    params: undefined,
  };
  return bridged(enter(step, parent, undefined), () => c.tsyringe.resolve(token as never));
}

/** A constructor parameter tsyringe describes beyond a plain token: delay(), @injectAll, transforms. */
export function resolveThroughTsyringe(
  c: Node,
  param: Exclude<Param, { kind: 'token' }>,
  frame: Frame,
  async: boolean,
): unknown {
  const t = c.tsyringe;
  if (param.kind === 'delayed') return t.resolve(param.token as never);
  if (param.kind === 'all') return bridged(frame, () => t.resolveAll(param.token as never));
  const transformer = t.resolve(param.transform as never) as {
    transform: (input: unknown, ...args: unknown[]) => unknown;
  };
  if (param.multiple) {
    return transformer.transform(
      bridged(frame, () => t.resolveAll(param.token as never)),
      ...param.args,
    );
  }
  const reg = lookup(c, param.token);
  if (!async) return transformer.transform(resolveSync(c, param.token, reg, frame), ...param.args);
  return resolveAsyncIn(c, param.token, reg, frame).then((v) => transformer.transform(v, ...param.args));
}
