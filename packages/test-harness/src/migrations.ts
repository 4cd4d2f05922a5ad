// The SQL the harness applies to a test file's database: the DDL generated from every package's schema
// (scripts/generate-prisma.mjs), and the migrations a package ships for users, read and split one way.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitSql } from '@app/prisma-schema';

const harnessDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const packagesDir = join(harnessDir, '..');

/** The generated DDL of a package's models for `provider` (see scripts/generate-prisma.mjs). */
export function generatedMigration(provider: 'mysql' | 'sqlite', pkg: string): string {
  const file = join(harnessDir, 'generated', provider, 'migrations', `${pkg}.sql`);
  if (!existsSync(file)) {
    throw new Error(
      `[test-harness] ${file} does not exist: does packages/${pkg}/prisma/schema.prisma exist? Run pnpm --filter @app/test-harness build`,
    );
  }
  return readFileSync(file, 'utf8');
}

/**
 * The migration SQL a package ships for MySQL/MariaDB or SQLite, every file in name order, split into
 * statements. Both layouts packages use are found: `prisma/<provider>/migrations/` and
 * `prisma/migrations/<provider>/`.
 *
 * @example
 * ```ts
 * for (const sql of shippedMigration('config', 'sqlite')) db.db.exec(sql);
 * ```
 */
export function shippedMigration(pkg: string, provider: 'mysql' | 'sqlite'): string[] {
  const dirs = [join('prisma', provider, 'migrations'), join('prisma', 'migrations', provider)];
  const dir = dirs.map((d) => join(packagesDir, pkg, d)).find((d) => existsSync(d));
  if (!dir)
    throw new Error(`[test-harness] packages/${pkg} ships no ${provider} migrations (${dirs.join(', ')})`);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .flatMap((f) => splitSql(readFileSync(join(dir, f), 'utf8')));
}

/**
 * Runs the generated DDL of `generated` packages, then the shipped migrations of `shipped` packages, one
 * statement at a time; a failing statement names its package and shows its SQL.
 */
export async function applyMigrations(
  provider: 'mysql' | 'sqlite',
  packages: { generated?: string[]; shipped?: string[] },
  run: (sql: string) => unknown,
): Promise<void> {
  const sources = [
    ...(packages.generated ?? []).map((pkg) => [pkg, splitSql(generatedMigration(provider, pkg))] as const),
    ...(packages.shipped ?? []).map((pkg) => [pkg, shippedMigration(pkg, provider)] as const),
  ];
  for (const [pkg, list] of sources) {
    for (const sql of list) {
      try {
        await run(sql);
      } catch (error) {
        throw new Error(
          `[test-harness] ${provider} DDL of ${pkg} failed: ${(error as Error).message}\n${sql}`,
          {
            cause: error,
          },
        );
      }
    }
  }
}
