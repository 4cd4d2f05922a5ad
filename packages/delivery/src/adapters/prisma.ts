import { randomUUID } from 'node:crypto';
import { closeable } from '@app/core';
import { DeliveryError, DeliveryErrorCode } from '../errors.js';
import type { IdempotencyRecord, IdempotencyReservation, IdempotencyStore } from '../idempotency.js';
import { type PrismaStoreOptions, type SqlDialect, sqlDialectOf, sqlTime } from './sql.js';

export type { PrismaStatusStore, PrismaStatusStoreOptions } from './prisma-status.js';
export { prismaStatusStore } from './prisma-status.js';
export type { PrismaDeliveryRawClient, PrismaStoreOptions, SqlDialect } from './sql.js';

/** Options of {@link prismaIdempotencyStore}. */
export interface PrismaIdempotencyStoreOptions extends PrismaStoreOptions {
  /**
   * The clock, in ms since the epoch. By default the DATABASE clock (`statement_timestamp()` on PostgreSQL,
   * `UTC_TIMESTAMP(3)` on MySQL/MariaDB) both stamps `expires_at` and decides expiry, so app servers with
   * skewed clocks agree (SQLite, embedded, uses this process's clock); pass a function (tests) and that
   * clock is used for both instead.
   * @default undefined (the database clock)
   */
  now?: () => number;
}

/** The Prisma idempotency store: an {@link IdempotencyStore} plus housekeeping. */
export interface PrismaIdempotencyStore extends IdempotencyStore {
  /**
   * Deletes expired keys (run it from a cron job: an expired key is taken over when reused, but keys never
   * reused stay until purged). Resolves to the number of rows deleted.
   *
   * @example
   * ```ts
   * const deleted = await idempotencyStore.purgeExpired();
   * ```
   */
  purgeExpired(): Promise<number>;
}

const ms = (n: number) => Math.max(1, Math.ceil(n));

/** The SQL of one dialect: one attempt at reserving, and the three writes. */
interface IdempotencySql {
  /** Reserves, or answers the holder; undefined when the row changed under it (try again). */
  attempt(
    key: string,
    fingerprint: string,
    lockMs: number,
    token: string,
  ): Promise<IdempotencyReservation | undefined>;
  complete(key: string, token: string, result: string, ttlMs: number): PromiseLike<unknown>;
  release(key: string, token: string): PromiseLike<unknown>;
  purgeExpired(): PromiseLike<number>;
}

const existingOf = (fingerprint: string, result: string | null): IdempotencyRecord =>
  result === null
    ? { state: 'pending', fingerprint }
    : { state: 'done', fingerprint, result: JSON.parse(result) as unknown };

/**
 * An idempotency store on PostgreSQL, MySQL/MariaDB or SQLite through Prisma (the database is read from the
 * client, or given as `provider`): one row per key in `app_delivery_idempotency`. Of any number of
 * concurrent callers (in any number of processes) exactly one reserves a key; an expired reservation is
 * taken over while a live one never is; `complete` and `release` only touch the row while the caller's
 * token still holds it. Why each dialect is atomic:
 *
 * - PostgreSQL: `reserve` is ONE statement, `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE expires_at <= now`;
 *   Postgres locks the key's row, so the decision and the write are one step.
 * - MySQL/MariaDB (no `ON CONFLICT`): `INSERT IGNORE` creates the row (the primary key lets one insert
 *   win; the losers only take a shared lock, so there is no lock upgrade to deadlock on), then an expired row
 *   is taken over by `UPDATE ... WHERE key = ? AND expires_at <= now` (InnoDB re-reads the latest committed
 *   row under an exclusive lock, so one of two takers updates it). A loser reads the holder's row.
 * - SQLite: the same two statements (`INSERT ... ON CONFLICT DO NOTHING`); SQLite runs one writer at a time.
 *
 * Expiry compares the stored `expires_at` with the database clock (or with `now` when given).
 *
 * @example
 * ```ts
 * import { prismaIdempotencyStore } from '@app/delivery/prisma';
 * const sms = createSmsService({ providers, idempotency: { store: prismaIdempotencyStore({ prisma }) } });
 * await sms.send(to, body, { idempotencyKey: `otp:${challengeId}` });
 * ```
 */
