import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { configStoreContract } from '../testing.js';
import type { ConfigRecord } from '../types.js';
import { prismaConfigStore } from './prisma.js';

const db = await requirePostgres({ migrations: ['config'] });

describe.skipIf(!db.available)('prismaConfigStore on real Postgres', () => {
  const prisma = createTestPrisma(db);

  /** Reads every row with plain SQL, to check what the adapter wrote. */
  async function inspect(): Promise<Map<string, ConfigRecord>> {
    const { rows } = await db.query<{
      key: string;
      value: string;
      version: string;
      deleted: boolean;
      expires_at: Date | null;
    }>('SELECT key, value, version, deleted, expires_at FROM app_config_entries');
    const out = new Map<string, ConfigRecord>();
    for (const row of rows) {
      const key = row.key;
      if (row.deleted) out.set(key, { key, version: Number(row.version), deleted: true });
      else
        out.set(key, {
          key,
          version: Number(row.version),
          value: JSON.parse(row.value),
          expiresAt: row.expires_at ? row.expires_at.getTime() : null,
          deleted: false,
        });
    }
    return out;
  }

  configStoreContract({
    describe,
    it,
    expect,
    name: 'prisma (real Postgres)',
    create: () => prismaConfigStore({ prisma }),
    inspect,
    concurrency: 200,
    timeoutMs: 60_000,
  });

  it('reports corrupt JSON in a row as a STORE_ERROR', async () => {
    const store = prismaConfigStore({ prisma });
    await db.query(
      `INSERT INTO app_config_entries (key, value, version, updated_at) VALUES ('corrupt', '{nope', 1, now())`,
    );
    await expect(store.get('corrupt')).rejects.toMatchObject({ code: 'STORE_ERROR' });
  });

  it('rejects a client without the ConfigEntry model before any I/O', () => {
    expect(() => prismaConfigStore({ prisma: {} as never })).toThrow(/ConfigEntry model/);
  });
});
