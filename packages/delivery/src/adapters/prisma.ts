import { randomUUID } from 'node:crypto';
import { closeable } from '@app/core';
import { DeliveryError, DeliveryErrorCode } from '../errors.js';
import type { IdempotencyRecord, IdempotencyReservation, IdempotencyStore } from '../idempotency.js';

/**
 * The part of a PrismaClient {@link prismaIdempotencyStore} uses: raw SQL only (table
 * `app_delivery_idempotency`, model `DeliveryIdempotencyKey`). Any PrismaClient on PostgreSQL fits.
 */
export interface PrismaDeliveryRawClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
}

/** Options of {@link prismaIdempotencyStore}. */
export interface PrismaIdempotencyStoreOptions {
  /**
   * Your PrismaClient (PostgreSQL) with the `DeliveryIdempotencyKey` model migrated (table
   * `app_delivery_idempotency`, `prisma/migrations/0001_idempotency.sql`). The store never disconnects it.
   */
  prisma: PrismaDeliveryRawClient;
  /**
   * The clock, in ms since the epoch. By default the DATABASE clock (`statement_timestamp()`) both stamps
   * `expires_at` and decides expiry, so app servers with skewed clocks agree; pass a function (tests) and
   * that clock is used for both instead.
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

type ReserveRow = { acquired: boolean; fingerprint: string | null; result: string | null };

const ms = (n: number) => Math.max(1, Math.ceil(n));

/**
 * An idempotency store on PostgreSQL through Prisma: one row per key in `app_delivery_idempotency`.
 * `reserve` is ONE statement, `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE expires_at <= now`:
 * Postgres locks the key's row, so of any number of concurrent callers (in any number of processes)
 * exactly one reserves a key, and an expired reservation is taken over while a live one never is.
 * `complete` and `release` only touch the row while the caller's token still holds it. Expiry compares the
 * stored `expires_at` with the database clock (or with `now` when given, never mixing the two).
 *
 * @example
 * ```ts
 * import { prismaIdempotencyStore } from '@app/delivery/prisma';
 * const sms = createSmsService({ providers, idempotency: { store: prismaIdempotencyStore({ prisma }) } });
 * await sms.send(to, body, { idempotencyKey: `otp:${challengeId}` });
 * ```
 */
export function prismaIdempotencyStore(options: PrismaIdempotencyStoreOptions): PrismaIdempotencyStore {
  const prisma = options?.prisma;
  if (typeof prisma?.$queryRaw !== 'function' || typeof prisma.$executeRaw !== 'function') {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      "[prismaIdempotencyStore] option 'prisma' must be a PrismaClient (PostgreSQL)",
    );
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      "[prismaIdempotencyStore] option 'now' must be a function returning ms since the epoch",
    );
  }
  const clock = options.now;
  // null makes the SQL fall back to the database clock: COALESCE(null, statement_timestamp()).
  const at = (): Date | null => (clock ? new Date(clock()) : null);

  async function attempt(
    key: string,
    fingerprint: string,
    lockMs: number,
    token: string,
  ): Promise<IdempotencyReservation | undefined> {
    const now = at();
    // The upsert reserves a free or expired key atomically. When it does not, the second branch answers the
    // stored row (FOR UPDATE reads its latest committed version).
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
    const existing: IdempotencyRecord =
      row.result === null
        ? { state: 'pending', fingerprint: row.fingerprint }
        : { state: 'done', fingerprint: row.fingerprint, result: JSON.parse(row.result) as unknown };
    return { acquired: false, existing };
  }

  return closeable({
    async reserve(key: string, fingerprint: string, lockMs: number): Promise<IdempotencyReservation> {
      const token = randomUUID();
      // No row in the answer: the holder committed after this statement's snapshot was taken, so the
      // stored row could not be read; a new statement (a fresh snapshot) sees it, or takes a freed key.
      for (let i = 0; i < 5; i++) {
        const answer = await attempt(key, fingerprint, lockMs, token);
        if (answer) return answer;
      }
      throw new DeliveryError(
        DeliveryErrorCode.IDEMPOTENCY_IN_PROGRESS,
        'a send with this idempotency key is still in progress',
      );
    },

    async complete(key: string, token: string, result: unknown, ttlMs: number) {
      const now = at();
      await prisma.$executeRaw`
        UPDATE app_delivery_idempotency
        SET token = NULL, result = ${JSON.stringify(result ?? null)}::jsonb,
          expires_at = COALESCE(${now}::timestamptz, statement_timestamp()) + ${ms(ttlMs)}::float8 * interval '1 millisecond'
        WHERE key = ${key} AND token = ${token}
          AND expires_at > COALESCE(${now}::timestamptz, statement_timestamp())`;
    },

    async release(key: string, token: string) {
      await prisma.$executeRaw`DELETE FROM app_delivery_idempotency WHERE key = ${key} AND token = ${token}`;
    },

    async purgeExpired() {
      const now = at();
      return prisma.$executeRaw`
        DELETE FROM app_delivery_idempotency
        WHERE expires_at <= COALESCE(${now}::timestamptz, statement_timestamp())`;
    },
  });
}
