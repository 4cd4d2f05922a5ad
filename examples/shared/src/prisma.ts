import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/client/client.js';

/**
 * The generated PrismaClient (models of @app/config, @app/otp, @app/permissions; see scripts/generate.mjs) on
 * the `pg` driver adapter: no engine binary.
 *
 * @example
 * ```ts
 * const prisma = createPrisma(process.env.DATABASE_URL!);
 * ```
 */
export function createPrisma(databaseUrl: string, schema?: string): PrismaClient {
  const adapter = schema
    ? new PrismaPg(
        { connectionString: databaseUrl, options: `-c search_path="${schema}"`, max: 10 },
        { schema },
      )
    : new PrismaPg({ connectionString: databaseUrl, max: 10 });
  return new PrismaClient({ adapter });
}
