import {
  type Closeable,
  closeable,
  type PrismaProvider,
  type PrismaUnsafeClient,
  prismaProvider,
} from '@app/core';
import { PermissionError, PermissionErrorCode } from '../errors.js';
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
export type PrismaRawClient = PrismaUnsafeClient;

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

/** The databases the store speaks (Prisma's provider names; MariaDB is `mysql`). */
export type PermissionSqlProvider = PrismaProvider;

/** Options of {@link prismaPermissionStore}. */
export interface PrismaPermissionStoreOptions {
  /** Your PrismaClient (PostgreSQL, MySQL/MariaDB or SQLite). The store never disconnects it. */
  prisma: PermissionPrismaClient;
  /**
   * The client's database, when it cannot be read from the client (a wrapped client).
   * @default read from the client (`_activeProvider`, else its driver adapter's `provider`)
   */
  provider?: PermissionSqlProvider;
  /**
   * Passed to the interactive transactions the store runs (adding an inheritance edge everywhere; on MySQL
   * and SQLite also the writes that create a role with its rule or assignment).
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
/** The advisory lock key that serialises inheritance writes on PostgreSQL ('perm' in ASCII). */
const INHERIT_LOCK = 0x7065726d;
/**
 * The row whose write lock serialises inheritance writes on MySQL and SQLite. Not a valid role name (`~` is
 * not allowed in one), so no caller can read, assign or delete it; `listRoles` leaves it out.
 */
const LOCK_ROW = '~inherit-lock';

/** The client's database: the `provider` option, else what the generated client or its driver adapter says. */
function providerOf(prisma: unknown, explicit: string | undefined): PermissionSqlProvider {
  return prismaProvider(
    prisma,
    explicit,
    (named) =>
      new PermissionError(
        PermissionErrorCode.INVALID_OPTIONS,
        named === undefined
          ? "cannot tell the Prisma client's database: pass provider: 'postgresql' | 'mysql' | 'sqlite'"
          : `unsupported provider ${JSON.stringify(named)} (postgresql, mysql or sqlite)`,
      ),
  );
}

/** The statements of one dialect, written with `?` placeholders (renumbered `$n` for PostgreSQL). */
function statementsFor(provider: PermissionSqlProvider) {
  const pg = provider === 'postgresql';
  const sql = (text: string) => {
    if (!pg) return text;
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  };
  // An insert that does nothing when the row exists (and still fails on a foreign key, unlike INSERT IGNORE).
  const insert = (table: string, columns: string, values: string, key: string) =>
    provider === 'mysql'
      ? `INSERT INTO ${table} (${columns}) VALUES ${values} ON DUPLICATE KEY UPDATE ${key} = ${key}`
      : `INSERT INTO ${table} (${columns}) VALUES ${values} ON CONFLICT DO NOTHING`;
  const text = pg ? '?::text' : 'CAST(? AS CHAR(191))';
  // MySQL compares strings through the column's collation: PAD SPACE ('alice ' = 'alice') and, with a _ci
  // collation such as the one Prisma's MySQL schema gets by default, case-insensitively. Ids must match
  // exactly, so there the value is also compared as bytes (the first comparison keeps the index in use).
  const eq = (column: string) =>
    provider === 'mysql'
      ? `${column} = ? AND CAST(${column} AS BINARY) = CAST(? AS BINARY)`
      : `${column} = ?`;
  return {
    // One statement: the subject's assignments, the closure of their roles (UNION stops on cycles), and the
    // edges and rules of that closure, as rows of one shape.
    loadSubject: sql(`
WITH RECURSIVE assigned AS (
  SELECT role, tenant, resource_type, resource_id FROM ${ASSIGNMENTS} WHERE ${eq('subject')}
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
SELECT 'r', role, effect, resource, action FROM ${RULES} WHERE role IN (SELECT role FROM closure)`),
    ensureRoles: (n: number) =>
      sql(insert(ROLES, 'name', Array.from({ length: n }, () => '(?)').join(', '), 'name')),
    addRule: sql(insert(RULES, 'role, effect, resource, action', '(?, ?, ?, ?)', 'role')),
    assign: sql(
      insert(ASSIGNMENTS, 'role, subject, tenant, resource_type, resource_id', '(?, ?, ?, ?, ?)', 'role'),
    ),
    addParent: sql(insert(PARENTS, 'role, parent', '(?, ?)', 'role')),
    // PostgreSQL creates the role and writes the row in one statement (a data-modifying CTE).
    withRoles: (n: number, statement: string) =>
      `WITH r AS (${sql(insert(ROLES, 'name', Array.from({ length: n }, () => '(?)').join(', '), 'name'))}) ${statement.replace(/\$(\d+)/g, (_, i) => `$${Number(i) + n}`)}`,
    lock: pg
      ? sql('SELECT pg_advisory_xact_lock(?::bigint)::text AS locked')
      : sql(insert(ROLES, 'name', '(?)', 'name')),
    reaches: sql(`WITH RECURSIVE up(role) AS (
  SELECT ${text}
  UNION
  SELECT p.parent FROM ${PARENTS} p JOIN up ON p.role = up.role
) SELECT 1 AS found FROM up WHERE role = ? LIMIT 1`),
    removeRule: sql(`DELETE FROM ${RULES} WHERE role = ? AND effect = ? AND resource = ? AND action = ?`),
    removeParent: sql(`DELETE FROM ${PARENTS} WHERE role = ? AND parent = ?`),
    unassign: sql(
      `DELETE FROM ${ASSIGNMENTS} WHERE ${eq('subject')} AND role = ? AND ${eq('tenant')} AND resource_type = ? AND ${eq('resource_id')}`,
    ),
    /** The values of an exact comparison (`eq`): twice on MySQL. */
    exact: (value: string) => (provider === 'mysql' ? [value, value] : [value]),
    deleteRole: sql(`DELETE FROM ${ROLES} WHERE name = ?`),
    // SQLite enforces ON DELETE CASCADE only with PRAGMA foreign_keys on: delete the dependants explicitly.
    deleteDependants: [
      sql(`DELETE FROM ${RULES} WHERE role = ?`),
      sql(`DELETE FROM ${PARENTS} WHERE role = ? OR parent = ?`),
      sql(`DELETE FROM ${ASSIGNMENTS} WHERE role = ?`),
    ],
    listRoles: sql(
      `SELECT name FROM ${ROLES} WHERE name <> ? ORDER BY name ${pg ? 'COLLATE "C"' : provider === 'mysql' ? 'COLLATE utf8mb4_bin' : ''}`,
    ),
    getRole:
      sql(`SELECT 'n' AS kind, name AS role, NULL AS x, NULL AS y, NULL AS z FROM ${ROLES} WHERE name = ?
UNION ALL SELECT 'p', role, parent, NULL, NULL FROM ${PARENTS} WHERE role = ?
UNION ALL SELECT 'r', role, effect, resource, action FROM ${RULES} WHERE role = ?`),
  };
}

interface LoadRow {
  kind: 'a' | 'n' | 'p' | 'r';
  role: string;
  x: string | null;
  y: string | null;
  z: string | null;
}

function scopeColumns(scope: NormalizedScope): [string, string, string] {
  return [scope.tenant ?? '', scope.resource?.type ?? '', scope.resource?.id ?? ''];
}

function scopeOf(tenant: string, type: string, id: string): NormalizedScope {
  const scope: NormalizedScope = {};
  if (tenant !== '') scope.tenant = tenant;
  if (type !== '') scope.resource = { type, id };
  return scope;
}

/** Thrown inside a transaction to roll it back (an inheritance edge that would close a cycle). */
class Refused extends Error {}

/**
 * Keeps roles, rules and assignments in your database through your PrismaClient: PostgreSQL, MySQL 8 /
 * MariaDB 10.11 or SQLite, found from the client (or the `provider` option). Add the models from
 * `prisma/schema.prisma` to your schema (`npx app-prisma generate permissions`), or apply the SQL in
 * `prisma/migrations` (PostgreSQL), `prisma/mysql/migrations` or `prisma/sqlite/migrations`. Loading a
 * subject is one SQL statement (a recursive CTE) on every database, so a cold check costs one query.
 *
 * Why each write is atomic:
 * - **PostgreSQL**: a write that creates a role is one statement (a data-modifying CTE inserts the role and
 *   the row; foreign keys are checked at its end). Adding an inheritance edge runs in a transaction holding
 *   `pg_advisory_xact_lock`, so two concurrent edges cannot close a cycle between them.
 * - **MySQL / MariaDB** (InnoDB, no data-modifying CTE): the role and the row are written in one
 *   transaction; `ON DUPLICATE KEY UPDATE` makes repeats no-ops without swallowing foreign-key errors as
 *   `INSERT IGNORE` would. Inheritance writes first upsert one lock row, whose exclusive row lock is held
 *   until commit, so they run one at a time and each cycle check sees every committed edge.
 * - **SQLite**: one writer at a time. Prisma's transactions start deferred, so each transaction's first
 *   statement is a write (the lock row for inheritance, the role otherwise): it takes the database's write
 *   lock before anything is read, also against other processes on the same file.
 * Removals are single `DELETE`s everywhere (their count says whether the row existed, exactly once under
 * concurrency); deleting a role removes its dependants by `ON DELETE CASCADE` (explicitly on SQLite).
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
  const provider = providerOf(prisma, options.provider);
  const pg = provider === 'postgresql';
  const q = statementsFor(provider);
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

  /** Creates `roles` and writes one row that references them, atomically (see the doc comment). */
  const withRoles = async (method: string, roles: string[], statement: string, values: unknown[]) => {
    if (pg) {
      await execute(method, prisma, q.withRoles(roles.length, statement), ...roles, ...values);
      return;
    }
    await prisma.$transaction(async (tx) => {
      await execute(method, tx, q.ensureRoles(roles.length), ...roles);
      await execute(method, tx, statement, ...values);
    }, txOptions);
  };

