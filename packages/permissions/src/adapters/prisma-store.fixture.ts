// The Prisma store's suite, run on PostgreSQL, MariaDB and SQLite (one test file each, each with its own
// database): the shared contract, read back from the tables, plus what only a SQL store can get wrong.
import type { TestDatabase } from '@app/test-harness/database';
import { describe, expect, it } from 'vitest';
import { createPermissionService } from '../service.js';
import { permissionStoreContract } from '../testing.js';
import { type PermissionPrismaClient, type PermissionSqlProvider, prismaPermissionStore } from './prisma.js';

/** How each dialect's tests are named. */
const LABEL = { postgresql: 'PostgreSQL', mysql: 'MariaDB', sqlite: 'SQLite' } as const;

const TABLES = [
  'app_permissions_assignments',
  'app_permissions_role_parents',
  'app_permissions_rules',
  'app_permissions_roles',
];

/** Registers the suite on one database (skipped, with the harness' line, when it is unavailable). */
export function prismaStoreSuite(db: TestDatabase): void {
  describe.skipIf(!db.available)(`on ${LABEL[db.provider]}`, () => dialectSuite(db));
}

function dialectSuite(db: TestDatabase): void {
  const o = {
    name: `prisma (${LABEL[db.provider]})`,
    provider: db.provider as PermissionSqlProvider,
    prisma: () => db.prisma<PermissionPrismaClient>(),
    sql: <R>(text: string) => db.sql<R>(text),
  };
  const lines = async (text: string) =>
    (await o.sql<{ line: string }>(text)).map((r) => String(r.line)).sort();
  const inspect = async () => ({
    rules: await lines(
      `SELECT concat_ws('|', role, effect, resource, action) AS line FROM app_permissions_rules`,
    ),
    assignments: await lines(
      `SELECT concat_ws('|', subject, role, tenant, resource_type, resource_id) AS line FROM app_permissions_assignments`,
    ),
    parents: await lines(`SELECT concat_ws('|', role, parent) AS line FROM app_permissions_role_parents`),
  });
  const empty = async () => {
    for (const table of TABLES) await o.sql(`DELETE FROM ${table}`);
  };
  // The race tests queue a thousand writes on a small pool: on a loaded machine the default 10 s wait for a
  // connection can run out before correctness is even tested.
  const transactionOptions = { maxWaitMs: 60_000, timeoutMs: 60_000 };
  const fresh = async (onQuery?: (m: string) => void) => {
    await empty();
    return prismaPermissionStore({ prisma: o.prisma(), transactionOptions, onQuery });
  };

  permissionStoreContract({
    describe,
    it,
    expect,
    name: o.name,
    create: () => fresh(),
    inspect,
    timeoutMs: 120_000,
  });

  describe(`prismaPermissionStore on ${o.name}: SQL`, () => {
    it('finds the database from the client', () => {
      const store = prismaPermissionStore({ prisma: o.prisma() });
      expect(store).toBeDefined();
      const p = o.prisma();
      const wrapped: PermissionPrismaClient = {
        $queryRawUnsafe: (text, ...values) => p.$queryRawUnsafe(text, ...values),
        $executeRawUnsafe: (text, ...values) => p.$executeRawUnsafe(text, ...values),
        $transaction: (fn, options) => p.$transaction(fn, options),
      };
      expect(() => prismaPermissionStore({ prisma: wrapped })).toThrow(/provider/);
      expect(prismaPermissionStore({ prisma: wrapped, provider: o.provider })).toBeDefined();
    });

    it('a cold check costs exactly one SQL statement, a cached one none', async () => {
      const queries: string[] = [];
      const store = await fresh((m) => queries.push(m));
      const permissions = createPermissionService({ store });
      await permissions.grant('viewer', 'doc:read');
      await permissions.inherit('editor', 'viewer');
      await permissions.inherit('admin', 'editor');
      await permissions.assign('u', 'admin', { tenant: 'acme' });
      await permissions.assign('u', 'owner', { resource: { type: 'doc', id: '1' } });
      queries.length = 0;
      const decision = await permissions.explain('u', 'read', { type: 'doc', tenant: 'acme' });
      expect(decision.matched?.via).toEqual(['admin', 'editor', 'viewer']);
      expect(queries).toEqual(['loadSubject']);
      await permissions.check('u', 'read', 'doc:1');
      expect(queries).toEqual(['loadSubject']);
    });

    it('survives stored cycles written behind its back (loads terminate)', async () => {
      await empty();
      await o.sql(`INSERT INTO app_permissions_roles (name) VALUES ('a'), ('b')`);
      await o.sql(`INSERT INTO app_permissions_role_parents (role, parent) VALUES ('a', 'b'), ('b', 'a')`);
      await o.sql(
        `INSERT INTO app_permissions_rules (role, effect, resource, action) VALUES ('b', 'allow', 'doc', 'read')`,
      );
      await o.sql(`INSERT INTO app_permissions_assignments (subject, role) VALUES ('u', 'a')`);
      const permissions = createPermissionService({ store: prismaPermissionStore({ prisma: o.prisma() }) });
      expect(await permissions.check('u', 'read', 'doc')).toBe(true);
    });

    it('compares subjects, roles and ids exactly (case and trailing spaces matter)', async () => {
      const permissions = createPermissionService({ store: await fresh() });
      await permissions.grant('owner', 'room:*');
      await permissions.assign('Alice', 'owner', { resource: { type: 'room', id: 'A1' } });
      expect(await permissions.check('Alice', 'delete', 'room:A1')).toBe(true);
      expect(await permissions.check('alice', 'delete', 'room:A1')).toBe(false);
      expect(await permissions.check('Alice ', 'delete', 'room:A1')).toBe(false);
      expect(await permissions.check('Alice', 'delete', 'room:a1')).toBe(false);
      await permissions.grant('Owner', 'doc:read');
      expect((await permissions.listRoles()).sort()).toEqual(['Owner', 'owner']);
      // Removing an assignment matches it exactly too.
      expect(await permissions.unassign('alice', 'owner', { resource: { type: 'room', id: 'A1' } })).toBe(
        false,
      );
      expect(await permissions.unassign('Alice ', 'owner', { resource: { type: 'room', id: 'A1' } })).toBe(
        false,
      );
      expect(await permissions.unassign('Alice', 'owner', { resource: { type: 'room', id: 'a1' } })).toBe(
        false,
      );
      expect(await permissions.check('Alice', 'delete', 'room:A1')).toBe(true);
    });

    it('grants and revokes are atomic under concurrency: one row, exactly one removal reports it', async () => {
      const store = await fresh();
      const rule = { effect: 'allow' as const, resource: 'doc', action: 'read' };
      await Promise.all(Array.from({ length: 100 }, () => store.addRule('editor', rule)));
      expect((await inspect()).rules).toEqual(['editor|allow|doc|read']);
      const removed = await Promise.all(Array.from({ length: 100 }, () => store.removeRule('editor', rule)));
      expect(removed.filter(Boolean)).toHaveLength(1);
      // Grants racing with revokes of other rules of the same role, and assignments creating the role.
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          i % 4 === 0
            ? store.addRule('editor', { ...rule, action: `a${i}` })
            : i % 4 === 1
              ? store.removeRule('editor', { ...rule, action: `a${i - 1}` })
              : i % 4 === 2
                ? store.assign({ subject: `s${i}`, role: 'editor', scope: {} })
                : store.addParent(`child${i}`, 'editor'),
        ),
      );
      const raw = await inspect();
      expect(raw.assignments).toHaveLength(50);
      expect(raw.parents).toHaveLength(50);
      // Each removal ran either before its grant (nothing removed, rule stays) or after (both gone).
      expect(raw.rules.length).toBeLessThanOrEqual(50);
      expect(await store.listRoles()).toContain('editor');
    });
  });
}
