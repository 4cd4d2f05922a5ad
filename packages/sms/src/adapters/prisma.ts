import { randomUUID } from 'node:crypto';
import { SmsError, SmsErrorCode } from '../errors.js';
import { statusRank } from '../status.js';
import { assertUpdate } from '../stores/memory.js';
import type {
  SmsIdempotencyRecord,
  SmsIdempotencyReservation,
  SmsIdempotencyStore,
  SmsSendResult,
  SmsStatus,
  SmsStatusRecord,
  SmsStatusRecordResult,
  SmsStatusStore,
} from '../types.js';

/** A row of `app_sms_status` as the `SmsStatus` model reads it. */
interface SmsStatusModelRow {
  messageId: string;
  status: string;
  provider: string | null;
  to: string | null;
  errorCode: string | null;
  updatedAt: Date;
}

/** A row of `app_sms_status` as raw SQL answers it. */
interface SmsStatusSqlRow {
  message_id: string;
  status: string;
  provider: string | null;
  recipient: string | null;
  error_code: string | null;
  updated_at: Date | string;
  applied: boolean;
}

/**
 * The part of a generated PrismaClient this store uses: the `SmsStatus` model from
 * `@app/sms/prisma/schema.prisma` (accessor `smsStatus`) plus `$queryRaw`. Any client with that model fits,
 * extended ones too; this package never imports generated types.
 */
export interface PrismaSmsClient {
  smsStatus: {
    findUnique(args: { where: { messageId: string } }): PromiseLike<SmsStatusModelRow | null>;
    deleteMany(args: { where: { updatedAt: { lt: Date } } }): PromiseLike<{ count: number }>;
  };
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
}

/** Options of {@link prismaSmsStatusStore}. */
export interface PrismaSmsStatusStoreOptions {
  /**
   * Your PrismaClient (PostgreSQL), with the `SmsStatus` model of `prisma/schema.prisma` migrated (table
   * `app_sms_status`). The store never disconnects it.
   */
  prisma: PrismaSmsClient;
}

/** The Prisma status store: an {@link SmsStatusStore} plus housekeeping. */
export interface PrismaSmsStatusStore extends SmsStatusStore {
  /**
   * Deletes the statuses last updated before `before` (run it from a cron job: the table is not pruned by
   * itself). Resolves to the number of rows deleted.
   *
   * @example
   * ```ts
   * const thirtyDaysAgo = new Date(Date.now() - 30 * 86_400_000);
   * const deleted = await statusStore.purgeUpdatedBefore(thirtyDaysAgo);
   * ```
   */
  purgeUpdatedBefore(before: Date): Promise<number>;
}

/**
 * A delivery status store on PostgreSQL through Prisma: one row per message in `app_sms_status`.
 * Recording is ONE SQL statement, `INSERT ... ON CONFLICT (message_id) DO UPDATE ... WHERE rank < new rank`:
 * Postgres locks the message's row, so concurrent callbacks (from any number of processes) never move a
 * status back, and a duplicate or late callback changes nothing. No interactive transaction is held open.
 *
 * `updatedAt` is stored as `timestamptz(3)`: whole milliseconds.
 *
 * @example
 * ```ts
 * import { PrismaPg } from '@prisma/adapter-pg';
 * import { PrismaClient } from './generated/prisma/client';
 * import { createSmsService } from '@app/sms';
 * import { prismaSmsStatusStore } from '@app/sms/prisma';
 *
 * const prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL }) });
 * const sms = createSmsService({ providers, statusStore: prismaSmsStatusStore({ prisma }) });
 * ```
 */
