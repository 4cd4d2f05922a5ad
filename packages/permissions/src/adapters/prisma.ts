import { type Closeable, closeable } from '@app/core';
import type { Assignment, Effect, NormalizedScope, Rule } from '../model.js';
import type { PermissionStore, StoredRole, SubjectPolicy } from '../store.js';

/** Limits of the interactive transaction the store runs (passed to Prisma as `maxWait` and `timeout`). */
export interface PrismaTransactionOptions {
  /** Longest wait for a connection to start the transaction, in ms. @default 10000 */
  maxWaitMs?: number;
  /** Longest the transaction may run, in ms. @default 10000 */
  timeoutMs?: number;
}

/** The options Prisma's `$transaction` takes (Prisma's own names). */
export interface PrismaInteractiveTransactionOptions {
  /** Prisma's `maxWait`, in ms. @default 2000 (Prisma's own default) */
  maxWait?: number;
  /** Prisma's `timeout`, in ms. @default 5000 (Prisma's own default) */
  timeout?: number;
}

/** The raw-query methods the store uses, on the client and inside a transaction. */
export interface PrismaRawClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/**
 * The part of a generated PrismaClient the store uses (typed structurally: no generated types imported,
 * so any client whose schema includes the models in `prisma/schema.prisma` fits, extended clients too).
 */
export interface PermissionPrismaClient extends PrismaRawClient {
  $transaction<R>(
    fn: (tx: PrismaRawClient) => Promise<R>,
    options?: PrismaInteractiveTransactionOptions,
  ): Promise<R>;
}

/** Options of {@link prismaPermissionStore}. */
export interface PrismaPermissionStoreOptions {
  /** Your PrismaClient. The store never disconnects it. */
  prisma: PermissionPrismaClient;
  /**
   * Passed to the interactive transaction that adds an inheritance edge (the only one: it locks inheritance
   * writes so that two concurrent edges cannot close a cycle).
   * @default { maxWaitMs: 10000, timeoutMs: 10000 }
   */
  transactionOptions?: PrismaTransactionOptions;
  /** Called once per SQL statement the store sends, e.g. to count queries. @default undefined */
  onQuery?: (method: string) => void;
}

const ROLES = 'app_permissions_roles';
const RULES = 'app_permissions_rules';
const PARENTS = 'app_permissions_role_parents';
const ASSIGNMENTS = 'app_permissions_assignments';
/** The advisory lock key that serialises inheritance writes (an arbitrary constant: 'perm' in ASCII). */
const INHERIT_LOCK = 0x7065726d;

// One statement: the subject's assignments, the closure of their roles (UNION stops on cycles), and the
// edges and rules of that closure, as rows of one shape.
const LOAD_SUBJECT = `
WITH RECURSIVE assigned AS (
  SELECT role, tenant, resource_type, resource_id FROM ${ASSIGNMENTS} WHERE subject = $1
), closure(role) AS (
  SELECT role FROM assigned
  UNION
  SELECT p.parent FROM ${PARENTS} p JOIN closure c ON p.role = c.role
)
SELECT 'a' AS kind, role, tenant AS x, resource_type AS y, resource_id AS z FROM assigned
UNION ALL
SELECT 'n', name, NULL, NULL, NULL FROM ${ROLES} WHERE name IN (SELECT role FROM closure)
UNION ALL
SELECT 'p', role, parent, NULL, NULL FROM ${PARENTS} WHERE role IN (SELECT role FROM closure)
UNION ALL
SELECT 'r', role, effect, resource, action FROM ${RULES} WHERE role IN (SELECT role FROM closure)`;

interface LoadRow {
  kind: 'a' | 'n' | 'p' | 'r';
  role: string;
  x: string | null;
  y: string | null;
  z: string | null;
}

const ensureRoles = (n: number) => {
  const values = Array.from({ length: n }, (_, i) => `($${i + 1})`).join(', ');
  return `INSERT INTO ${ROLES} (name) VALUES ${values} ON CONFLICT DO NOTHING`;
};

function scopeColumns(scope: NormalizedScope): [string, string, string] {
  return [scope.tenant ?? '', scope.resource?.type ?? '', scope.resource?.id ?? ''];
}

function scopeOf(tenant: string, type: string, id: string): NormalizedScope {
  const scope: NormalizedScope = {};
  if (tenant !== '') scope.tenant = tenant;
  if (type !== '') scope.resource = { type, id };
  return scope;
}

/**
 * Keeps roles, rules and assignments in PostgreSQL through your PrismaClient. Add the models from
 * `prisma/schema.prisma` to your schema (or apply `prisma/migrations/0001_init.sql`). Loading a subject is one
 * SQL statement (a recursive CTE), so a cold check costs one query.
 *
 * @example
 * ```ts
 * import { PrismaClient } from './generated/prisma/client';
 * import { prismaPermissionStore } from '@app/permissions/prisma';
 *
 * const permissions = createPermissionService({ store: prismaPermissionStore({ prisma: new PrismaClient({ adapter }) }) });
 * ```
 */
