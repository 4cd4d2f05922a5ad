import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/client/client.js';
import type { PostgresHarness } from './postgres.js';
import { atEndOfFile } from './service.js';

export { PrismaClient };

/**
 * A generated PrismaClient (every package's models; see scripts/generate-prisma.mjs) bound to the test
 * file's schema through the `pg` driver adapter. Disconnected after the file.
 *
 * @example
 * ```ts
 * const db = await requirePostgres({ migrations: ['otp'] });
 * const prisma = createTestPrisma(db);
 * const store = prismaOtpStore({ prisma });
 * ```
 */
export function createTestPrisma(db: PostgresHarness): PrismaClient {
  const adapter = new PrismaPg(
    { connectionString: db.url, options: `-c search_path="${db.schema}"`, max: 10 },
    { schema: db.schema },
  );
  const prisma = new PrismaClient({ adapter });
  atEndOfFile(() => prisma.$disconnect());
  return prisma;
}
