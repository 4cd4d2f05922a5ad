import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { applyMigrations } from './migrations.js';
import { atEndOfFile, serviceUnavailable } from './service.js';

/** Options of {@link requireSqlite}. */
export interface RequireSqliteOptions {
  /**
   * Packages (folder names under packages/) whose models are created in this file's database, from the
   * DDL that `pnpm --filter @app/test-harness build` generates for SQLite (generated/sqlite/migrations).
   * @default []
   */
  migrations?: string[];
  /**
   * Packages whose shipped SQLite migrations (what a user applies: `prisma/sqlite/migrations` or
   * `prisma/migrations/sqlite`) are applied to this file's database, after `migrations`. @default []
   */
  shipped?: string[];
}

/** A SQLite database file for one test file, removed afterwards. */
export interface SqliteHarness {
  /**
   * False when better-sqlite3 (an optional dependency: a native addon) could not be built or loaded here;
   * then the tests that need it are skipped with a visible line (with CI=true, the run fails instead).
   */
  readonly available: boolean;
  /** The database file (in a temp directory of its own). */
  readonly file: string;
  /** `file:<path>`, the URL `@prisma/adapter-better-sqlite3` takes. */
  readonly url: string;
  /** A better-sqlite3 connection to the file, for probes. Closed after the file. */
  readonly db: Database.Database;
  /** Removes the file (and its -wal/-shm). Runs by itself after the file. */
  cleanup(): Promise<void>;
}

/**
 * Creates a SQLite file for the calling test file, with the named packages' tables, in WAL mode (readers do
 * not block the writer). Call it at the top level of the file.
 *
 * @example
 * ```ts
 * const db = await requireSqlite({ migrations: ['otp'] });
 * const prisma = createTestPrismaSqlite(db);
 * ```
 */
export async function requireSqlite(options: RequireSqliteOptions = {}): Promise<SqliteHarness> {
  let Driver: typeof Database;
  try {
    Driver = (await import('better-sqlite3')).default;
  } catch (error) {
    serviceUnavailable('SQLite', 'better-sqlite3', error);
    return unavailableSqlite();
  }
  const dir = mkdtempSync(join(tmpdir(), 'app-test-sqlite-'));
  const file = join(dir, 'test.db');
  const db = new Driver(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  await applyMigrations('sqlite', { generated: options.migrations, shipped: options.shipped }, (sql) =>
    db.exec(sql),
  );
  let cleaned = false;
  const harness: SqliteHarness = {
    available: true,
    file,
    url: `file:${file}`,
    db,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  atEndOfFile(() => harness.cleanup());
  return harness;
}

/** What requireSqlite answers when better-sqlite3 cannot be loaded (tests skip on `available`). */
function unavailableSqlite(): SqliteHarness {
  return {
    available: false,
    file: '',
    url: '',
    get db(): Database.Database {
      throw new Error('[test-harness] better-sqlite3 is not available on this machine');
    },
    async cleanup() {},
  };
}
