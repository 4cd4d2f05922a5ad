import { requireSqlite } from '@app/test-harness';
import { createTestPrismaSqlite } from '@app/test-harness/prisma-sqlite';
import { prismaDialectSuite } from './prisma.fixture.js';

// SQLite: a file of this test file's own, removed after the file. Tables from the shipped migration (prisma/sqlite/migrations).
const db = await requireSqlite();
const prisma = db.available ? createTestPrismaSqlite(db) : undefined;
prismaDialectSuite({
  provider: 'sqlite',
  available: db.available,
  prisma: () => prisma as never,
  exec: (sql) => db.db.exec(sql),
  migration: 'sqlite',
});
