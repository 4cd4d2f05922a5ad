import mariadb from 'mariadb';
import { applyMigrations } from './migrations.js';
import { poolHarness, serviceUnavailable, uniqueTag } from './service.js';

/** Options of {@link requireMariaDb}. */
export interface RequireMariaDbOptions {
  /**
   * Packages (folder names under packages/) whose models are created in this file's database, from the
   * DDL that `pnpm --filter @app/test-harness build` generates for MySQL (generated/mysql/migrations).
   * @default []
   */
  migrations?: string[];
  /**
   * Packages whose shipped MySQL migrations (what a user applies: `prisma/mysql/migrations` or
   * `prisma/migrations/mysql`) are applied to this file's database, after `migrations`. @default []
   */
  shipped?: string[];
}

/** A real MariaDB (or MySQL) for one test file: a database of its own, with the named packages' tables. */
export interface MariaDbHarness {
  /** False when MariaDB is unreachable outside CI: skip the tests that need it. */
  readonly available: boolean;
  /** The server URL without a database: MARIADB_URL, or mariadb://root@127.0.0.1:3306. */
  readonly url: string;
  /** The database created for this file, e.g. `test_k3x9a1`; dropped afterwards. */
  readonly database: string;
  /** Connection settings for this file's database (what `@prisma/adapter-mariadb` takes). */
  readonly config: { host: string; port: number; user: string; password: string; database: string };
  /** A pool on this file's database. Closed after the file. */
  readonly pool: mariadb.Pool;
  /** Runs SQL in this file's database. */
  query<R = unknown>(sql: string, params?: unknown[]): Promise<R>;
  /** Drops the database and closes the pool. Runs by itself after the file. */
  cleanup(): Promise<void>;
}

/**
 * Connects to the real MariaDB for the calling test file, creates a database for it and creates the named
 * packages' tables there. Call it at the top level of the file. With CI=true an unreachable server fails;
 * otherwise the tests skip, and one line says so.
 *
 * @example
 * ```ts
 * const db = await requireMariaDb({ migrations: ['otp'] });
 * describe.skipIf(!db.available)('on real MariaDB', () => { ... });
 * ```
 */
export async function requireMariaDb(options: RequireMariaDbOptions = {}): Promise<MariaDbHarness> {
  const url = process.env.MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306';
  const parsed = new URL(url);
  const database = `test_${uniqueTag()}`;
  const config = {
    host: parsed.hostname,
    port: Number(parsed.port || 3306),
    user: decodeURIComponent(parsed.username || 'root'),
    password: decodeURIComponent(parsed.password),
    database,
  };
  let available = true;
  try {
    const admin = await mariadb.createConnection({ ...config, database: undefined, connectTimeout: 3000 });
    try {
      await admin.query(`CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    } finally {
      await admin.end().catch(() => {});
    }
  } catch (error) {
    available = false;
    serviceUnavailable('MariaDB', url, error);
  }

  const pool = mariadb.createPool({ ...config, connectionLimit: 5, acquireTimeout: 30_000 });

  if (available) {
    await applyMigrations('mysql', { generated: options.migrations, shipped: options.shipped }, (sql) =>
      pool.query(sql),
    );
  }

  const drop = () => pool.query(`DROP DATABASE IF EXISTS \`${database}\``);
  const query: MariaDbHarness['query'] = (sql, params) => pool.query(sql, params);
  return { ...poolHarness(available, url, pool, drop), database, config, query };
}
