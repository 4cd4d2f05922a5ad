import { requireSqlite } from '@app/test-harness';
import { createTestPrismaSqlite } from '@app/test-harness/prisma-sqlite';
import { describe } from 'vitest';
import { prismaStoreSuites } from './prisma.fixture.js';

// Its own database file, with the DDL generated from prisma/schema.prisma for SQLite; removed after the file.
const db = await requireSqlite({ migrations: ['delivery'] });

describe.skipIf(!db.available)('Prisma stores on SQLite (better-sqlite3)', () => {
  prismaStoreSuites({
    name: 'sqlite',
    prisma: createTestPrismaSqlite(db),
    other: createTestPrismaSqlite(db),
    column: async (table, column) =>
      (db.db.prepare(`SELECT "${column}" AS v FROM ${table}`).all() as Array<{ v: unknown }>).map((r) =>
        String(r.v),
      ),
  });
});
