// ConfigService.list over every durable store: memory, and real Postgres through Prisma (each test checks
// what the store holds underneath, so "not listed" never just means "not written"). Then two services on
// separate Postgres and Redis connections.
import { requirePostgres, requireRedis } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { memoryConfigStore } from './adapters/memory.js';
import { prismaConfigStore } from './adapters/prisma.js';
import { redisConfigSync } from './adapters/redis/index.js';
import { createConfigService } from './service.js';
import type { ConfigRecord, ConfigStore } from './types.js';

const redis = await requireRedis();
const db = await requirePostgres({ migrations: ['config'] });

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

interface StoreFixture {
  store: ConfigStore;
  /** What the storage holds for `key`, read underneath the adapter (tombstones and expired rows included). */
  raw(key: string): Promise<ConfigRecord | undefined>;
}

let run = 0;

function describeList(name: string, create: () => StoreFixture) {
  describe(`ConfigService.list over ${name}`, () => {
    // Each test its own namespace, so a shared table never mixes tests.
    const ns = () => `l${++run}.`;

    it('returns key -> { value, version, expiresAt } for live entries under a literal prefix, in key order', async () => {
      const { store } = create();
      const p = ns();
      const config = createConfigService({ store });
      await config.set(`${p}b`, { on: true });
      await config.set(`${p}a`, 'one');
      await config.set(`${p}a`, 'two');
      await config.set(`${p}a.nested`, [1, 2]);
      await config.set(`${p.slice(0, -1)}x`, 'outside: no dot'); // shares the prefix minus its dot
      await config.set(`${p}%`, 'percent'); // LIKE wildcards are literal
      await config.set(`${p}_`, 'underscore');
      const listed = await config.list(p);
      expect([...listed]).toEqual([
        [`${p}%`, { value: 'percent', version: 1, expiresAt: null }],
        [`${p}_`, { value: 'underscore', version: 1, expiresAt: null }],
        [`${p}a`, { value: 'two', version: 2, expiresAt: null }],
        [`${p}a.nested`, { value: [1, 2], version: 1, expiresAt: null }],
        [`${p}b`, { value: { on: true }, version: 1, expiresAt: null }],
      ]);
      expect([...(await config.list(`${p}a`)).keys()]).toEqual([`${p}a`, `${p}a.nested`]);
      expect((await config.list(`${p}zzz`)).size).toBe(0);
      await config.close();
    });

    it('leaves out deleted keys (tombstones stay in the store) and lists a re-created key again', async () => {
      const { store, raw } = create();
      const p = ns();
      const config = createConfigService({ store });
      await config.set(`${p}kept`, 1);
      await config.set(`${p}gone`, 2);
      expect(await config.delete(`${p}gone`)).toBe(true);
      expect(await raw(`${p}gone`)).toEqual({ key: `${p}gone`, version: 2, deleted: true });
      expect([...(await config.list(p)).keys()]).toEqual([`${p}kept`]);

      await config.set(`${p}gone`, 'back');
      expect((await config.list(p)).get(`${p}gone`)).toEqual({ value: 'back', version: 3, expiresAt: null });
      await config.close();
    });

    it('leaves out entries whose TTL has passed (still in the store until overwritten)', async () => {
      const { store, raw } = create();
      const p = ns();
      const c = clock();
      const config = createConfigService({ store, now: c.now });
      await config.set(`${p}promo`, 'on', { ttlMs: 5000 });
      await config.set(`${p}forever`, 'on');
      expect((await config.list(p)).get(`${p}promo`)).toEqual({
        value: 'on',
        version: 1,
        expiresAt: c.now() + 5000,
      });
      c.advance(4999);
      expect([...(await config.list(p)).keys()]).toEqual([`${p}forever`, `${p}promo`]);
      c.advance(1);
      expect([...(await config.list(p)).keys()]).toEqual([`${p}forever`]);
      expect(await raw(`${p}promo`)).toMatchObject({ value: 'on', deleted: false, expiresAt: 1_005_000 });
      await config.close();
    });

    it('sees writes made by another service on the same store, with no notification at all', async () => {
      const { store } = create();
      const p = ns();
      // Private in-process syncs: the services share nothing but the store.
      const writer = createConfigService({ store });
      const reader = createConfigService({ store });
      expect((await reader.list(p)).size).toBe(0);
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => writer.set(`${p}k${String(i).padStart(2, '0')}`, i)),
      );
      await writer.delete(`${p}k07`);
      const listed = await reader.list(p);
      expect(listed.size).toBe(49);
      expect(listed.has(`${p}k07`)).toBe(false);
      expect(listed.get(`${p}k49`)?.value).toBe(49);
      await Promise.all([writer.close(), reader.close()]);
    });
  });
}

describeList('memory', () => {
  const store = memoryConfigStore();
  return { store, raw: async (key) => store.dump().get(key) };
});

describe.skipIf(!db.available)('on real Postgres', () => {
  const prisma = createTestPrisma(db);
  describeList('Postgres through Prisma', () => ({
    store: prismaConfigStore({ prisma }),
    async raw(key) {
      const { rows } = await db.query<{
        value: string;
        version: string;
        deleted: boolean;
        expires_at: Date | null;
      }>('SELECT value, version, deleted, expires_at FROM app_config_entries WHERE key = $1', [key]);
      const row = rows[0];
      if (!row) return undefined;
      if (row.deleted) return { key, version: Number(row.version), deleted: true };
      return {
        key,
        value: JSON.parse(row.value),
        version: Number(row.version),
        expiresAt: row.expires_at ? row.expires_at.getTime() : null,
        deleted: false,
      };
    },
  }));
});

describe.skipIf(!redis.available || !db.available)(
  'ConfigService.list across two instances: separate Postgres and Redis connections',
  () => {
    it('B lists what A set, and stops listing what A deleted', async () => {
      const keyPrefix = `${redis.prefix}list:`;
      const instance = () =>
        createConfigService({
          store: prismaConfigStore({ prisma: createTestPrisma(db) }), // its own pool
          sync: redisConfigSync({ client: redis.client(), keyPrefix }),
          cache: { ttlMs: 600_000 },
        });
      const a = instance();
      const b = instance();
      await a.set('shared.one', 1);
      await a.set('shared.two', 2);
      expect([...(await b.list('shared.'))]).toEqual([
        ['shared.one', { value: 1, version: 1, expiresAt: null }],
        ['shared.two', { value: 2, version: 1, expiresAt: null }],
      ]);
      await a.delete('shared.one');
      expect([...(await b.list('shared.')).keys()]).toEqual(['shared.two']);
      await Promise.all([a.close(), b.close()]);
    });
  },
);
