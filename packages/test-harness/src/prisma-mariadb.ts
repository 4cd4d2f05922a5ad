import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaClient } from '../generated/mysql/client/client.js';
import type { MariaDbHarness } from './mariadb.js';
import { atEndOfFile } from './service.js';

export { PrismaClient as PrismaClientMariaDb };

/**
 * A PrismaClient generated for MySQL (every package's models rewritten by @app/prisma-schema; see
 * scripts/generate-prisma.mjs) bound to the test file's MariaDB database through `@prisma/adapter-mariadb`.
 * Disconnected after the file.
 *
 * @example
 * ```ts
 * const db = await requireMariaDb({ migrations: ['otp'] });
 * const prisma = createTestPrismaMariaDb(db);
 * ```
 */
export function createTestPrismaMariaDb(db: MariaDbHarness): PrismaClient {
  const adapter = new PrismaMariaDb({ ...db.config, connectionLimit: 5 }, { database: db.database });
  const prisma = new PrismaClient({ adapter });
  atEndOfFile(() => prisma.$disconnect());
  return prisma;
}
