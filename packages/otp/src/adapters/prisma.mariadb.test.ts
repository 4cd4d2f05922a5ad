import { requireMariaDb } from '@app/test-harness';
import { createTestPrismaMariaDb } from '@app/test-harness/prisma-mariadb';
import { prismaDialectSuite } from './prisma.fixture.js';

// MariaDB 10.11 (MySQL dialect): a database of this file's own, dropped after the file. Tables from the shipped migration (prisma/mysql/migrations).
const db = await requireMariaDb();
const prisma = db.available ? createTestPrismaMariaDb(db) : undefined;
prismaDialectSuite({
  provider: 'mysql',
  available: db.available,
  prisma: () => prisma as never,
  exec: (sql) => db.query(sql),
  migration: 'mysql',
});
