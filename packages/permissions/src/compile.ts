import { type Decision, decision, type SubjectPermissions } from './decision.js';
import {
  assertName,
  type Effect,
  type NormalizedResource,
  type NormalizedScope,
  nameHash,
  normalizeResource,
  type ResourceInput,
} from './model.js';
import type { SubjectPolicy } from './store.js';

/** One rule as it reaches a subject: which role holds it, through which assignment and inheritance path. */
export interface CompiledGrant {
  effect: Effect;
  /** Resource type or `*`. */
  resource: string;
  /** Action or `*`. */
  action: string;
  /** The role that holds the rule. */
  role: string;
  /** The inheritance path from the assigned role to `role`: `['admin', 'editor', 'viewer']`. */
  via: string[];
  /** Where the assignment applies. */
  scope: NormalizedScope;
}

/** A subject's compiled permission set: plain JSON, so a shared cache (Redis) can hold it. */
export interface CompiledPermissions {
  subject: string;
  grants: CompiledGrant[];
}

/** Turns what the store returned into a subject's grants. Tolerates cycles in stored data. */
export function compile(subject: string, policy: SubjectPolicy): CompiledPermissions {
  const roles = new Map(policy.roles.map((r) => [r.name, r]));
  const grants: CompiledGrant[] = [];
  const seen = new Set<string>();
  for (const assignment of policy.assignments) {
    const key = scopeKey(assignment.scope);
    // Breadth first, so `via` is the shortest inheritance path.
    const queue: string[][] = [[assignment.role]];
    for (let path = queue.shift(); path; path = queue.shift()) {
      const name = path[path.length - 1]!;
      const seenKey = `${key}\u0000${name}`;
      if (seen.has(seenKey)) continue;
      seen.add(seenKey);
      const role = roles.get(name);
      if (!role) continue;
      for (const rule of role.rules) {
        grants.push({
          effect: rule.effect,
          resource: rule.resource,
          action: rule.action,
          role: name,
          via: path,
          scope: assignment.scope,
        });
      }
      for (const parent of role.inherits) queue.push([...path, parent]);
    }
  }
  return { subject, grants };
}

/** A scope as one string key. Ids never hold control characters, so NUL separates parts unambiguously. */
export function scopeKey(scope: NormalizedScope): string {
  if (scope.resource) {
    const r = `${scope.resource.type}\u0000${scope.resource.id}`;
    return scope.tenant === undefined ? `r\u0000${r}` : `x\u0000${scope.tenant}\u0000${r}`;
  }
  return scope.tenant === undefined ? '' : `t\u0000${scope.tenant}`;
}

interface Slot {
  allow?: CompiledGrant;
  deny?: CompiledGrant;
}
type ActionMap = Map<string, Slot>;
type ResourceMap = Map<string, ActionMap>;

/** The global decisions for one resource type: per action named in the rules, and for any other action. */
interface TypeRow {
  /** Action -> the deciding grant, or `null` for the default deny. Never holds `*`. */
  actions: Map<string, CompiledGrant | null>;
  /** The decision for an action no rule names. */
  other: CompiledGrant | null;
}

/** Neither a type nor an action (both are names or `*`): a key that no rule and no query can hold. */
const NONE = '';

/** Bits per mask word: 30, so a word stays a small integer (a tagged value, never a boxed number). */
const MASK_BITS = 30;
/** Every bit of a mask word. */
const ALL_BITS = (1 << MASK_BITS) - 1;

/**
 * A type's place in the per-subject masks, from its {@link nameHash}: 0-29 a bit of the low word, 32-61
 * (`32 + n`) a bit of the high word, so `place >> 5` picks the word and `place & 31` the bit with no branch.
 * Computed from the name itself, in the pass that validates it, so a check needs no lookup to find it; two
 * types may share a place, so a set bit only sends a check on to the table.
 */
export function placeOf(hash: number): number {
  const k = hash % (2 * MASK_BITS);
  // `k` past the low word moves up by 2 (30 -> 32): without a branch, which the hash would mispredict.
  return k + (((MASK_BITS - 1 - k) >> 31) & 2);
}

/**
 * Every action any compiled rule has named, numbered in order of first sight: the first {@link PACK} of them
 * fit a type's packed decisions. Bounded by the policy: only actions of stored rules enter, never query input.
 */
const ACTION_IDS = new Map<string, number>();
/** Actions per packed type: bits 0-13 say which actions the type's rules name, 14-27 which are allowed. */
const PACK = 14;
/** The bit of a packed type holding the decision for an action its rules do not name. */
const OTHER = 2 * PACK;

function actionId(action: string): number {
  let id = ACTION_IDS.get(action);
  if (id === undefined) {
    id = ACTION_IDS.size;
    ACTION_IDS.set(action, id);
  }
  return id;
}

