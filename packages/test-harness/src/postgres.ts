import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { poolHarness, serviceUnavailable, uniqueTag } from './service.js';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Options of {@link requirePostgres}. */
export interface RequirePostgresOptions {
  /**
   * Packages (folder names under packages/) whose prisma/migrations/*.sql are applied, in file-name order,
   * to this file's schema. @default []
   */
  migrations?: string[];
}

/** A real Postgres for one test file: a schema of its own, with the named packages' migrations applied. */
export interface PostgresHarness {
  /** False when Postgres is unreachable outside CI: skip the tests that need it. */
  readonly available: boolean;
  /** The server URL: DATABASE_URL, or postgresql://postgres@127.0.0.1:5432/test. */
  readonly url: string;
  /** The schema created for this file, e.g. `t_k3x9a1`; dropped afterwards. */
  readonly schema: string;
  /** A pool whose connections use this file's schema (search_path). Closed after the file. */
  readonly pool: pg.Pool;
  /** Runs SQL in this file's schema. */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Drops the schema and closes the pool. Runs by itself after the file. */
  cleanup(): Promise<void>;
}

/** Every migration file of a package, in order. */
export function migrationFiles(pkg: string): string[] {
  const dir = join(packagesDir, pkg, 'prisma', 'migrations');
  if (!existsSync(dir)) throw new Error(`[test-harness] packages/${pkg}/prisma/migrations does not exist`);
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    // Both layouts work: migrations/0001_init.sql, and Prisma's migrations/<name>/migration.sql.
    if (entry.isFile() && entry.name.endsWith('.sql')) files.push(join(dir, entry.name));
    else if (entry.isDirectory() && existsSync(join(dir, entry.name, 'migration.sql'))) {
      files.push(join(dir, entry.name, 'migration.sql'));
    }
  }
  return files;
}

/**
 * Connects to the real Postgres for the calling test file, creates a schema for it and applies the named
 * packages' SQL migrations there. Call it at the top level of the file.
 *
 * @example
 * ```ts
 * const db = await requirePostgres({ migrations: ['otp'] });
 * describe.skipIf(!db.available)('on real Postgres', () => { ... });
 * ```
 */
export async function requirePostgres(options: RequirePostgresOptions = {}): Promise<PostgresHarness> {
  const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/test';
  const schema = `t_${uniqueTag()}`;
  let available = true;

  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  admin.on('error', () => {});
  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA "${schema}"`);
  } catch (error) {
    available = false;
    serviceUnavailable('PostgreSQL', url, error);
  } finally {
    await admin.end().catch(() => {});
  }

  const pool = new pg.Pool({ connectionString: url, options: `-c search_path="${schema}"`, max: 10 });
  pool.on('error', () => {});

  if (available) {
    for (const pkg of options.migrations ?? []) {
      for (const file of migrationFiles(pkg)) {
        try {
          await pool.query(readFileSync(file, 'utf8'));
        } catch (error) {
          throw new Error(`[test-harness] migration ${file} failed: ${(error as Error).message}`, {
            cause: error,
          });
        }
      }
    }
  }

  const drop = () => pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  const query: PostgresHarness['query'] = (sql, params) => pool.query(sql, params);
  return { ...poolHarness(available, url, pool, drop), schema, query };
}
