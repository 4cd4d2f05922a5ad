// @app/flags over the real @app/config: every service on its own Postgres pool (Prisma) and its own Redis
// connections (redisConfigSync), as separate processes would be.
import { type ConfigService, createConfigService } from '@app/config';
import { prismaConfigStore } from '@app/config/prisma';
import { redisConfigSync } from '@app/config/redis';
import { requirePostgres, requireRedis } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { afterEach, describe, expect, it } from 'vitest';
import { createFlags, type Flags } from './flags.js';
import { flagSourceContract } from './testing.js';
import { deleteFlag, setFlag } from './writer.js';

const redis = await requireRedis();
const db = await requirePostgres({ migrations: ['config'] });

describe.skipIf(!redis.available || !db.available)('@app/flags over @app/config (Postgres + Redis)', () => {
  const open: (ConfigService | Flags)[] = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });

  /** One "instance": a config service with its own Postgres pool and Redis connections. */
  function instance(keyPrefix: string): ConfigService {
    const config = createConfigService({
      store: prismaConfigStore({ prisma: createTestPrisma(db) }),
      sync: redisConfigSync({ client: redis.client(), keyPrefix }),
    });
    open.push(config);
    return config;
  }

  /** `keyPrefix`: tests share one table, so each test but the first keeps its flags under its own prefix. */
  function flagsOn(source: ConfigService, keyPrefix?: string): Flags {
    const flags = createFlags({ source, keyPrefix });
    open.push(flags);
    return flags;
  }

  it('two writers create 200 new flags at once; a fresh instance on a third service sees all 200', async () => {
    const keyPrefix = `${redis.prefix}create:`;
    const writers = [instance(keyPrefix), instance(keyPrefix)];
    const names = Array.from({ length: 200 }, (_, i) => `race-${String(i).padStart(3, '0')}`);
    await Promise.all(
      names.map((name, i) => setFlag(writers[i % 2]!, name, { enabled: true, rollout: i % 101 })),
    );

    const { rows } = await db.query<{ n: string }>(
      `SELECT count(*) AS n FROM app_config_entries WHERE key LIKE 'flags.race-%' AND NOT deleted`,
    );
    expect(rows[0]?.n).toBe('200');

    const fresh = flagsOn(instance(keyPrefix));
    await fresh.ready();
    expect(fresh.names()).toEqual(names);
    expect(fresh.definition('race-150')).toEqual({ enabled: true, rollout: 49 });
  });

  it('a flag flipped through one createFlags is seen by the other, and so are new and deleted flags', async () => {
    const a = instance(`${redis.prefix}flip:`);
    const b = instance(`${redis.prefix}flip:`);
    const keyPrefix = 'flip.';
    await setFlag(a, 'checkout', { enabled: false }, { keyPrefix });
    const flagsA = flagsOn(a, keyPrefix);
    const flagsB = flagsOn(b, keyPrefix);
    await Promise.all([flagsA.ready(), flagsB.ready()]);
    expect(flagsB.evaluate('checkout', { userId: 'u-1' }).reason).toBe('DISABLED');

    await setFlag(a, 'checkout', { enabled: true, overrides: { 'u-2': false } }, { keyPrefix });
    await expect.poll(() => flagsB.isEnabled('checkout', { userId: 'u-1' })).toBe(true);
    expect(flagsB.evaluate('checkout', { userId: 'u-2' })).toMatchObject({
      enabled: false,
      reason: 'TARGETING_MATCH',
    });

    // A flag neither instance has seen, created on B, reaches A through the prefix watch.
    await setFlag(b, 'dark-mode', { enabled: true }, { keyPrefix });
    await expect.poll(() => flagsA.names()).toEqual(['checkout', 'dark-mode']);

    await deleteFlag(b, 'checkout', { keyPrefix });
    await expect.poll(() => flagsA.evaluate('checkout').errorCode).toBe('FLAG_NOT_FOUND');
    const { rows } = await db.query<{ deleted: boolean }>(
      `SELECT deleted FROM app_config_entries WHERE key = 'flip.checkout'`,
    );
    expect(rows).toEqual([{ deleted: true }]);
  });

  let contractRun = 0;
  flagSourceContract({
    describe,
    it,
    expect,
    name: '@app/config services, two instances',
    create: async () => {
      const keyPrefix = `${redis.prefix}contract${++contractRun}:`;
      const a = createConfigService({
        store: prismaConfigStore({ prisma: createTestPrisma(db) }),
        sync: redisConfigSync({ client: redis.client(), keyPrefix }),
      });
      const b = createConfigService({
        store: prismaConfigStore({ prisma: createTestPrisma(db) }),
        sync: redisConfigSync({ client: redis.client(), keyPrefix }),
      });
      return {
        store: a,
        source: a,
        peerSource: b,
        // Every run shares the table: a prefix of its own keeps runs apart.
        keyPrefix: `flags${contractRun}.`,
        cleanup: async () => {
          await Promise.all([a.close(), b.close()]);
        },
      };
    },
  });
});