/**
 * A compiled set with its decision table, built once per set: it is itself a {@link CompiledPermissions}
 * (`toJSON` gives the plain set, so a shared cache stores only that), so a cached check goes from the cache
 * entry straight to the table. Global (unscoped) decisions are precomputed for every (type, action) the rules
 * name, deny-overrides and wildcards applied, so a check is two map lookups; assignments scoped to a tenant or
 * a resource are looked up per scope (scope -> resource -> action).
 */
export class PermissionIndex implements CompiledPermissions, SubjectPermissions {
  readonly subject: string;
  readonly grants: CompiledGrant[];
  /**
   * Which types the global rules name, as bits at their {@link placeOf} (two 30-bit words, small
   * integers): a check on a type whose bit is clear is decided without touching any map. A set bit may be
   * another type's (places are shared), so it only sends the check on to the table.
   */
  private readonly maskLo: number = 0;
  private readonly maskHi: number = 0;
  /**
   * `allowed` for every (type, action) the global rules name: keyed by the type as the caller writes it
   * (`'room'`), so a check on a plain type string whose entry exists needs no parsing and no validation (only
   * valid names are keys). A check on a plain type is decided by global assignments alone: scoped ones only
   * apply to resources with an id or a tenant.
   */
  private readonly fast = new Map<string, Map<string, boolean>>();
  /**
   * The same decisions packed into one small integer per type (see {@link PACK}), for the types whose named
   * actions are all among the first {@link PACK} actions of {@link ACTION_IDS}: one map lookup per check.
   */
  private readonly packed = new Map<string, number>();
  /** Whether a type the rules do not name is allowed, when no `*` rule names an action (else `undefined`). */
  private readonly unnamedType: boolean | undefined;
  private readonly scopes = new Map<string, ResourceMap>();
  /** Whether any assignment is scoped to a tenant or a resource. */
  private readonly scoped: boolean;
  /** Global decisions of the types the rules name. */
  private readonly types = new Map<string, TypeRow>();
  /** Global decisions of every other type (from `*` rules only). */
  private readonly anyType: TypeRow;

  constructor(compiled: CompiledPermissions) {
    this.subject = compiled.subject;
    this.grants = compiled.grants;
    for (const g of compiled.grants) {
      const key = scopeKey(g.scope);
      let resources = this.scopes.get(key);
      if (!resources) {
        resources = new Map();
        this.scopes.set(key, resources);
      }
      let actions = resources.get(g.resource);
      if (!actions) {
        actions = new Map();
        resources.set(g.resource, actions);
      }
      let slot = actions.get(g.action);
      if (!slot) {
        slot = {};
        actions.set(g.action, slot);
      }
      if (g.effect === 'deny') slot.deny ??= g;
      else slot.allow ??= g;
    }
    const global = this.scopes.get('') ?? new Map<string, ActionMap>();
    this.scopes.delete('');
    this.scoped = this.scopes.size > 0;
    const anyActions = [...(global.get('*')?.keys() ?? [])].filter((a) => a !== '*');
    const row = (type: string, named: Iterable<string>): TypeRow => {
      const actions = new Map<string, CompiledGrant | null>();
      for (const action of named) actions.set(action, lookup(global, type, action) ?? null);
      return { actions, other: lookup(global, type, NONE) ?? null };
    };
    this.anyType = row(NONE, anyActions);
    this.unnamedType = anyActions.length === 0 ? this.anyType.other?.effect === 'allow' : undefined;
    // With `*` rules naming actions, an unnamed type has no one answer: every bit set sends it to the table.
    if (this.unnamedType === undefined) this.maskLo = this.maskHi = ALL_BITS;
    for (const [type, actions] of global) {
      if (type === '*') continue;
      const named = new Set([...actions.keys(), ...anyActions]);
      named.delete('*');
      const r = row(type, named);
      this.types.set(type, r);
      const place = placeOf(nameHash(type));
      if (place < 32) this.maskLo |= 1 << place;
      else this.maskHi |= 1 << (place & 31);
      const allowed = new Map<string, boolean>();
      let packed = r.other?.effect === 'allow' ? 1 << OTHER : 0;
      for (const [action, g] of r.actions) {
        const yes = g !== null && g.effect === 'allow';
        allowed.set(action, yes);
        const id = actionId(action);
        packed = id < PACK && packed >= 0 ? packed | (1 << id) | (yes ? 1 << (id + PACK) : 0) : -1;
      }
      if (packed >= 0) this.packed.set(type, packed);
      else this.fast.set(type, allowed);
    }
  }

  /** The plain compiled set (what a shared cache stores): the table is rebuilt from it. */
  toJSON(): CompiledPermissions {
    return { subject: this.subject, grants: this.grants };
  }