export function prismaSmsStatusStore(options: PrismaSmsStatusStoreOptions): PrismaSmsStatusStore {
  const prisma = options?.prisma;
  if (
    typeof prisma?.$queryRaw !== 'function' ||
    typeof prisma.smsStatus?.findUnique !== 'function' ||
    typeof prisma.smsStatus.deleteMany !== 'function'
  ) {
    throw new SmsError(
      SmsErrorCode.INVALID_OPTIONS,
      "[prismaSmsStatusStore] option 'prisma' must be a PrismaClient with the SmsStatus model",
    );
  }

  async function get(id: string): Promise<SmsStatusRecord | undefined> {
    const row = await prisma.smsStatus.findUnique({ where: { messageId: id } });
    return row ? fromModel(row) : undefined;
  }

  return {
    get,

    async record(update): Promise<SmsStatusRecordResult> {
      assertUpdate(update);
      const at = new Date(update.at ?? Date.now());
      if (Number.isNaN(at.getTime())) {
        throw new SmsError(SmsErrorCode.INVALID_CALLBACK, `invalid status time '${String(update.at)}'`);
      }
      const rank = statusRank(update.status);
      // The upsert decides and writes atomically: ON CONFLICT locks the row (even when the WHERE is false)
      // and compares against its latest committed version. When the update is not applied, the second
      // branch answers the stored row; FOR UPDATE makes it read that latest version, not the statement's
      // snapshot.
      const rows = await prisma.$queryRaw<SmsStatusSqlRow[]>`
        WITH up AS (
          INSERT INTO app_sms_status AS s
            (message_id, status, rank, provider, recipient, error_code, updated_at)
          VALUES (${update.id}, ${update.status}, ${rank}::int, ${update.provider ?? null}::text,
            ${update.to ?? null}::text, ${update.errorCode ?? null}::text, ${at}::timestamptz)
          ON CONFLICT (message_id) DO UPDATE SET
            status = EXCLUDED.status,
            rank = EXCLUDED.rank,
            provider = COALESCE(EXCLUDED.provider, s.provider),
            recipient = COALESCE(EXCLUDED.recipient, s.recipient),
            error_code = COALESCE(EXCLUDED.error_code, s.error_code),
            updated_at = EXCLUDED.updated_at
          WHERE s.rank < EXCLUDED.rank
          RETURNING s.message_id, s.status, s.provider, s.recipient, s.error_code, s.updated_at
        )
        SELECT message_id, status, provider, recipient, error_code, updated_at, true AS applied FROM up
        UNION ALL
        SELECT message_id, status, provider, recipient, error_code, updated_at, false AS applied
        FROM (
          SELECT * FROM app_sms_status
          WHERE message_id = ${update.id} AND NOT EXISTS (SELECT 1 FROM up)
          FOR UPDATE
        ) AS current`;
      const row = rows[0];
      if (row) return { applied: row.applied === true, record: fromSql(row) };
      // Not applied, and the row was committed by a concurrent first update after this statement's
      // snapshot was taken (so the second branch could not see it): read it with a fresh snapshot.
      const current = await get(update.id);
      if (!current) {
        throw new SmsError(
          SmsErrorCode.INVALID_CALLBACK,
          `the status of '${update.id}' was deleted while it was being recorded`,
        );
      }
      return { applied: false, record: current };
    },

    async purgeUpdatedBefore(before: Date): Promise<number> {
      if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
        throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'purgeUpdatedBefore needs a valid Date');
      }
      const { count } = await prisma.smsStatus.deleteMany({ where: { updatedAt: { lt: before } } });
      return count;
    },

    async close() {},
  };
}

function fromModel(row: SmsStatusModelRow): SmsStatusRecord {
  return build(row.messageId, row.status, row.provider, row.to, row.errorCode, row.updatedAt);
}

function fromSql(row: SmsStatusSqlRow): SmsStatusRecord {
  return build(row.message_id, row.status, row.provider, row.recipient, row.error_code, row.updated_at);
}

function build(
  id: string,
  status: string,
  provider: string | null,
  to: string | null,
  errorCode: string | null,
  updatedAt: Date | string,
): SmsStatusRecord {
  const record: SmsStatusRecord = {
    id,
    status: status as SmsStatus,
    updatedAt: (updatedAt instanceof Date ? updatedAt : new Date(updatedAt)).getTime(),
  };
  if (provider !== null) record.provider = provider;
  if (to !== null) record.to = to;
  if (errorCode !== null) record.errorCode = errorCode;
  return record;
}

/**
 * The part of a PrismaClient {@link prismaSmsIdempotencyStore} uses: raw SQL only (table
 * `app_sms_idempotency`, model `SmsIdempotencyKey`). Any PrismaClient on PostgreSQL fits.
 */
export interface PrismaSmsRawClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
}

/** Options of {@link prismaSmsIdempotencyStore}. */
export interface PrismaSmsIdempotencyStoreOptions {
  /**
   * Your PrismaClient (PostgreSQL) with the `SmsIdempotencyKey` model migrated (table `app_sms_idempotency`,
   * `prisma/migrations/0002_idempotency.sql`). The store never disconnects it.
   */
  prisma: PrismaSmsRawClient;
  /**
   * The clock, in ms since the epoch. By default the DATABASE clock (`statement_timestamp()`) both stamps
   * `expires_at` and decides expiry, so app servers with skewed clocks agree; pass a function (tests) and
   * that clock is used for both instead.
   * @default undefined (the database clock)
   */
  now?: () => number;
}

