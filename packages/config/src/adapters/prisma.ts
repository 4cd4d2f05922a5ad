import { closeable, prismaProvider, sniffPrismaProvider } from '@app/core';
import { ConfigError } from '../errors.js';
import type { ConfigEntry, ConfigRecord, ConfigStore, JsonValue, StoreSetOptions } from '../types.js';

/** A row of the `ConfigEntry` model (prisma/schema.prisma), as the generated client returns it. */
export interface ConfigEntryRow {
  key: string;
  value: string;
  version: bigint | number;
  deleted: boolean;
  expiresAt: Date | null;
}

/** The `prisma.configEntry` delegate: the few generated methods used. */
export interface PrismaConfigEntryDelegate {
  findUnique(args: { where: { key: string } }): PromiseLike<ConfigEntryRow | null>;
  findMany(args: {
    where: { key: { startsWith: string }; deleted: boolean };
    orderBy: { key: 'asc' };
  }): PromiseLike<ConfigEntryRow[]>;
  upsert(args: {
    where: { key: string };
    create: { key: string; value: string; version: number; deleted: boolean; expiresAt: Date | null };
    update: { value: string; version: { increment: number }; deleted: boolean; expiresAt: Date | null };
  }): PromiseLike<ConfigEntryRow>;
  update(args: {
    where: { key: string; deleted: boolean };
    data: { version: { increment: number }; deleted: boolean; value: string; expiresAt: null };
  }): PromiseLike<ConfigEntryRow>;
}

/** The databases the Prisma store runs on (Prisma's `provider` names). */
export type PrismaConfigProvider = 'postgresql' | 'mysql' | 'sqlite';

/** What the MySQL path runs inside its transaction: raw statements with positional `?` parameters. */
export interface PrismaConfigTransactionLike {
  $executeRawUnsafe(sql: string, ...values: unknown[]): PromiseLike<number>;
  $queryRawUnsafe<T = unknown>(sql: string, ...values: unknown[]): PromiseLike<T>;
}

/** Your PrismaClient (any generated client with the `ConfigEntry` model, extended clients included). */
export interface PrismaConfigClientLike {
  configEntry: PrismaConfigEntryDelegate;
  /** Where a generated client says which database it was generated for. */
  readonly _activeProvider?: string;
  /**
   * Interactive transactions: used on MySQL/MariaDB only (run at READ COMMITTED; the level is passed at run
   * time and left out of this type, since each generated client types the levels its database has).
   */
  $transaction?<R>(
    fn: (tx: PrismaConfigTransactionLike) => Promise<R>,
    options?: { maxWait?: number; timeout?: number },
  ): Promise<R>;
}

/** Options of {@link prismaConfigStore}. */
export interface PrismaConfigStoreOptions {
  /** Your PrismaClient. It stays yours: the store never disconnects it. */
  prisma: PrismaConfigClientLike;
  /**
   * The database, when the client cannot say (`_activeProvider` is missing, e.g. behind a proxy object).
   * @default the client's own provider (`postgresql`, `mysql` or `sqlite`)
   */
  provider?: PrismaConfigProvider;
}

/** MySQL's answers to two writers of one new key at once: retried (the whole transaction). */
const MYSQL_RETRYABLE = new Set(['P2002', 'P2034']);
const MYSQL_ATTEMPTS = 20;
/** How long a MySQL write transaction may wait for a connection and run, in ms. */
const MYSQL_TX: { maxWait: number; timeout: number } = {
  isolationLevel: 'ReadCommitted',
  maxWait: 30_000,
  timeout: 30_000,
} as { maxWait: number; timeout: number };

function isRetryableOnMysql(error: unknown): boolean {
  const code = errorCode(error);
  if (code !== undefined && MYSQL_RETRYABLE.has(code)) return true;
  // A deadlock (ER_LOCK_DEADLOCK 1213) or lock wait timeout (1205) as the driver adapter reports it.
  const message = String((error as { message?: unknown } | null)?.message ?? '');
  return /\b(1213|1205)\b|deadlock|Deadlock/.test(message);
}

