import { requireSqlite } from '@app/test-harness';
import { createTestPrismaSqlite } from '@app/test-harness/prisma-sqlite';
import { prismaDialectSuite, type RawConfigRow, shippedMigration } from './prisma.fixture.js';

// SQLite: a file of this test file's own, created from the migration the package ships
// (prisma/sqlite/migrations), removed after the file.
const db = await requireSqlite();
if (db.available) {
  for (const sql of shippedMigration('prisma/sqlite/migrations/0001_init.sql')) db.db.exec(sql);
}
const prisma = db.available ? createTestPrismaSqlite(db) : undefined;

prismaDialectSuite({
  provider: 'sqlite',
  available: db.available,
  prisma: () => prisma as never,
  rows: async () =>
    db.db
      .prepare('SELECT "key", value, version, deleted, expires_at FROM app_config_entries')
      .all() as RawConfigRow[],
  exec: async (sql) => {
    db.db.exec(sql);
  },
});
