import { closeable } from '@app/core';
import { prismaIdempotencyStore } from '@app/delivery/prisma';
import { EmailError, EmailErrorCode } from '../errors.js';
import { STATUS_PRECEDENCE } from '../status.js';
import type { DeliveryEvent, EmailStatusStore, StatusRecord } from '../types.js';

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
  return closeable({
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
  });
}

export type {
  PrismaDeliveryRawClient,
  PrismaIdempotencyStore,
  PrismaIdempotencyStoreOptions,
} from '@app/delivery/prisma';
export { prismaIdempotencyStore } from '@app/delivery/prisma';

/**
 * The shared Prisma idempotency store of `@app/delivery/prisma` (table `app_delivery_idempotency`), under
 * its former `@app/email` name.
 *
 * @deprecated Use `prismaIdempotencyStore` (the same function).
 * @example
 * ```ts
 * const email = createEmailService({ providers, idempotency: { store: prismaEmailIdempotencyStore({ prisma }) } });
 * ```
 */
export const prismaEmailIdempotencyStore = prismaIdempotencyStore;
