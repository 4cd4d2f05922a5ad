import { requireRedis } from '@app/test-harness';
import { requireDatabase } from '@app/test-harness/database';
import { describe, expect, it } from 'vitest';
import { createPermissionService } from '../service.js';
import { type PermissionPrismaClient, prismaPermissionStore } from './prisma.js';
import { prismaStoreSuite } from './prisma-store.fixture.js';
import { redisPermissionCache } from './redis.js';

const db = await requireDatabase('postgresql', { shipped: ['permissions'] });
const redis = await requireRedis();

prismaStoreSuite(db);

describe.skipIf(!db.available || !redis.available)('two instances over Postgres with the Redis cache', () => {
  it('a revoke on one instance is seen by the next check on the other; 1,000 concurrent checks agree', async () => {
    await db.sql(
      'TRUNCATE app_permissions_assignments, app_permissions_role_parents, app_permissions_rules, app_permissions_roles',
    );
    let loads = 0;
    const instance = () =>
      createPermissionService({
        store: prismaPermissionStore({
          prisma: db.prisma<PermissionPrismaClient>(),
          onQuery: (m) => m === 'loadSubject' && loads++,
        }),
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
    expect(await db.sql('SELECT * FROM app_permissions_assignments')).toEqual([]);
  }, 30_000);
});
