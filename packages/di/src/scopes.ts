// Scoped instances: one per container or scope that resolves them, never captured by a singleton.
import { DiError, DiErrorCode } from './errors.js';
import { type Frame, type Node, newSlot, type Registration, type Slot } from './model.js';
import { describePath, pathOf } from './path.js';

/** The slot of a scoped registration in `c`; throws LIFETIME_MISMATCH when a singleton is being built. */
export function scopedSlot(c: Node, reg: Registration, parent: Frame | undefined): Slot {
  if (parent?.inSingleton) {
    const path = pathOf(parent, reg.name);
    throw new DiError(
      DiErrorCode.LIFETIME_MISMATCH,
      `singleton '${path[0]}' cannot depend on scoped '${reg.name}': it would keep one scope's instance forever${describePath(path)}`,
      { path },
    );
  }
  let slot = c.scopedSlots.get(reg);
  if (slot === undefined) {
    slot = newSlot(reg, c);
    c.scopedSlots.set(reg, slot);
  }
  return slot;
}
