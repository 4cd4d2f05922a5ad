import type { Effect, NormalizedResource, NormalizedScope } from './model.js';
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

/** The lookup structure built once per compiled set: scope -> resource -> action -> first allow/deny. */
export class PermissionIndex {
  private readonly scopes = new Map<string, ResourceMap>();
  private readonly global: ResourceMap | undefined;
  private readonly scoped: boolean;
  /** Decisions already made for global-only sets: type -> action -> grant (null: default deny). */
  private readonly memo = new Map<string, Map<string, CompiledGrant | null>>();
  private memoSize = 0;

  constructor(readonly compiled: CompiledPermissions) {
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
    this.global = this.scopes.get('');
    this.scoped = this.scopes.size > (this.global ? 1 : 0);
  }

  /** The grant that decides, or `undefined` for the default deny. A deny found anywhere wins. */
  decide(action: string, resource: NormalizedResource): CompiledGrant | undefined {
    if (!this.scoped) return this.decideGlobal(action, resource.type);
    let allow: CompiledGrant | undefined;
    if (this.global) {
      const g = lookup(this.global, resource.type, action);
      if (g?.effect === 'deny') return g;
      allow = g;
    }
    if (!this.scoped) return allow;
    for (const key of candidateScopes(resource)) {
      const resources = this.scopes.get(key);
      if (!resources) continue;
      const g = lookup(resources, resource.type, action);
      if (g?.effect === 'deny') return g;
      allow ??= g;
    }
    return allow;
  }

  private decideGlobal(action: string, type: string): CompiledGrant | undefined {
    let actions = this.memo.get(type);
    const known = actions?.get(action);
    if (known !== undefined) return known ?? undefined;
    const g = this.global ? lookup(this.global, type, action) : undefined;
    if (this.memoSize < MEMO_MAX) {
      if (!actions) {
        actions = new Map();
        this.memo.set(type, actions);
      }
      actions.set(action, g ?? null);
      this.memoSize++;
    }
    return g;
  }
}

/** Most memoised decisions per compiled set. */
const MEMO_MAX = 4096;

/** The deciding grant among (type|*) x (action|*): a deny if any, else an allow. Unrolled: it runs on every check. */
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
