import { requirePostgres, requireRedis } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it, vi } from 'vitest';
import { prismaConfigStore } from './adapters/prisma.js';
import { redisCacheKey, redisConfigSync } from './adapters/redis/index.js';
import { createConfigService } from './service.js';

const redis = await requireRedis();
const db = await requirePostgres({ migrations: ['config'] });

describe.skipIf(!redis.available || !db.available)(
  'two instances: Postgres through Prisma + Redis, separate connections',
  () => {
    const prisma = createTestPrisma(db);
    const store = prismaConfigStore({ prisma });

    function instance(keyPrefix: string) {
      // Each instance has its own Redis connection (and its own subscriber duplicated from it).
      return createConfigService({
        store,
        sync: redisConfigSync({ client: redis.client(), keyPrefix }),
        cache: { ttlMs: 600_000 }, // long enough that only notifications can explain a fresh value
      });
    }

    it("a set on A is seen by get on B, a delete too, and B's watchers fire", async () => {
      const keyPrefix = `${redis.prefix}x1:`;
      const a = instance(keyPrefix);
      const b = instance(keyPrefix);
      await a.set('feature.x', 'v1');
      expect(await b.get('feature.x')).toBe('v1'); // B now caches v1
      const seen = vi.fn();
      b.watch('feature.*', seen);

      await a.set('feature.x', 'v2');
      await vi.waitFor(() => expect(b.peek('feature.x')).toBe('v2'));
      expect(await b.get('feature.x')).toBe('v2');

      await a.delete('feature.x');
      await vi.waitFor(() => expect(seen).toHaveBeenCalledTimes(2));
      expect(await b.get('feature.x', 'default')).toBe('default');
      expect(seen.mock.calls).toEqual([
        ['v2', 'feature.x'],
        [undefined, 'feature.x'],
      ]);

      // What each layer holds: a tombstone row in Postgres, a tombstone in the Redis cache.
      const { rows } = await db.query('SELECT version, deleted FROM app_config_entries WHERE key = $1', [
        'feature.x',
      ]);
      expect(rows).toEqual([{ version: '3', deleted: true }]);
      expect(await redis.client().hgetall(redisCacheKey(keyPrefix, 'feature.x'))).toMatchObject({
        v: '3',
        t: '1',
      });
      await a.close();
      await b.close();
    });

    it('concurrent sets on both instances converge on the highest version everywhere', async () => {
      const keyPrefix = `${redis.prefix}x2:`;
      const a = instance(keyPrefix);
      const b = instance(keyPrefix);
      await Promise.all([a.get('race'), b.get('race')]);
      const writes = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          (i % 2 === 0 ? a : b).set('race', i).then((version) => ({ i, version })),
        ),
      );
      const last = writes.reduce((x, y) => (y.version > x.version ? y : x));
      expect(last.version).toBe(100);
      await vi.waitFor(() => {
        expect(a.peek('race')).toBe(last.i);
        expect(b.peek('race')).toBe(last.i);
      });
      expect(await redis.client().hgetall(redisCacheKey(keyPrefix, 'race'))).toMatchObject({
        v: '100',
        d: String(last.i),
      });
      await a.close();
      await b.close();
    });
  },
);
