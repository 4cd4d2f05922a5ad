// Disposal: tracking what must be disposed, dropping cached instances (and what was built with them), and
// disposing a container tree in reverse creation order.
import { DiError, DiErrorCode } from './errors.js';
import type { Entry, Frame, Node, Registration, Slot } from './model.js';

export function symbolDisposer(value: unknown): ((value: unknown) => unknown) | undefined {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  const v = value as Partial<AsyncDisposable & Disposable>;
  if (typeof v[Symbol.asyncDispose] === 'function')
    return (x) => (x as AsyncDisposable)[Symbol.asyncDispose]();
  if (typeof v[Symbol.dispose] === 'function') return (x) => (x as Disposable)[Symbol.dispose]();
  return undefined;
}

/** Runs the entries' hooks, newest first; collects the failures instead of stopping at one. */
export async function disposeEntries(entries: Entry[]): Promise<DiError[]> {
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

export function track(c: Node, reg: Registration, value: unknown, container: Node): Entry | undefined {
  const hook = reg.provider.dispose ?? (reg.kind === 'value' ? undefined : symbolDisposer(value));
  if (hook === undefined) return undefined;
  const entry: Entry = {
    order: c.shared.order++,
    kind: reg.kind,
    name: reg.name,
    value,
    hook,
    container,
  };
  container.disposables.add(entry);
  return entry;
}

/** Caches `value` in `slot` and tracks it for disposal. */
export function store(c: Node, slot: Slot, value: unknown): void {
  slot.value = value;
  slot.has = true;
  slot.entry = track(c, slot.reg, value, c);
}

/** Tracks a transient; one built for a cached instance is also tied to it, to go when it goes. */
export function trackTransient(c: Node, reg: Registration, value: unknown, frame: Frame): void {
  const entry = track(c, reg, value, c);
  const owner = frame.owner;
  if (entry === undefined || owner === undefined) return;
  if (owner.transients === undefined) owner.transients = [];
  owner.transients.push(entry);
}

/** Records that the instance being built at `parent` depends on `slot`: rebuilding `slot` drops it. */
export function link(slot: Slot, parent: Frame | undefined): void {
  const owner = parent?.owner;
  if (owner === undefined || owner === slot || slot.reg.kind === 'value') return;
  if (slot.dependents === undefined) slot.dependents = new Set();
  slot.dependents.add(owner);
  if (owner.dependsOn === undefined) owner.dependsOn = new Set();
  owner.dependsOn.add(slot);
}

export function dropDependents(slot: Slot, out: Entry[]): void {
  const dependents = slot.dependents;
  if (dependents === undefined) return;
  slot.dependents = undefined;
  for (const dependent of dependents) {
    if (dependent.has && dependent.pending === undefined) dropSlot(dependent, out);
  }
}

/** Forgets a cached instance (collecting its disposal) and, transitively, what was built with it. */
export function dropSlot(slot: Slot, out: Entry[]): void {
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
  dropDependents(slot, out);
}

function* ownSlots(c: Node): Iterable<Slot> {
  for (const reg of c.registry.values()) if (reg.slot !== undefined) yield reg.slot;
  yield* c.scopedSlots.values();
}

function collectTree(c: Node, into: Node[]): Node[] {
  into.push(c);
  for (const scope of c.scopes) collectTree(scope, into);
  return into;
}

function aggregate(errors: unknown[]): void {
  if (errors.length > 0)
    throw new AggregateError(errors, `[@app/di] ${errors.length} dispose hook(s) failed`);
}

/** `clear()`: disposes every cached instance of `c` except values; registrations stay. */
export async function clearContainer(c: Node): Promise<void> {
  const entries: Entry[] = [];
  for (const slot of ownSlots(c)) {
    if (slot.reg.kind !== 'value') dropSlot(slot, entries);
  }
  // What is left besides values: transients registered with a dispose hook.
  for (const entry of c.disposables) {
    if (entry.kind !== 'value' && !entries.includes(entry)) entries.push(entry);
  }
  aggregate(await disposeEntries(entries));
}

/** `dispose()`: marks `c` and its scopes disposed, then disposes everything they created, newest first. */
export async function disposeTree(c: Node): Promise<void> {
  const tree = collectTree(c, []);
  const entries: Entry[] = [];
  for (const n of tree) {
    n.disposed = true;
    for (const slot of ownSlots(n)) dropSlot(slot, []);
    entries.push(...n.disposables);
  }
  c.parent?.scopes.delete(c);
  const errors: unknown[] = await disposeEntries(entries);
  for (const n of tree.reverse()) {
    try {
      await n.tsyringe.dispose();
    } catch (cause) {
      errors.push(
        new DiError(DiErrorCode.DISPOSE_FAILED, 'disposing the tsyringe container failed', { cause }),
      );
    }
  }
  aggregate(errors);
}

/** Reports a background failure to the logger and `onError`. */
export function report(c: Node, error: unknown, name: string): void {
  c.shared.logger.error({ err: error, token: name }, '[@app/di] background failure');
  try {
    c.shared.onError?.(error);
  } catch {
    // A throwing onError must not break the rebuild that reported to it.
  }
}
