import type { Closeable } from '@app/core';
import type { Assignment, Rule } from './model.js';

/** A role as the store returns it: its rules and the roles it inherits from. */
export interface StoredRole {
  name: string;
  /** Roles whose rules this role also has. */
  inherits: string[];
  rules: Rule[];
}

/**
 * Everything that decides one subject's permissions: their assignments, and every role reachable from
 * them through inheritance (the closure), each with its rules. A store returns it in one query.
 */
export interface SubjectPolicy {
  assignments: Assignment[];
  roles: StoredRole[];
}

/**
 * Where roles, rules, inheritance and assignments live. Implement it to add a storage backend, and prove
 * it with `permissionStoreContract` from `@app/permissions/testing`.
 *
 * Every method receives validated, normalised input: the service checks it before calling the store.
 * `close()` (from `Closeable`) releases what the store holds, never the client you passed in.
 */
export interface PermissionStore extends Closeable {
  /** Loads a subject's assignments and the closure of their roles, in one round trip. */
  loadSubject(subject: string): Promise<SubjectPolicy>;
  /** Adds a rule to a role (creating the role). Adding an existing rule is a no-op. */
  addRule(role: string, rule: Rule): Promise<void>;
  /** Removes a rule from a role. Returns whether it existed. */
  removeRule(role: string, rule: Rule): Promise<boolean>;
  /**
   * Makes `role` inherit `parent` (creating both). Must refuse, atomically with the write, an edge that
   * would close a cycle: return `false` then, `true` otherwise (also when the edge already existed).
   */
  addParent(role: string, parent: string): Promise<boolean>;
  /** Removes an inheritance edge. Returns whether it existed. */
  removeParent(role: string, parent: string): Promise<boolean>;
  /** Gives a role to a subject in a scope (creating the role). An existing assignment is a no-op. */
  assign(assignment: Assignment): Promise<void>;
  /** Removes exactly that assignment (same subject, role and scope). Returns whether it existed. */
  unassign(assignment: Assignment): Promise<boolean>;
  /** Deletes a role with its rules, its inheritance edges (both ways) and its assignments. */
  deleteRole(role: string): Promise<boolean>;
  /** Every role name, sorted. */
  listRoles(): Promise<string[]>;
  /** A role's own rules and parents (not inherited ones), or `undefined` when it does not exist. */
  getRole(role: string): Promise<StoredRole | undefined>;
}
