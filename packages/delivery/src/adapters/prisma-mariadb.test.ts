import { requireMariaDb } from '@app/test-harness';
import { createTestPrismaMariaDb } from '@app/test-harness/prisma-mariadb';
import { describe } from 'vitest';
import { prismaStoreSuites } from './prisma.fixture.js';

// Its own database, with the DDL generated from prisma/schema.prisma for MySQL; dropped after the file.
const db = await requireMariaDb({ migrations: ['delivery'] });

describe.skipIf(!db.available)('Prisma stores on real MariaDB 10.11', () => {
  prismaStoreSuites({
    name: 'mariadb',
    // 1,000 concurrent records queue for 5 connections: on a busy machine they wait longer than 10 s.
    prisma: createTestPrismaMariaDb(db, { acquireTimeoutMs: 120_000 }),
    other: createTestPrismaMariaDb(db, { acquireTimeoutMs: 120_000 }),
    column: async (table, column) =>
      (await db.query<Array<Record<string, string>>>(`SELECT \`${column}\` AS v FROM ${table}`)).map((r) =>
        String(r.v),
      ),
  });
});