/** Byte order of two keys (what Redis and `COLLATE "C"`/`utf8mb4_bin` give), whatever the database's collation. */
function byBytes(a: ConfigEntry, b: ConfigEntry): number {
  return Buffer.compare(Buffer.from(a.key), Buffer.from(b.key));
}

/**
 * The MySQL/MariaDB writes. MySQL has no RETURNING, so each write is a transaction (READ COMMITTED) of a
 * write that takes the row's exclusive lock (INSERT ... ON DUPLICATE KEY UPDATE, or a conditional UPDATE)
 * and a locking read (SELECT ... FOR UPDATE) of the row it just wrote: the lock is held until commit, so no
 * other writer can change the row between the two, and the version read is the one this write made. Two
 * first writers of one key can deadlock on the insert; the loser's transaction is rolled back and retried.
 */
function mysqlWrites(prisma: PrismaConfigClientLike) {
  const transaction = prisma.$transaction;
  if (typeof transaction !== 'function') {
    throw new ConfigError('INVALID_OPTIONS', 'prismaConfigStore: a MySQL PrismaClient needs $transaction');
  }
  const run = async <R>(fn: (tx: PrismaConfigTransactionLike) => Promise<R>): Promise<R> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await transaction.call(prisma, fn, MYSQL_TX)) as R;
      } catch (error) {
        if (attempt >= MYSQL_ATTEMPTS || !isRetryableOnMysql(error)) throw error;
      }
    }
  };
  const readVersion = async (tx: PrismaConfigTransactionLike, key: string): Promise<number> => {
    const rows = await tx.$queryRawUnsafe<{ version: bigint | number }[]>(
      'SELECT `version` FROM `app_config_entries` WHERE `key` = ? FOR UPDATE',
      key,
    );
    return Number(rows[0]?.version);
  };
  return {
    set: (key: string, value: string, expiresAt: Date | null): Promise<number> =>
      run(async (tx) => {
        await tx.$executeRawUnsafe(
          'INSERT INTO `app_config_entries` (`key`, `value`, `version`, `deleted`, `expires_at`, `updated_at`) ' +
            'VALUES (?, ?, 1, false, ?, NOW(3)) ON DUPLICATE KEY UPDATE `value` = VALUES(`value`), ' +
            '`version` = `version` + 1, `deleted` = false, `expires_at` = VALUES(`expires_at`), `updated_at` = NOW(3)',
          key,
          value,
          expiresAt,
        );
        return readVersion(tx, key);
      }),
    delete: (key: string): Promise<number | undefined> =>
      run(async (tx) => {
        const changed = await tx.$executeRawUnsafe(
          "UPDATE `app_config_entries` SET `version` = `version` + 1, `deleted` = true, `value` = 'null', " +
            '`expires_at` = NULL, `updated_at` = NOW(3) WHERE `key` = ? AND `deleted` = false',
          key,
        );
        return changed === 0 ? undefined : readVersion(tx, key);
      }),
  };
}

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function toRecord(row: ConfigEntryRow): ConfigRecord {
  const version = Number(row.version);
  if (row.deleted) return { key: row.key, version, deleted: true };
  let value: JsonValue;
  try {
    value = JSON.parse(row.value) as JsonValue;
  } catch (error) {
    throw new ConfigError('STORE_ERROR', `corrupt JSON in app_config_entries for '${row.key}'`, {
      cause: error,
    });
  }
  return {
    key: row.key,
    value,
    version,
    expiresAt: row.expiresAt ? row.expiresAt.getTime() : null,
    deleted: false,
  };
}

