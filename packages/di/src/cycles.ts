// Cycle detection: within one resolution (the path of frames) and between concurrent resolves (the
// wait-for graph of creations in flight).
import type { Frame, Registration, Slot, Wait } from './model.js';
import { circular, pathOf } from './path.js';

/** The next step of a resolution; throws CIRCULAR_DEPENDENCY when `reg` is already on the path. */
export function enter(reg: Registration, parent: Frame | undefined, owner: Slot | undefined): Frame {
  for (let f = parent; f !== undefined; f = f.parent) {
    if (f.reg === reg) throw circular(pathOf(parent, reg.name));
  }
  return {
    reg,
    parent,
    owner: owner ?? parent?.owner,
    inSingleton: reg.lifetime === 'singleton' || (parent?.inSingleton ?? false),
  };
}

// ---- the wait-for graph (cycles across concurrent resolves) ----------------------------------------------

/** The root frame of the nearest creation in flight that `frame` runs inside. */
export function creationOf(frame: Frame | undefined): Frame | undefined {
  for (let f = frame; f !== undefined; f = f.parent) {
    if (f.owner !== undefined && f.owner.building === f) return f;
  }
  return undefined;
}

export function addWait(
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
export function untilSettled(wait: Wait, promise: Promise<unknown>): Promise<unknown> {
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

export function endCreation(slot: Slot): void {
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

/**
 * Waits on a creation already in flight from inside another creation: rejects instead of joining when that
 * creation is itself (transitively) waiting on this one, since neither would ever settle.
 */
export function join(slot: Slot, parent: Frame): Promise<unknown> {
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
    throw circular(path);
  }
  return untilSettled(addWait(from, parent, slot, slot.building)!, pending);
}
