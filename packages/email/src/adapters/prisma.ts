import { randomUUID } from 'node:crypto';
import { EmailError, EmailErrorCode } from '../errors.js';
import { STATUS_PRECEDENCE } from '../status.js';
import type {
  DeliveryEvent,
  EmailIdempotencyBegin,
  EmailIdempotencyStore,
  EmailStatusStore,
  StatusRecord,
} from '../types.js';

type StatusRow = { messageId: string; status: string; provider: string; updatedAt: Date };
type EventRow = {
  messageId: string;
  id: string;
  status: string;
  provider: string;
  recipient: string | null;
  reason: string | null;
  occurredAt: Date;
};

/**
 * The part of a generated PrismaClient this store uses (the `EmailStatus` and `EmailEvent` models from
 * `@app/email/prisma/schema.prisma`, plus `$queryRaw`). Any client with those models fits, extended ones too.
 */
export interface PrismaEmailClient {
  emailStatus: {
    findUnique(args: { where: { messageId: string } }): PromiseLike<StatusRow | null>;
  };
  emailEvent: {
    findMany(args: { where: { messageId: string }; orderBy: { seq: 'asc' } }): PromiseLike<EventRow[]>;
  };
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
}

/** Options of {@link prismaEmailStatusStore}. */
export interface PrismaEmailStatusStoreOptions {
  /** Your PrismaClient, with the models of `prisma/schema.prisma` (tables `app_email_status`, `app_email_event`). */
  prisma: PrismaEmailClient;
}

/**
 * A status store on Postgres through Prisma. Recording is one SQL statement: the event is inserted
 * (`ON CONFLICT DO NOTHING` dedupes redeliveries) and, only if it was new, the status row is upserted
 * with `WHERE rank <= new rank`: atomic under concurrent webhooks without an interactive transaction.
 *
 * @example
 * ```ts
 * import { prismaEmailStatusStore } from '@app/email/prisma';
 * const statusStore = prismaEmailStatusStore({ prisma });
 * const email = createEmailService({ providers, statusStore });
 * ```
 */
export function prismaEmailStatusStore(options: PrismaEmailStatusStoreOptions): EmailStatusStore {
  const prisma = options?.prisma;
  if (!prisma?.emailStatus || !prisma.emailEvent || typeof prisma.$queryRaw !== 'function') {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      "[prismaEmailStatusStore] option 'prisma' must be a PrismaClient with the EmailStatus and EmailEvent models",
    );
  }
  return {
    async record(e: DeliveryEvent): Promise<boolean> {
      const rank = STATUS_PRECEDENCE[e.status];
      const rows = await prisma.$queryRaw<Array<{ inserted: number }>>`
        WITH ins AS (
          INSERT INTO app_email_event (message_id, id, status, provider, recipient, reason, occurred_at)
          VALUES (${e.messageId}, ${e.id}, ${e.status}, ${e.provider}, ${e.recipient ?? null}, ${e.reason ?? null}, ${e.timestamp}::timestamptz)
          ON CONFLICT (message_id, id) DO NOTHING
          RETURNING 1
        ), up AS (
          INSERT INTO app_email_status (message_id, status, rank, provider, updated_at)
          SELECT ${e.messageId}, ${e.status}, ${rank}::int, ${e.provider}, ${e.timestamp}::timestamptz
          WHERE EXISTS (SELECT 1 FROM ins)
          ON CONFLICT (message_id) DO UPDATE
            SET status = EXCLUDED.status, rank = EXCLUDED.rank, provider = EXCLUDED.provider, updated_at = EXCLUDED.updated_at
            WHERE app_email_status.rank <= EXCLUDED.rank
        )
        SELECT count(*)::int AS inserted FROM ins`;
      return Number(rows[0]?.inserted ?? 0) === 1;
    },
    async get(messageId: string): Promise<StatusRecord | undefined> {
      const [status, events] = await Promise.all([
        prisma.emailStatus.findUnique({ where: { messageId } }),
        prisma.emailEvent.findMany({ where: { messageId }, orderBy: { seq: 'asc' } }),
      ]);
      if (!status) return undefined;
      return {
        messageId,
        status: status.status as StatusRecord['status'],
        provider: status.provider,
        updatedAt: status.updatedAt,
        events: events.map((r) => {
          const event: DeliveryEvent = {
            id: r.id,
            messageId: r.messageId,
            status: r.status as DeliveryEvent['status'],
            provider: r.provider,
            timestamp: r.occurredAt,
          };
          if (r.recipient !== null) event.recipient = r.recipient;
          if (r.reason !== null) event.reason = r.reason;
          return event;
        }),
      };
    },
    async close() {},
  };
}

/**
 * The part of a PrismaClient {@link prismaEmailIdempotencyStore} uses: raw SQL only (table
 * `app_email_idempotency`, model `EmailIdempotencyKey`). Any PrismaClient on PostgreSQL fits.
 */
export interface PrismaEmailRawClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
}

