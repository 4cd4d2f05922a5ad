import { type Closeable, closeable } from '@app/core';
import type { Assignment, Rule } from '../model.js';
import type { PermissionStore, StoredRole, SubjectPolicy } from '../store.js';

interface RoleRecord {
  rules: Map<string, Rule>;
  parents: Set<string>;
}

/** Options of {@link memoryPermissionStore}. */
export interface MemoryPermissionStoreOptions {
  /** Called once per `loadSubject`, e.g. to count store queries in a benchmark. @default undefined */
  onQuery?: (method: 'loadSubject') => void;
}

const ruleKey = (r: Rule) => `${r.effect}:${r.resource}:${r.action}`;
const assignmentKey = (a: Assignment) =>
  [a.role, a.scope.tenant ?? '', a.scope.resource?.type ?? '', a.scope.resource?.id ?? ''].join('\u0000');

/**
 * Keeps roles, rules and assignments in this process: for tests, single-process apps and as the reference
 * implementation of {@link PermissionStore}. Every method is atomic (it runs without awaiting).
 *
 * @example
 * ```ts
 * import { createPermissionService } from '@app/permissions';
 * import { memoryPermissionStore } from '@app/permissions/memory';
 *
 * const permissions = createPermissionService({ store: memoryPermissionStore() });
 * ```
 */
export function memoryPermissionStore(options: MemoryPermissionStoreOptions = {}): PermissionStore {
  const roles = new Map<string, RoleRecord>();
  const assignments = new Map<string, Map<string, Assignment>>();

  const ensureRole = (name: string): RoleRecord => {
    let role = roles.get(name);
    if (!role) {
      role = { rules: new Map(), parents: new Set() };
      roles.set(name, role);
    }
    return role;
  };

  const reaches = (from: string, to: string): boolean => {
    const stack = [from];
    const seen = new Set<string>();
    for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
      if (name === to) return true;
      if (seen.has(name)) continue;
      seen.add(name);
      for (const p of roles.get(name)?.parents ?? []) stack.push(p);
    }
    return false;
  };

  const snapshot = (name: string, role: RoleRecord): StoredRole => ({
    name,
    inherits: [...role.parents],
    rules: [...role.rules.values()].map((r) => ({ ...r })),
  });

  return closeable<Omit<PermissionStore, keyof Closeable>>({
    async loadSubject(subject): Promise<SubjectPolicy> {
      options.onQuery?.('loadSubject');
      const own = [...(assignments.get(subject)?.values() ?? [])].map((a) => structuredClone(a));
      const closure: StoredRole[] = [];
      const seen = new Set<string>();
      const stack = own.map((a) => a.role);
      for (let name = stack.pop(); name !== undefined; name = stack.pop()) {
        if (seen.has(name)) continue;
        seen.add(name);
        const role = roles.get(name);
        if (!role) continue;
        closure.push(snapshot(name, role));
        stack.push(...role.parents);
      }
      return { assignments: own, roles: closure };
    },

    async addRule(role, rule) {
      ensureRole(role).rules.set(ruleKey(rule), { ...rule });
    },

    async removeRule(role, rule) {
      return roles.get(role)?.rules.delete(ruleKey(rule)) ?? false;
    },

    async addParent(role, parent) {
      if (role === parent || reaches(parent, role)) return false;
      ensureRole(parent);
      ensureRole(role).parents.add(parent);
      return true;
    },

    async removeParent(role, parent) {
      return roles.get(role)?.parents.delete(parent) ?? false;
    },

    async assign(assignment) {
      ensureRole(assignment.role);
      let own = assignments.get(assignment.subject);
      if (!own) {
        own = new Map();
        assignments.set(assignment.subject, own);
      }
      own.set(assignmentKey(assignment), structuredClone(assignment));
    },

    async unassign(assignment) {
      const own = assignments.get(assignment.subject);
      const existed = own?.delete(assignmentKey(assignment)) ?? false;
      if (own?.size === 0) assignments.delete(assignment.subject);
      return existed;
    },

    async deleteRole(role) {
      if (!roles.delete(role)) return false;
      for (const other of roles.values()) other.parents.delete(role);
      for (const [subject, own] of assignments) {
        for (const [key, a] of own) if (a.role === role) own.delete(key);
        if (own.size === 0) assignments.delete(subject);
      }
      return true;
    },

    async listRoles() {
      return [...roles.keys()].sort();
    },

    async getRole(role) {
      const record = roles.get(role);
      return record ? snapshot(role, record) : undefined;
    },
  });
}
