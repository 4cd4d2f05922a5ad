import { PrismaBetterSqlite3 } from '@prisma/adapter-better-sqlite3';
import { PrismaClient } from '../generated/sqlite/client/client.js';
import { atEndOfFile } from './service.js';
import type { SqliteHarness } from './sqlite.js';

export { PrismaClient as PrismaClientSqlite };

/**
 * A PrismaClient generated for SQLite (every package's models rewritten by @app/prisma-schema; see
 * scripts/generate-prisma.mjs) on the test file's SQLite file through `@prisma/adapter-better-sqlite3`.
 * Disconnected after the file.
 *
 * @example
 * ```ts
 * const db = await requireSqlite({ migrations: ['otp'] });
 * const prisma = createTestPrismaSqlite(db);
 * ```
 */
export function createTestPrismaSqlite(db: SqliteHarness): PrismaClient {
  const adapter = new PrismaBetterSqlite3({ url: db.file, timeout: 30_000 });
  const prisma = new PrismaClient({ adapter });
  atEndOfFile(() => prisma.$disconnect());
  return prisma;
}
