import { requireSqlite } from '@app/test-harness';
import { createTestPrismaSqlite } from '@app/test-harness/prisma-sqlite';
import { describe } from 'vitest';
import { prismaStoreSuite, shippedMigration } from './prisma-store.fixture.js';

// Its own temp file, with the migration this package ships for SQLite applied.
const db = await requireSqlite();
if (db.available) for (const statement of shippedMigration('sqlite')) db.db.exec(statement);
const prisma = db.available ? createTestPrismaSqlite(db) : undefined;

describe.skipIf(!db.available)('on SQLite', () => {
  prismaStoreSuite({
    name: 'prisma (SQLite)',
    provider: 'sqlite',
    prisma: () => prisma!,
    sql: async (text) => {
      const statement = db.db.prepare(text);
      if (statement.reader) return statement.all() as never[];
      statement.run();
      return [];
    },
  });
});