export function prismaIdempotencyStore(options: PrismaIdempotencyStoreOptions): PrismaIdempotencyStore {
  const dialect = sqlDialectOf(options, 'prismaIdempotencyStore');
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      "[prismaIdempotencyStore] option 'now' must be a function returning ms since the epoch",
    );
  }
  const sql =
    dialect === 'postgresql'
      ? postgresIdempotency(options.prisma, options.now)
      : portableIdempotency(options.prisma, dialect, options.now);

  return closeable({
    async reserve(key: string, fingerprint: string, lockMs: number): Promise<IdempotencyReservation> {
      const token = randomUUID();
      // No answer: the holder committed or freed the row between the statements; a new attempt sees it.
      for (let i = 0; i < 5; i++) {
        const answer = await sql.attempt(key, fingerprint, lockMs, token);
        if (answer) return answer;
      }
      throw new DeliveryError(
        DeliveryErrorCode.IDEMPOTENCY_IN_PROGRESS,
        'a send with this idempotency key is still in progress',
      );
    },
    async complete(key: string, token: string, result: unknown, ttlMs: number) {
      await sql.complete(key, token, JSON.stringify(result ?? null), ttlMs);
    },
    async release(key: string, token: string) {
      await sql.release(key, token);
    },
    purgeExpired: async () => sql.purgeExpired(),
  });
}

type ReserveRow = { acquired: boolean; fingerprint: string | null; result: string | null };

function postgresIdempotency(prisma: PrismaStoreOptions['prisma'], clock?: () => number): IdempotencySql {
  // null makes the SQL fall back to the database clock: COALESCE(null, statement_timestamp()).
  const at = (): Date | null => (clock ? new Date(clock()) : null);
  return {
    async attempt(key, fingerprint, lockMs, token) {
      const now = at();
      // The upsert reserves a free or expired key atomically. When it does not, the second branch answers
      // the stored row (FOR UPDATE reads its latest committed version).
      const rows = await prisma.$queryRaw<ReserveRow[]>`
        WITH c AS (SELECT COALESCE(${now}::timestamptz, statement_timestamp()) AS now),
        claim AS (
          INSERT INTO app_delivery_idempotency AS i (key, token, fingerprint, result, expires_at)
          SELECT ${key}, ${token}, ${fingerprint}, NULL, c.now + ${ms(lockMs)}::float8 * interval '1 millisecond'
          FROM c
          ON CONFLICT (key) DO UPDATE
            SET token = EXCLUDED.token, fingerprint = EXCLUDED.fingerprint, result = NULL,
              expires_at = EXCLUDED.expires_at
            WHERE i.expires_at <= (SELECT now FROM c)
          RETURNING i.key
        )
        SELECT true AS acquired, NULL::text AS fingerprint, NULL::text AS result FROM claim
        UNION ALL
        SELECT false AS acquired, cur.fingerprint, cur.result::text FROM (
          SELECT fingerprint, result FROM app_delivery_idempotency
          WHERE key = ${key} AND NOT EXISTS (SELECT 1 FROM claim)
          FOR UPDATE
        ) AS cur`;
      const row = rows[0];
      if (row?.acquired === true) return { acquired: true, token };
      if (row?.fingerprint == null) return undefined;
      return { acquired: false, existing: existingOf(row.fingerprint, row.result) };
    },
    complete(key, token, result, ttlMs) {
      const now = at();
      return prisma.$executeRaw`
        UPDATE app_delivery_idempotency
        SET token = NULL, result = ${result}::jsonb,
          expires_at = COALESCE(${now}::timestamptz, statement_timestamp()) + ${ms(ttlMs)}::float8 * interval '1 millisecond'
        WHERE key = ${key} AND token = ${token}
          AND expires_at > COALESCE(${now}::timestamptz, statement_timestamp())`;
    },
    release(key, token) {
      return prisma.$executeRaw`DELETE FROM app_delivery_idempotency WHERE key = ${key} AND token = ${token}`;
    },
    async purgeExpired() {
      const now = at();
      return prisma.$executeRaw`
        DELETE FROM app_delivery_idempotency
        WHERE expires_at <= COALESCE(${now}::timestamptz, statement_timestamp())`;
    },
  };
}