/**
 * A {@link ConfigStore} in your SQL database through your PrismaClient, with the `ConfigEntry` model from
 * `@app/config`'s `prisma/schema.prisma` (table `app_config_entries`; migrations for each database in
 * `prisma/migrations` (PostgreSQL), `prisma/mysql/migrations` and `prisma/sqlite/migrations`). The
 * database is found from the client (`provider` when it cannot be). Why versions never go backwards, nor
 * repeat, under concurrent writers, per database:
 * - PostgreSQL: a `set` is one native upsert (`INSERT ... ON CONFLICT DO UPDATE SET version = version + 1
 *   ... RETURNING`): the conflicting row is locked and re-read by the one statement; a `delete` is one
 *   `UPDATE ... WHERE deleted = false RETURNING`.
 * - SQLite: the same statements (SQLite has upsert and RETURNING); SQLite runs one writer at a time on the
 *   whole database, so each statement sees and increments the latest version.
 * - MySQL/MariaDB (no RETURNING): a transaction of the write, which takes the row's exclusive lock, and a
 *   `SELECT ... FOR UPDATE` of the version it wrote, under that same lock (see `mysqlWrites`).
 * `close()` releases nothing of yours: the PrismaClient stays connected.
 *
 * @example
 * ```ts
 * import { PrismaClient } from './generated/prisma/client';
 * import { prismaConfigStore } from '@app/config/prisma';
 *
 * const store = prismaConfigStore({ prisma: new PrismaClient({ adapter }) });
 * ```
 */
export function prismaConfigStore(options: PrismaConfigStoreOptions): ConfigStore {
  const delegate = options?.prisma?.configEntry;
  if (typeof delegate?.upsert !== 'function') {
    throw new ConfigError(
      'INVALID_OPTIONS',
      "prismaConfigStore: option 'prisma' must be a PrismaClient with the ConfigEntry model (see prisma/schema.prisma)",
    );
  }
  // A client that names no database is taken as PostgreSQL (what this store spoke before it had dialects).
  const provider = prismaProvider(
    options.prisma,
    options.provider ?? sniffPrismaProvider(options.prisma) ?? 'postgresql',
    (named) =>
      new ConfigError(
        'INVALID_OPTIONS',
        `prismaConfigStore: provider must be 'postgresql', 'mysql' or 'sqlite' (got ${JSON.stringify(named)})`,
      ),
  );
  const mysql = provider === 'mysql' ? mysqlWrites(options.prisma) : undefined;

  async function upsert(key: string, value: string, expiresAt: Date | null): Promise<ConfigEntryRow> {
    const args = {
      where: { key },
      create: { key, value, version: 1, deleted: false, expiresAt },
      update: { value, version: { increment: 1 }, deleted: false, expiresAt },
    };
    try {
      return await delegate.upsert(args);
    } catch (error) {
      // Should Prisma ever fall back to select-then-insert, two first writers race on the insert: the loser
      // retries, and its retry is an update.
      if (errorCode(error) === 'P2002') return delegate.upsert(args);
      throw error;
    }
  }

  return closeable({
    async get(key: string) {
      const row = await delegate.findUnique({ where: { key } });
      return row ? toRecord(row) : undefined;
    },
    async set(key: string, value: JsonValue, setOptions?: StoreSetOptions) {
      const expiresAt = setOptions?.expiresAt ?? null;
      const data = JSON.stringify(value);
      const at = expiresAt === null ? null : new Date(expiresAt);
      if (mysql) {
        const version = await mysql.set(key, data, at);
        return { key, value: JSON.parse(data) as JsonValue, version, expiresAt, deleted: false };
      }
      return toRecord(await upsert(key, data, at)) as ConfigEntry;
    },
    async delete(key: string) {
      if (mysql) {
        const version = await mysql.delete(key);
        return version === undefined ? undefined : { key, version, deleted: true };
      }
      try {
        const row = await delegate.update({
          where: { key, deleted: false },
          data: { version: { increment: 1 }, deleted: true, value: 'null', expiresAt: null },
        });
        return { key, version: Number(row.version), deleted: true };
      } catch (error) {
        if (errorCode(error) === 'P2025') return undefined; // no live row
        throw error;
      }
    },
    async list(prefix: string) {
      const rows = await delegate.findMany({
        where: { key: { startsWith: prefix }, deleted: false },
        orderBy: { key: 'asc' },
      });
      // The database's LIKE may ignore case (SQLite, MySQL's _ci collations): keep only literal matches, in
      // byte order whatever the collation.
      return rows
        .filter((row) => row.key.startsWith(prefix))
        .map((row) => toRecord(row) as ConfigEntry)
        .sort(byBytes);
    },
  });
}
