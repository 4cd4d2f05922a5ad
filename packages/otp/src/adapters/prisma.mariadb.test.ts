import { requireMariaDb } from '@app/test-harness';
import { PrismaClientMariaDb } from '@app/test-harness/prisma-mariadb';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { afterAll } from 'vitest';
import { prismaDialectSuite } from './prisma.fixture.js';

// MariaDB 10.11 (MySQL dialect): a database of this file's own, dropped after the file. Tables from the
// shipped migration (prisma/mysql/migrations). The 1,000-call races queue on a pool of 5 connections: the
// pool's acquire timeout (10 s by default) is raised for a busy machine.
const db = await requireMariaDb();
const prisma = db.available
  ? new PrismaClientMariaDb({
      adapter: new PrismaMariaDb({ ...db.config, connectionLimit: 5, acquireTimeout: 120_000 }),
    })
  : undefined;
afterAll(() => prisma?.$disconnect());
prismaDialectSuite({
  provider: 'mysql',
  available: db.available,
  prisma: () => prisma as never,
  exec: (sql) => db.query(sql),
  migration: 'mysql',
});
