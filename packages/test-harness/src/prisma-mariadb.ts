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
export function createTestPrismaMariaDb(
  db: MariaDbHarness,
  options: {
    /** How long a query waits for one of the pool's connections, in ms (race tests queue many). @default 10000 */
    acquireTimeoutMs?: number;
  } = {},
): PrismaClient {
  const adapter = new PrismaMariaDb(
    { ...db.config, connectionLimit: 5, acquireTimeout: options.acquireTimeoutMs ?? 10_000 },
    { database: db.database },
  );
  const prisma = new PrismaClient({ adapter });
  atEndOfFile(() => prisma.$disconnect());
  return prisma;
}