  /**
   * Whether the set allows `action` on `resource`; validates both unless the table already names them.
   * Throws `PermissionError` on invalid input. The commonest answer (a plain type this set does not name)
   * is decided here with no lookup at all (this is the hot path of every check): one pass over the type's
   * characters validates it and gives its mask bit, the word is picked without a branch, and the action is
   * validated by a pass over its characters. Everything else goes to {@link named} and {@link decide}.
   */
  allows(action: string, resource: ResourceInput): boolean {
    if (typeof resource === 'string') {
      const lo = this.maskLo;
      const hi = this.maskHi;
      const hash = nameHash(resource);
      if (hash >= 0) {
        const place = placeOf(hash);
        // A clear bit: this set names not `resource`, and no `*` rule names an action (else every bit is
        // set), so the answer is the unnamed type's.
        if ((((lo ^ ((lo ^ hi) & -(place >> 5))) >> place) & 1) === 0) {
          assertName(action, 'action');
          return this.unnamedType === true;
        }
        return this.named(action, resource);
      }
    }
    return this.decide(assertName(action, 'action'), normalizeResource(resource))?.effect === 'allow';
  }

  /** {@link allows} for a plain, valid type whose bit is set: from the packed or the fast table. */
  private named(action: string, resource: string): boolean {
    const packed = this.packed.get(resource);
    if (packed !== undefined) {
      // An action in ACTION_IDS is a valid name (a rule named it); one that is not gets validated.
      let id = ACTION_IDS.get(action);
      if (id === undefined) {
        assertName(action, 'action');
        id = -1;
      }
      const bit = id >= 0 && id < PACK && ((packed >> id) & 1) === 1 ? id + PACK : OTHER;
      return ((packed >> bit) & 1) === 1;
    }
    const actions = this.fast.get(resource);
    if (actions !== undefined) {
      const known = actions.get(action);
      if (known !== undefined) return known;
    } else if (this.unnamedType !== undefined) {
      // Every type the global rules name is in `packed` or `fast`: the bit was another type's (places are
      // shared), and this set does not name `resource`, as with a clear bit.
      assertName(action, 'action');
      return this.unnamedType;
    }
    return this.decide(assertName(action, 'action'), normalizeResource(resource))?.effect === 'allow';
  }

  /** {@link SubjectPermissions.can}: the set is immutable, so it is its own snapshot. */
  can(action: string, resource: ResourceInput): boolean {
    return this.allows(action, resource);
  }

  /** {@link SubjectPermissions.explain}. */
  explain(action: string, resource: ResourceInput): Decision {
    return decision(this.decide(assertName(action, 'action'), normalizeResource(resource)));
  }

  /** The grant that decides, or `undefined` for the default deny. A deny found anywhere wins. */
  decide(action: string, resource: NormalizedResource): CompiledGrant | undefined {
    const row = this.types.get(resource.type) ?? this.anyType;
    const known = row.actions.get(action);
    const global = known !== undefined ? known : row.other;
    if (global?.effect === 'deny') return global;
    let allow = global ?? undefined;
    if (!this.scoped || (resource.id === undefined && resource.tenant === undefined)) return allow;
    for (const key of candidateScopes(resource)) {
      const resources = this.scopes.get(key);
      if (!resources) continue;
      const g = lookup(resources, resource.type, action);
      if (g?.effect === 'deny') return g;
      allow ??= g;
    }
    return allow;
  }
}

/** The deciding grant among (type|*) x (action|*): a deny if any, else an allow. */
function lookup(resources: ResourceMap, type: string, action: string): CompiledGrant | undefined {
  const exact = resources.get(type);
  const any = resources.get('*');
  const a = exact?.get(action);
  if (a?.deny) return a.deny;
  const b = exact?.get('*');
  if (b?.deny) return b.deny;
  const c = any?.get(action);
  if (c?.deny) return c.deny;
  const d = any?.get('*');
  if (d?.deny) return d.deny;
  return a?.allow ?? b?.allow ?? c?.allow ?? d?.allow;
}

/** The non-global scopes whose assignments apply to `resource`. */
export function candidateScopes(resource: NormalizedResource): string[] {
  const keys: string[] = [];
  if (resource.tenant !== undefined) keys.push(`t\u0000${resource.tenant}`);
  if (resource.id !== undefined) {
    const r = `${resource.type}\u0000${resource.id}`;
    keys.push(`r\u0000${r}`);
    if (resource.tenant !== undefined) keys.push(`x\u0000${resource.tenant}\u0000${r}`);
  }
  return keys;
}

/** Whether an assignment in `scope` applies to `resource` (the set semantics behind {@link candidateScopes}). */
export function scopeApplies(scope: NormalizedScope, resource: NormalizedResource): boolean {
  if (scope.tenant !== undefined && scope.tenant !== resource.tenant) return false;
  if (scope.resource && (scope.resource.type !== resource.type || scope.resource.id !== resource.id))
    return false;
  return true;
}
