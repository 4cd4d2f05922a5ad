import { closeable } from '@app/core';
import { prismaIdempotencyStore } from '@app/delivery/prisma';
import { SmsError, SmsErrorCode } from '../errors.js';
import { assertUpdate, statusRank } from '../status.js';
import type {
  SmsStatus,
  SmsStatusRecord,
  SmsStatusRecordResult,
  SmsStatusStore,
  SmsStatusUpdate,
} from '../types.js';

export type {
  PrismaDeliveryRawClient,
  PrismaIdempotencyStore,
  PrismaIdempotencyStoreOptions,
} from '@app/delivery/prisma';
export { prismaIdempotencyStore } from '@app/delivery/prisma';

/**
 * The shared Prisma idempotency store of `@app/delivery/prisma` (table `app_delivery_idempotency`), under its
 * former `@app/sms` name.
 *
 * @deprecated Use `prismaIdempotencyStore` (the same function).
 * @example
 * ```ts
 * const sms = createSmsService({ providers, idempotency: { store: prismaSmsIdempotencyStore({ prisma }) } });
 * ```
 */
export const prismaSmsIdempotencyStore = prismaIdempotencyStore;

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

  return closeable({
    get,

    async record(update: SmsStatusUpdate): Promise<SmsStatusRecordResult> {
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
  });
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
