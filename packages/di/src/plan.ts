// Compiled resolution plans for transient graphs. A transient class whose whole dependency subtree (as this
// container resolves it) is transient classes and values, with no dispose hooks and no cycle, is compiled
// once into nested closures that construct the tree directly: no frame per node, no walk up the path for
// cycle detection, no lookups. Everything else (and every cycle, which then throws CIRCULAR_DEPENDENCY with
// its path) takes the frame-by-frame path in resolution.ts. Plans are dropped when anything in the
// container tree is registered.
import { DiError, DiErrorCode } from './errors.js';
import { type Frame, lookup, type Node, type Plan, type Registration } from './model.js';
import { pathOf } from './path.js';
import { paramsFor } from './registration.js';
import type { ClassProvider } from './types.js';

/**
 * Thrown by a plan's node that finds its container disposed (a constructor disposed it mid-build); each
 * enclosing node adds its name on the way out, so the DISPOSED error gets the path the frame-by-frame
 * resolution would have given it.
 */
class Disposed {
  readonly names: string[] = [];
}

function above(error: unknown, name: string): unknown {
  if (error instanceof Disposed) error.names.unshift(name);
  return error;
}

/** The compiled plan of a transient registration resolved in `c`, or `undefined` when it has none. */
export function planOf(c: Node, reg: Registration): Plan | undefined {
  if (c.planEpoch !== c.shared.epoch) {
    c.plans.clear();
    c.planEpoch = c.shared.epoch;
  }
  const plan = c.plans.get(reg);
  if (plan !== undefined) return plan ?? undefined;
  return compile(c, reg, new Set()) ?? undefined;
}

/** Runs a plan as the step after `parent`. */
export function runPlan(c: Node, plan: Plan, parent: Frame | undefined): unknown {
  try {
    return plan();
  } catch (error) {
    if (!(error instanceof Disposed)) throw error;
    throw new DiError(DiErrorCode.DISPOSED, `this ${c.parent ? 'scope' : 'container'} was disposed`, {
      path: [...pathOf(parent), ...error.names],
    });
  }
}

function compile(c: Node, reg: Registration, visiting: Set<Registration>): Plan | null {
  const known = c.plans.get(reg);
  if (known !== undefined) return known;
  // On the way down already: a cycle, which the frame-by-frame path reports with its path.
  if (visiting.has(reg)) return null;
  visiting.add(reg);
  const plan = build(c, reg, visiting);
  visiting.delete(reg);
  c.plans.set(reg, plan);
  return plan;
}

function build(c: Node, reg: Registration, visiting: Set<Registration>): Plan | null {
  if (reg.kind === 'value') {
    const slot = reg.slot!;
    return () => {
      if (c.disposed) throw new Disposed();
      return slot.value;
    };
  }
  if (reg.kind !== 'class' || reg.lifetime !== 'transient' || reg.provider.dispose !== undefined) return null;
  let params: ReturnType<typeof paramsFor>;
  try {
    params = paramsFor(reg);
  } catch {
    return null; // MISSING_METADATA: thrown by the frame-by-frame path, with its path
  }
  const deps: Plan[] = [];
  for (const param of params) {
    if (param.kind !== 'token') return null;
    const dep = lookup(c, param.token);
    if (dep === undefined) return null;
    const plan = compile(c, dep, visiting);
    if (plan === null) return null;
    deps.push(plan);
  }
  const Class = (reg.provider as ClassProvider<unknown>).useClass as new (...args: unknown[]) => unknown;
  const name = reg.name;
  switch (deps.length) {
    case 0:
      return () => {
        if (c.disposed) throw new Disposed();
        return new Class();
      };
    case 1: {
      const [a] = deps as [Plan];
      return () => {
        if (c.disposed) throw new Disposed();
        try {
          return new Class(a());
        } catch (error) {
          throw above(error, name);
        }
      };
    }
    case 2: {
      const [a, b] = deps as [Plan, Plan];
      return () => {
        if (c.disposed) throw new Disposed();
        try {
          return new Class(a(), b());
        } catch (error) {
          throw above(error, name);
        }
      };
    }
    case 3: {
      const [a, b, d] = deps as [Plan, Plan, Plan];
      return () => {
        if (c.disposed) throw new Disposed();
        try {
          return new Class(a(), b(), d());
        } catch (error) {
          throw above(error, name);
        }
      };
    }
    default:
      return () => {
        if (c.disposed) throw new Disposed();
        try {
          return new Class(...deps.map((dep) => dep()));
        } catch (error) {
          throw above(error, name);
        }
      };
  }
}
