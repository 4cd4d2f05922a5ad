import pg from 'pg';
import { MIGRATIONS } from '../generated/migrations.js';

/** The table recording which migration files were applied (their SQL is not idempotent by itself). */
export const MIGRATIONS_TABLE = 'app_examples_migrations';

/** Options of {@link applyMigrations}. */
export interface ApplyMigrationsOptions {
  /** The Postgres URL. */
  databaseUrl: string;
  /** The schema to create the tables in (created if missing). @default the connection's search_path (public) */
  schema?: string;
}

/**
 * Applies the packages' `prisma/migrations/*.sql` (config, otp, permissions; bundled at build time) that this
 * database has not seen yet, each in a transaction with its row in {@link MIGRATIONS_TABLE}. An advisory lock
 * serialises instances starting at the same moment. Resolves to the ids applied now.
 *
 * @example
 * ```ts
 * await applyMigrations({ databaseUrl: process.env.DATABASE_URL! }); // ['config/0001_init.sql', ...] the first time, [] after
 * ```
 */
export async function applyMigrations(options: ApplyMigrationsOptions): Promise<string[]> {
  const client = new pg.Client({
    connectionString: options.databaseUrl,
    ...(options.schema ? { options: `-c search_path="${options.schema}"` } : {}),
  });
  client.on('error', () => {});
  await client.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [
      `${MIGRATIONS_TABLE}:${options.schema ?? ''}`,
    ]);
    if (options.schema)
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema.replaceAll('"', '""')}"`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ id: string }>(`SELECT id FROM ${MIGRATIONS_TABLE}`)).rows.map((row) => row.id),
    );
    for (const migration of MIGRATIONS) {
      if (done.has(migration.id)) continue;
      await client.query('BEGIN');
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${MIGRATIONS_TABLE} (id) VALUES ($1)`, [migration.id]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw new Error(
          `[@app-examples/shared] migration ${migration.id} failed: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      applied.push(migration.id);
    }
  } finally {
    await client.end().catch(() => {});
  }
  return applied;
}
