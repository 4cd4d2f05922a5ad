import { requireMariaDb } from '@app/test-harness';
import { createTestPrismaMariaDb } from '@app/test-harness/prisma-mariadb';
import { prismaDialectSuite, type RawConfigRow, shippedMigration } from './prisma.fixture.js';

// MariaDB 10.11 (MySQL dialect): a database of this file's own, created from the migration the package
// ships (prisma/mysql/migrations), dropped after the file.
const db = await requireMariaDb();
if (db.available) {
  for (const sql of shippedMigration('prisma/mysql/migrations/0001_init.sql')) await db.query(sql);
}
const prisma = db.available ? createTestPrismaMariaDb(db) : undefined;

prismaDialectSuite({
  provider: 'mysql',
  available: db.available,
  prisma: () => prisma as never,
  rows: () =>
    db.query<RawConfigRow[]>('SELECT `key`, value, version, deleted, expires_at FROM app_config_entries'),
  exec: async (sql) => {
    await db.query(sql);
  },
  concurrency: 100,
});