/** The Prisma idempotency store: an {@link SmsIdempotencyStore} plus housekeeping. */
export interface PrismaSmsIdempotencyStore extends SmsIdempotencyStore {
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

type ReserveRow = { acquired: boolean; fingerprint: string | null; result: string | null };

/**
 * An idempotency store on PostgreSQL through Prisma: one row per key in `app_sms_idempotency`.
 * `reserve` is ONE statement, `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE expires_at <= now`:
 * Postgres locks the key's row, so of any number of concurrent callers (in any number of processes)
 * exactly one reserves a key, and an expired reservation is taken over while a live one never is.
 * `complete` and `release` only touch the row while the caller's token still holds it. Expiry compares the
 * stored `expires_at` with the database clock (or with `now` when given, never mixing the two).
 *
 * @example
 * ```ts
 * import { prismaSmsIdempotencyStore } from '@app/sms/prisma';
 * const sms = createSmsService({ providers, idempotencyStore: prismaSmsIdempotencyStore({ prisma }) });
 * await sms.send(to, body, { idempotencyKey: `otp:${challengeId}` });
 * ```
 */
export function prismaSmsIdempotencyStore(
  options: PrismaSmsIdempotencyStoreOptions,
): PrismaSmsIdempotencyStore {
  const prisma = options?.prisma;
  if (typeof prisma?.$queryRaw !== 'function' || typeof prisma.$executeRaw !== 'function') {
    throw new SmsError(
      SmsErrorCode.INVALID_OPTIONS,
      "[prismaSmsIdempotencyStore] option 'prisma' must be a PrismaClient (PostgreSQL)",
    );
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new SmsError(
      SmsErrorCode.INVALID_OPTIONS,
      "[prismaSmsIdempotencyStore] option 'now' must be a function returning ms since the epoch",
    );
  }
  const clock = options.now;
  // null makes the SQL fall back to the database clock: COALESCE(null, statement_timestamp()).
  const at = (): Date | null => (clock ? new Date(clock()) : null);
  const ms = (n: number) => Math.max(1, Math.ceil(n));

  async function attempt(
    key: string,
    fingerprint: string,
    ttlMs: number,
    token: string,
  ): Promise<SmsIdempotencyReservation | undefined> {
    const now = at();
    // The upsert reserves a free or expired key atomically. When it does not, the second branch answers the
    // stored row (FOR UPDATE reads its latest committed version).
    const rows = await prisma.$queryRaw<ReserveRow[]>`
      WITH c AS (SELECT COALESCE(${now}::timestamptz, statement_timestamp()) AS now),
      claim AS (
        INSERT INTO app_sms_idempotency AS i (key, token, fingerprint, result, expires_at)
        SELECT ${key}, ${token}, ${fingerprint}, NULL, c.now + ${ms(ttlMs)}::float8 * interval '1 millisecond'
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
        SELECT fingerprint, result FROM app_sms_idempotency
        WHERE key = ${key} AND NOT EXISTS (SELECT 1 FROM claim)
        FOR UPDATE
      ) AS cur`;
    const row = rows[0];
    if (row?.acquired === true) return { acquired: true, token };
    if (row?.fingerprint == null) return undefined;
    const existing: SmsIdempotencyRecord =
      row.result === null
        ? { state: 'pending', fingerprint: row.fingerprint }
        : { state: 'done', fingerprint: row.fingerprint, result: JSON.parse(row.result) as SmsSendResult };
    return { acquired: false, existing };
  }

  return {
    async reserve(key, fingerprint, ttlMs): Promise<SmsIdempotencyReservation> {
      const token = randomUUID();
      // No row in the answer: the holder committed after this statement's snapshot was taken, so the
      // stored row could not be read; a new statement (a fresh snapshot) sees it, or takes a freed key.
      for (let i = 0; i < 5; i++) {
        const answer = await attempt(key, fingerprint, ttlMs, token);
        if (answer) return answer;
      }
      throw new SmsError(
        SmsErrorCode.IDEMPOTENCY_IN_PROGRESS,
        'a send with this idempotency key is still in progress',
      );
    },

    async complete(key, token, result: SmsSendResult, ttlMs) {
      const now = at();
      await prisma.$executeRaw`
        UPDATE app_sms_idempotency
        SET token = NULL, result = ${JSON.stringify(result)}::jsonb,
          expires_at = COALESCE(${now}::timestamptz, statement_timestamp()) + ${ms(ttlMs)}::float8 * interval '1 millisecond'
        WHERE key = ${key} AND token = ${token}
          AND expires_at > COALESCE(${now}::timestamptz, statement_timestamp())`;
    },

    async release(key, token) {
      await prisma.$executeRaw`DELETE FROM app_sms_idempotency WHERE key = ${key} AND token = ${token}`;
    },

    async purgeExpired() {
      const now = at();
      return prisma.$executeRaw`
        DELETE FROM app_sms_idempotency
        WHERE expires_at <= COALESCE(${now}::timestamptz, statement_timestamp())`;
    },

    async close() {},
  };
}
