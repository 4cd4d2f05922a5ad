// One real database of any of the three dialects for a test file, behind one shape: the generated
// PrismaClient for it, and plain SQL through the harness' own connection (never through Prisma). A package's
// dialect suite takes a TestDatabase, so each dialect's test file is one line.
import { requireMariaDb } from './mariadb.js';
import { requirePostgres } from './postgres.js';
import { createTestPrisma } from './prisma.js';
import { createTestPrismaMariaDb } from './prisma-mariadb.js';
import { requireSqlite } from './sqlite.js';

/** The Prisma providers the packages ship migrations for. */
export type TestDialect = 'postgresql' | 'mysql' | 'sqlite';

/** A real database for one test file, created for it and dropped (or removed) after it. */
export interface TestDatabase {
  readonly provider: TestDialect;
  /** False when the server (or, for SQLite, the native driver) is unavailable outside CI: skip. */
  readonly available: boolean;
  /**
   * The PrismaClient generated for this dialect, on this file's database: one client per file, created on
   * first call, disconnected after the file. Throws when `available` is false.
   */
  prisma<T = unknown>(): T;
  /**
   * Runs one SQL statement with the harness' own connection and answers its rows ([] for a statement
   * that returns none). Placeholders: `$1` on PostgreSQL, `?` on MySQL and SQLite.
   */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /**
   * Disconnects the PrismaClient and drops the database (or removes the file). Runs by itself after a test
   * file; a script outside vitest (a benchmark) calls it. Safe to call twice.
   */
  cleanup(): Promise<void>;
}

/** Options of {@link requireDatabase}. */
export interface RequireDatabaseOptions {
  /**
   * Packages (folder names under packages/) whose shipped migrations for this dialect create the tables:
   * the migrations are tested by applying them. @default []
   */
  shipped?: string[];
  /**
   * MySQL only: how long a Prisma query waits for one of the pool's 5 connections, in ms. Race tests that
   * queue a thousand writes on a busy machine need more than the driver's default. @default 10000
   */
  acquireTimeoutMs?: number;
}

/**
 * A real PostgreSQL schema, MariaDB database or SQLite file for the calling test file, with the named
 * packages' shipped migrations applied. Call it at the top level of the file.
 *
 * @example
 * ```ts
 * const db = await requireDatabase('sqlite', { shipped: ['config'] });
 * describe.skipIf(!db.available)('on SQLite', () => {
 *   const store = prismaConfigStore({ prisma: db.prisma() });
 * });
 * ```
 */
export async function requireDatabase(
  provider: TestDialect,
  options: RequireDatabaseOptions = {},
): Promise<TestDatabase> {
  const shipped = options.shipped ?? [];
  let open: () => unknown;
  let sql: TestDatabase['sql'];
  let available: boolean;
  let drop: () => Promise<void>;
  if (provider === 'postgresql') {
    // PostgreSQL's shipped migrations are prisma/migrations/*.sql, what `migrations` applies.
    const db = await requirePostgres({ migrations: shipped });
    available = db.available;
    drop = () => db.cleanup();
    open = () => createTestPrisma(db);
    sql = async (text, params) => (await db.query(text, params)).rows as never[];
  } else if (provider === 'mysql') {
    const db = await requireMariaDb({ shipped });
    available = db.available;
    drop = () => db.cleanup();
    open = () => createTestPrismaMariaDb(db, { acquireTimeoutMs: options.acquireTimeoutMs });
    sql = async (text, params) => {
      const result = await db.query(text, params);
      return Array.isArray(result) ? (result as never[]) : [];
    };
  } else {
    const db = await requireSqlite({ shipped });
    available = db.available;
    drop = () => db.cleanup();
    // better-sqlite3 is an optional native addon: its Prisma client loads only where it could be built.
    const sqliteClient = available ? await import('./prisma-sqlite.js') : undefined;
    open = () => sqliteClient!.createTestPrismaSqlite(db);
    sql = async (text, params = []) => {
      const statement = db.db.prepare(text);
      if (statement.reader) return statement.all(...params) as never[];
      statement.run(...params);
      return [];
    };
  }
  let client: unknown;
  let closed: Promise<void> | undefined;
  return {
    provider,
    available,
    prisma<T>() {
      if (!available)
        throw new Error(`[test-harness] ${provider} is unavailable: skip the tests that need it`);
      client ??= open();
      return client as T;
    },
    sql,
    cleanup() {
      closed ??= (async () => {
        await (client as { $disconnect(): Promise<void> } | undefined)?.$disconnect().catch(() => {});
        await drop();
      })();
      return closed;
    },
  };
}