function portableIdempotency(
  prisma: PrismaStoreOptions['prisma'],
  dialect: Exclude<SqlDialect, 'postgresql'>,
  clock?: () => number,
): IdempotencySql {
  const mysql = dialect === 'mysql';
  // `now` and `now + ms` as SQL with their bound values: MySQL uses the database clock unless one is
  // injected; SQLite (one process, embedded) binds this process's clock as ISO-8601 text.
  const time = (plusMs: number): { sql: string; values: unknown[] } => {
    if (clock || !mysql) return { sql: '?', values: [sqlTime(dialect, (clock ?? Date.now)() + plusMs)] };
    return { sql: 'DATE_ADD(UTC_TIMESTAMP(3), INTERVAL ? MICROSECOND)', values: [plusMs * 1000] };
  };
  const insert = mysql ? 'INSERT IGNORE INTO' : 'INSERT INTO';
  const ignore = mysql ? '' : ' ON CONFLICT (`key`) DO NOTHING';
  const q = (text: string) => (mysql ? text : text.replace(/`/g, '"'));
  return {
    async attempt(key, fingerprint, lockMs, token) {
      const expires = time(ms(lockMs));
      const inserted = await prisma.$executeRawUnsafe(
        q(
          `${insert} app_delivery_idempotency (\`key\`, token, fingerprint, result, expires_at) VALUES (?, ?, ?, NULL, ${expires.sql})${ignore}`,
        ),
        key,
        token,
        fingerprint,
        ...expires.values,
      );
      if (inserted === 1) return { acquired: true, token };
      const now = time(0);
      const taken = await prisma.$executeRawUnsafe(
        q(
          `UPDATE app_delivery_idempotency SET token = ?, fingerprint = ?, result = NULL, expires_at = ${expires.sql} WHERE \`key\` = ? AND expires_at <= ${now.sql}`,
        ),
        token,
        fingerprint,
        ...expires.values,
        key,
        ...now.values,
      );
      if (taken === 1) return { acquired: true, token };
      const rows = await prisma.$queryRawUnsafe<Array<{ fingerprint: string; result: unknown }>>(
        q('SELECT fingerprint, result FROM app_delivery_idempotency WHERE `key` = ?'),
        key,
      );
      const row = rows[0];
      if (!row) return undefined;
      const result =
        row.result === null || typeof row.result === 'string' ? row.result : JSON.stringify(row.result);
      return { acquired: false, existing: existingOf(row.fingerprint, result) };
    },
    complete(key, token, result, ttlMs) {
      const expires = time(ms(ttlMs));
      const now = time(0);
      return prisma.$executeRawUnsafe(
        q(
          `UPDATE app_delivery_idempotency SET token = NULL, result = ?, expires_at = ${expires.sql} WHERE \`key\` = ? AND token = ? AND expires_at > ${now.sql}`,
        ),
        result,
        ...expires.values,
        key,
        token,
        ...now.values,
      );
    },
    release(key, token) {
      return prisma.$executeRawUnsafe(
        q('DELETE FROM app_delivery_idempotency WHERE `key` = ? AND token = ?'),
        key,
        token,
      );
    },
    purgeExpired() {
      const now = time(0);
      return Promise.resolve(
        prisma.$executeRawUnsafe(
          q(`DELETE FROM app_delivery_idempotency WHERE expires_at <= ${now.sql}`),
          ...now.values,
        ),
      );
    },
  };
}
