import { requireMariaDb } from '@app/test-harness';
import { PrismaClientMariaDb } from '@app/test-harness/prisma-mariadb';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { afterAll, describe } from 'vitest';
import { prismaStoreSuite, shippedMigration } from './prisma-store.fixture.js';

// Its own database, with the migration this package ships for MySQL/MariaDB applied.
const db = await requireMariaDb();
if (db.available) for (const statement of shippedMigration('mysql')) await db.query(statement);
// Inheritance writes run one at a time (see the store's doc comment): the race test's thousand queue for a
// pool of 5 connections, longer than the driver's default 10 s on a busy machine.
const prisma = db.available
  ? new PrismaClientMariaDb({
      adapter: new PrismaMariaDb(
        { ...db.config, connectionLimit: 5, acquireTimeout: 120_000 },
        { database: db.database },
      ),
    })
  : undefined;
afterAll(() => prisma?.$disconnect());

describe.skipIf(!db.available)('on MariaDB', () => {
  prismaStoreSuite({
    name: 'prisma (MariaDB)',
    provider: 'mysql',
    prisma: () => prisma!,
    sql: async (text) => db.query(text),
  });
});