/** Options of {@link prismaEmailIdempotencyStore}. */
export interface PrismaEmailIdempotencyStoreOptions {
  /**
   * Your PrismaClient (PostgreSQL) with the `EmailIdempotencyKey` model migrated (table
   * `app_email_idempotency`, `prisma/migrations/0002_idempotency.sql`). The store never disconnects it.
   */
  prisma: PrismaEmailRawClient;
  /**
   * The clock, in ms since the epoch. By default the DATABASE clock (`statement_timestamp()`) both stamps
   * `expires_at` and decides expiry, so app servers with skewed clocks agree; pass a function (tests) and
   * that clock is used for both instead.
   * @default undefined (the database clock)
   */
  now?: () => number;
}

/** The Prisma idempotency store: an {@link EmailIdempotencyStore} plus housekeeping. */
export interface PrismaEmailIdempotencyStore extends EmailIdempotencyStore {
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

type BeginRow = { acquired: boolean; value: string | null };

/**
 * An idempotency store on PostgreSQL through Prisma: one row per key in `app_email_idempotency`.
 * `begin` is ONE statement, `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE expires_at <= now`: Postgres
 * locks the key's row, so of any number of concurrent callers (in any number of processes) exactly one
 * acquires a key, and an expired reservation is taken over while a live one never is. `complete` and
 * `release` only touch the row while the caller's token still holds it. Expiry compares the stored
 * `expires_at` with the database clock (or with `now` when given, never mixing the two).
 *
 * @example
 * ```ts
 * import { prismaEmailIdempotencyStore } from '@app/email/prisma';
 * const email = createEmailService({ providers, idempotency: { store: prismaEmailIdempotencyStore({ prisma }) } });
 * await email.send(message, { idempotencyKey: `welcome:${user.id}` });
 * ```
 */
export function prismaEmailIdempotencyStore(
  options: PrismaEmailIdempotencyStoreOptions,
): PrismaEmailIdempotencyStore {
  const prisma = options?.prisma;
  if (typeof prisma?.$queryRaw !== 'function' || typeof prisma.$executeRaw !== 'function') {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      "[prismaEmailIdempotencyStore] option 'prisma' must be a PrismaClient (PostgreSQL)",
    );
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      "[prismaEmailIdempotencyStore] option 'now' must be a function returning ms since the epoch",
    );
  }
  const clock = options.now;
  // null makes the SQL fall back to the database clock: COALESCE(null, statement_timestamp()).
  const at = (): Date | null => (clock ? new Date(clock()) : null);
  const ms = (n: number) => Math.max(1, Math.ceil(n));

  return {
    async begin(key, lockMs): Promise<EmailIdempotencyBegin> {
      const token = randomUUID();
      const now = at();
      // The upsert claims a free or expired key atomically. When it does not, the second branch answers the
      // stored row (FOR UPDATE reads its latest committed version).
      const rows = await prisma.$queryRaw<BeginRow[]>`
        WITH c AS (SELECT COALESCE(${now}::timestamptz, statement_timestamp()) AS now),
        claim AS (
          INSERT INTO app_email_idempotency AS i (key, token, value, expires_at)
          SELECT ${key}, ${token}, NULL, c.now + ${ms(lockMs)}::float8 * interval '1 millisecond' FROM c
          ON CONFLICT (key) DO UPDATE
            SET token = EXCLUDED.token, value = NULL, expires_at = EXCLUDED.expires_at
            WHERE i.expires_at <= (SELECT now FROM c)
          RETURNING i.key
        )
        SELECT true AS acquired, NULL::text AS value FROM claim
        UNION ALL
        SELECT false AS acquired, cur.value FROM (
          SELECT value FROM app_email_idempotency
          WHERE key = ${key} AND NOT EXISTS (SELECT 1 FROM claim)
          FOR UPDATE
        ) AS cur`;
      const row = rows[0];
      if (row?.acquired === true) return { state: 'acquired', token };
      // Not acquired. No row at all means the holder committed after this statement's snapshot: it is
      // live, and its outcome is not known yet, so the caller polls again.
      if (row && row.value !== null) return { state: 'done', value: row.value };
      return { state: 'pending' };
    },

    async complete(key, token, value, ttlMs) {
      const now = at();
      await prisma.$executeRaw`
        UPDATE app_email_idempotency
        SET token = NULL, value = ${value},
          expires_at = COALESCE(${now}::timestamptz, statement_timestamp()) + ${ms(ttlMs)}::float8 * interval '1 millisecond'
        WHERE key = ${key} AND token = ${token}
          AND expires_at > COALESCE(${now}::timestamptz, statement_timestamp())`;
    },

    async release(key, token) {
      await prisma.$executeRaw`DELETE FROM app_email_idempotency WHERE key = ${key} AND token = ${token}`;
    },

    async purgeExpired() {
      const now = at();
      return prisma.$executeRaw`
        DELETE FROM app_email_idempotency
        WHERE expires_at <= COALESCE(${now}::timestamptz, statement_timestamp())`;
    },

    async close() {},
  };
}