export function prismaPermissionStore(options: PrismaPermissionStoreOptions): PermissionStore {
  const { prisma } = options;
  const txOptions: PrismaInteractiveTransactionOptions = {
    maxWait: options.transactionOptions?.maxWaitMs ?? 10_000,
    timeout: options.transactionOptions?.timeoutMs ?? 10_000,
  };
  const count = (method: string) => options.onQuery?.(method);

  const query = <T>(method: string, db: PrismaRawClient, sql: string, ...values: unknown[]): Promise<T> => {
    count(method);
    return db.$queryRawUnsafe<T>(sql, ...values);
  };
  const execute = (
    method: string,
    db: PrismaRawClient,
    sql: string,
    ...values: unknown[]
  ): Promise<number> => {
    count(method);
    return db.$executeRawUnsafe(sql, ...values);
  };

  return closeable<Omit<PermissionStore, keyof Closeable>>({
    async loadSubject(subject): Promise<SubjectPolicy> {
      const rows = await query<LoadRow[]>('loadSubject', prisma, LOAD_SUBJECT, subject);
      const assignments: Assignment[] = [];
      const roles = new Map<string, StoredRole>();
      const role = (name: string) => {
        let r = roles.get(name);
        if (!r) {
          r = { name, inherits: [], rules: [] };
          roles.set(name, r);
        }
        return r;
      };
      for (const row of rows) {
        if (row.kind === 'a')
          assignments.push({
            subject,
            role: row.role,
            scope: scopeOf(row.x ?? '', row.y ?? '', row.z ?? ''),
          });
        else if (row.kind === 'n') role(row.role);
        else if (row.kind === 'p') role(row.role).inherits.push(row.x!);
        else role(row.role).rules.push({ effect: row.x as Effect, resource: row.y!, action: row.z! });
      }
      return { assignments, roles: [...roles.values()] };
    },

    async addRule(roleName, rule) {
      // The role row and the rule in one statement: foreign keys are checked at its end.
      await execute(
        'addRule',
        prisma,
        `WITH r AS (${ensureRoles(1)})
         INSERT INTO ${RULES} (role, effect, resource, action) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        roleName,
        rule.effect,
        rule.resource,
        rule.action,
      );
    },

    async removeRule(roleName, rule: Rule) {
      const n = await execute(
        'removeRule',
        prisma,
        `DELETE FROM ${RULES} WHERE role = $1 AND effect = $2 AND resource = $3 AND action = $4`,
        roleName,
        rule.effect,
        rule.resource,
        rule.action,
      );
      return n > 0;
    },

    async addParent(roleName, parent) {
      if (roleName === parent) return false;
      return prisma.$transaction(async (tx) => {
        await query(
          'addParent',
          tx,
          'SELECT pg_advisory_xact_lock($1::bigint)::text AS locked',
          INHERIT_LOCK,
        );
        const cycle = await query<unknown[]>(
          'addParent',
          tx,
          `WITH RECURSIVE up(role) AS (
             SELECT $1::text
             UNION
             SELECT p.parent FROM ${PARENTS} p JOIN up ON p.role = up.role
           ) SELECT 1 AS found FROM up WHERE role = $2 LIMIT 1`,
          parent,
          roleName,
        );
        if (cycle.length > 0) return false;
        await execute(
          'addParent',
          tx,
          `WITH r AS (${ensureRoles(2)})
           INSERT INTO ${PARENTS} (role, parent) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
          roleName,
          parent,
        );
        return true;
      }, txOptions);
    },

    async removeParent(roleName, parent) {
      return (
        (await execute(
          'removeParent',
          prisma,
          `DELETE FROM ${PARENTS} WHERE role = $1 AND parent = $2`,
          roleName,
          parent,
        )) > 0
      );
    },

    async assign(assignment) {
      await execute(
        'assign',
        prisma,
        `WITH r AS (${ensureRoles(1)})
         INSERT INTO ${ASSIGNMENTS} (role, subject, tenant, resource_type, resource_id) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING`,
        assignment.role,
        assignment.subject,
        ...scopeColumns(assignment.scope),
      );
    },

    async unassign(assignment) {
      const n = await execute(
        'unassign',
        prisma,
        `DELETE FROM ${ASSIGNMENTS} WHERE subject = $1 AND role = $2 AND tenant = $3 AND resource_type = $4 AND resource_id = $5`,
        assignment.subject,
        assignment.role,
        ...scopeColumns(assignment.scope),
      );
      return n > 0;
    },

    async deleteRole(roleName) {
      // Rules, edges and assignments go with it: ON DELETE CASCADE.
      return (await execute('deleteRole', prisma, `DELETE FROM ${ROLES} WHERE name = $1`, roleName)) > 0;
    },

    async listRoles() {
      const rows = await query<{ name: string }[]>(
        'listRoles',
        prisma,
        `SELECT name FROM ${ROLES} ORDER BY name COLLATE "C"`,
      );
      return rows.map((r) => r.name);
    },

    async getRole(roleName) {
      const rows = await query<LoadRow[]>(
        'getRole',
        prisma,
        `SELECT 'n' AS kind, name AS role, NULL AS x, NULL AS y, NULL AS z FROM ${ROLES} WHERE name = $1
         UNION ALL SELECT 'p', role, parent, NULL, NULL FROM ${PARENTS} WHERE role = $1
         UNION ALL SELECT 'r', role, effect, resource, action FROM ${RULES} WHERE role = $1`,
        roleName,
      );
      if (!rows.some((r) => r.kind === 'n')) return undefined;
      return {
        name: roleName,
        inherits: rows.filter((r) => r.kind === 'p').map((r) => r.x!),
        rules: rows
          .filter((r) => r.kind === 'r')
          .map((r) => ({ effect: r.x as Effect, resource: r.y!, action: r.z! })),
      };
    },
  });
}
