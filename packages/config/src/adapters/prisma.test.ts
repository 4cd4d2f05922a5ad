import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { expect, it } from 'vitest';
import { prismaDialectSuite, type RawConfigRow } from './prisma.fixture.js';
import { prismaConfigStore } from './prisma.js';

// PostgreSQL: a schema of this file's own, created from the migration the package ships (prisma/migrations),
// dropped after the file.
const db = await requirePostgres({ migrations: ['config'] });
const prisma = db.available ? createTestPrisma(db) : undefined;

prismaDialectSuite({
  provider: 'postgresql',
  available: db.available,
  prisma: () => prisma as never,
  rows: async () =>
    (await db.query<RawConfigRow>('SELECT key, value, version, deleted, expires_at FROM app_config_entries'))
      .rows,
  exec: async (sql) => {
    await db.query(sql);
  },
});

it('rejects a client without the ConfigEntry model before any I/O', () => {
  expect(() => prismaConfigStore({ prisma: {} as never })).toThrow(/ConfigEntry model/);
});
