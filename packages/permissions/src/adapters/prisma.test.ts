import { requirePostgres, requireRedis } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { createPermissionService } from '../service.js';
import { permissionStoreContract } from '../testing.js';
import { prismaPermissionStore } from './prisma.js';
import { redisPermissionCache } from './redis.js';

const db = await requirePostgres({ migrations: ['permissions'] });
const redis = await requireRedis();

const lines = async (sql: string) => (await db.query<{ line: string }>(sql)).rows.map((r) => r.line).sort();
const inspect = async () => ({
  rules: await lines(
    `SELECT concat_ws('|', role, effect, resource, action) AS line FROM app_permissions_rules`,
  ),
  assignments: await lines(
    `SELECT concat_ws('|', subject, role, tenant, resource_type, resource_id) AS line FROM app_permissions_assignments`,
  ),
  parents: await lines(`SELECT concat_ws('|', role, parent) AS line FROM app_permissions_role_parents`),
});

describe.skipIf(!db.available)('prismaPermissionStore on real Postgres', () => {
  const prisma = db.available ? createTestPrisma(db) : undefined;
  const empty = async () => {
    await db.query(
      'TRUNCATE app_permissions_assignments, app_permissions_role_parents, app_permissions_rules, app_permissions_roles',
    );
    // The race tests queue a thousand transactions on a 10-connection pool: on a loaded CI machine the
    // default 10 s wait for a connection can run out before correctness is even tested.
    const transactionOptions = { maxWaitMs: 60_000, timeoutMs: 60_000 };
    return prismaPermissionStore({ prisma: prisma!, transactionOptions });
  };

  permissionStoreContract({ describe, it, expect, name: 'prisma (Postgres)', create: empty, inspect });

  it('a cold check costs exactly one SQL statement, a cached one none', async () => {
    await empty();
    const queries: string[] = [];
    const store = prismaPermissionStore({ prisma: prisma!, onQuery: (m) => queries.push(m) });
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
    await db.query(`INSERT INTO app_permissions_roles (name) VALUES ('a'), ('b')`);
    await db.query(`INSERT INTO app_permissions_role_parents (role, parent) VALUES ('a', 'b'), ('b', 'a')`);
    await db.query(
      `INSERT INTO app_permissions_rules (role, effect, resource, action) VALUES ('b', 'allow', 'doc', 'read')`,
    );
    await db.query(`INSERT INTO app_permissions_assignments (subject, role) VALUES ('u', 'a')`);
    const permissions = createPermissionService({ store: prismaPermissionStore({ prisma: prisma! }) });
    expect(await permissions.check('u', 'read', 'doc')).toBe(true);
  });
});

describe.skipIf(!db.available || !redis.available)('two instances over Postgres with the Redis cache', () => {
  it('a revoke on one instance is seen by the next check on the other; 1,000 concurrent checks agree', async () => {
    await db.query(
      'TRUNCATE app_permissions_assignments, app_permissions_role_parents, app_permissions_rules, app_permissions_roles',
    );
    const prisma = createTestPrisma(db);
    let loads = 0;
    const instance = () =>
      createPermissionService({
        store: prismaPermissionStore({ prisma, onQuery: (m) => m === 'loadSubject' && loads++ }),
        cache: redisPermissionCache({ client: redis.client(), keyPrefix: `${redis.prefix}pg:` }),
      });
    const a = instance();
    const b = instance();
    await a.grant('owner', 'room:*');
    await a.assign('alice', 'owner', { resource: { type: 'room', id: '42' } });
    const all = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).check('alice', 'delete', 'room:42')),
    );
    expect(all.every(Boolean)).toBe(true);
    expect(loads).toBeLessThanOrEqual(2);
    await b.unassign('alice', 'owner', { resource: { type: 'room', id: '42' } });
    expect(await a.check('alice', 'delete', 'room:42')).toBe(false);
    const rows = await db.query('SELECT * FROM app_permissions_assignments');
    expect(rows.rowCount).toBe(0);
  }, 30_000);
});