  return closeable<Omit<PermissionStore, keyof Closeable>>({
    async loadSubject(subject): Promise<SubjectPolicy> {
      const rows = await query<LoadRow[]>('loadSubject', prisma, q.loadSubject, ...q.exact(subject));
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
      await withRoles('addRule', [roleName], q.addRule, [roleName, rule.effect, rule.resource, rule.action]);
    },

    async removeRule(roleName, rule: Rule) {
      const n = await execute(
        'removeRule',
        prisma,
        q.removeRule,
        roleName,
        rule.effect,
        rule.resource,
        rule.action,
      );
      return n > 0;
    },

    async addParent(roleName, parent) {
      if (roleName === parent) return false;
      try {
        return await prisma.$transaction(async (tx) => {
          if (pg) await query('addParent', tx, q.lock, INHERIT_LOCK);
          else await execute('addParent', tx, q.lock, LOCK_ROW);
          const cycle = await query<unknown[]>('addParent', tx, q.reaches, parent, roleName);
          if (cycle.length > 0) throw new Refused();
          await execute('addParent', tx, q.ensureRoles(2), roleName, parent);
          await execute('addParent', tx, q.addParent, roleName, parent);
          return true;
        }, txOptions);
      } catch (error) {
        if (error instanceof Refused) return false;
        throw error;
      }
    },

    async removeParent(roleName, parent) {
      return (await execute('removeParent', prisma, q.removeParent, roleName, parent)) > 0;
    },

    async assign(assignment) {
      await withRoles('assign', [assignment.role], q.assign, [
        assignment.role,
        assignment.subject,
        ...scopeColumns(assignment.scope),
      ]);
    },

    async unassign(assignment) {
      const [tenant, type, id] = scopeColumns(assignment.scope);
      const n = await execute(
        'unassign',
        prisma,
        q.unassign,
        ...q.exact(assignment.subject),
        assignment.role,
        ...q.exact(tenant),
        type,
        ...q.exact(id),
      );
      return n > 0;
    },

    async deleteRole(roleName) {
      if (provider !== 'sqlite') return (await execute('deleteRole', prisma, q.deleteRole, roleName)) > 0;
      return prisma.$transaction(async (tx) => {
        const existed = (await execute('deleteRole', tx, q.deleteRole, roleName)) > 0;
        const [rules, parents, assignments] = q.deleteDependants;
        await execute('deleteRole', tx, rules!, roleName);
        await execute('deleteRole', tx, parents!, roleName, roleName);
        await execute('deleteRole', tx, assignments!, roleName);
        return existed;
      }, txOptions);
    },

    async listRoles() {
      const rows = await query<{ name: string }[]>('listRoles', prisma, q.listRoles, LOCK_ROW);
      return rows.map((r) => r.name);
    },

    async getRole(roleName) {
      const rows = await query<LoadRow[]>('getRole', prisma, q.getRole, roleName, roleName, roleName);
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
