import { randomUUID } from 'node:crypto';
import { closeable } from '@app/core';
import { DeliveryError, DeliveryErrorCode } from '../errors.js';
import type * as status from '../status.js';
import { assertStatusUpdate, parseDetails } from '../status.js';

type DeliveryStatusEvent = status.DeliveryStatusEvent;
type DeliveryStatusRecord = status.DeliveryStatusRecord;

import { type PrismaStoreOptions, type SqlDialect, sqlDialectOf, statement } from './sql.js';

/** Options of {@link prismaStatusStore}. */
export interface PrismaStatusStoreOptions extends PrismaStoreOptions {
  /** Events `get` answers per message, the newest (older rows stay until purged). @default 100 */
  maxEvents?: number;
  /**
   * How long a call waits for a connection to start its transaction, in ms (Prisma's `maxWait`): a burst
   * of webhooks larger than the connection pool queues this long. @default 10000
   */
  maxWaitMs?: number;
}

/** The Prisma status store: a {@link DeliveryStatusStore} plus housekeeping. */
export interface PrismaStatusStore extends status.DeliveryStatusStore {
  /**
   * Deletes the messages (status and events) last updated before `before` (run it from a cron job: the
   * tables are not pruned by themselves). Resolves to the number of messages deleted.
   *
   * @example
   * ```ts
   * const deleted = await statusStore.purgeUpdatedBefore(new Date(Date.now() - 30 * 86_400_000));
   * ```
   */
  purgeUpdatedBefore(before: Date): Promise<number>;
}

type StatusRow = {
  status: string;
  rank: number | bigint;
  provider: string | null;
  details: string;
  updated_at: number | bigint;
  event_id: string;
  token?: string | null;
};
type EventRow = {
  event_id: string;
  status: string;
  provider: string | null;
  details: string;
  at: number | bigint;
};

const S = 'app_delivery_status';
const E = 'app_delivery_status_event';

/** The dialect's SQL of the three statements `record` runs in one transaction. */
function recordSql(dialect: SqlDialect, tie: boolean) {
  const pg = dialect === 'postgresql';
  const mysql = dialect === 'mysql';
  // PostgreSQL types bound parameters by context; a bare SELECT list needs casts.
  const c = (type: string) => (pg ? `::${type}` : '');
  const q = (text: string) => statement(dialect, mysql ? text : text.replace(/`/g, '"'));
  const mine = `EXISTS (SELECT 1 FROM ${E} e WHERE e.message_id = ? AND e.event_id = ? AND e.token = ?)`;
  const insertEvent = q(
    `${mysql ? 'INSERT IGNORE INTO' : 'INSERT INTO'} ${E} (message_id, event_id, status, provider, details, at, token${
      dialect === 'sqlite' ? ', seq' : ''
    }) VALUES (?, ?, ?, ?, ?, ?${c('bigint')}, ?${
      // SQLite has one writer at a time, so MAX + 1 is a sequence there.
      dialect === 'sqlite' ? `, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ${E})` : ''
    })${mysql ? '' : ' ON CONFLICT (message_id, event_id) DO NOTHING'}`,
  );
  const values = `SELECT ?${c('text')}, ?${c('text')}, ?${c('int')}, ?${c('text')}, ?${c('text')}, ?${c('bigint')}, ?${c('text')}`;
  const columns = '(message_id, status, `rank`, provider, details, updated_at, event_id)';
  const tieSql = tie ? '1 = 1' : '1 = 0';
  let upsert: string;
  if (mysql) {
    // ON DUPLICATE KEY UPDATE locks the row exclusively (no shared-then-exclusive upgrade to deadlock on);
    // assignments run left to right, so `rank`, which the condition reads, is assigned last.
    const when = `(VALUES(\`rank\`) > \`rank\` OR (VALUES(\`rank\`) = \`rank\` AND ${tieSql}))`;
    upsert = `INSERT INTO ${S} ${columns} ${values} FROM DUAL WHERE ${mine} ON DUPLICATE KEY UPDATE
      status = IF(${when}, VALUES(status), status),
      provider = IF(${when}, COALESCE(VALUES(provider), provider), provider),
      details = IF(${when}, JSON_MERGE_PATCH(details, VALUES(details)), details),
      updated_at = IF(${when}, VALUES(updated_at), updated_at),
      event_id = IF(${when}, VALUES(event_id), event_id),
      \`rank\` = IF(${when}, VALUES(\`rank\`), \`rank\`)`;
  } else {
    const merge = pg
      ? `(${S}.details::jsonb || excluded.details::jsonb)::text`
      : `json_patch(${S}.details, excluded.details)`;
    upsert = `INSERT INTO ${S} ${columns} ${values} WHERE ${mine}
      ON CONFLICT (message_id) DO UPDATE SET status = excluded.status, \`rank\` = excluded.\`rank\`,
        provider = COALESCE(excluded.provider, ${S}.provider), details = ${merge},
        updated_at = excluded.updated_at, event_id = excluded.event_id
      WHERE ${S}.\`rank\` < excluded.\`rank\` OR (${S}.\`rank\` = excluded.\`rank\` AND ${tieSql})`;
  }
  const read = q(
    `SELECT s.status, s.\`rank\`, s.provider, s.details, s.updated_at, s.event_id,
      (SELECT e.token FROM ${E} e WHERE e.message_id = ? AND e.event_id = ?) AS token
     FROM ${S} s WHERE s.message_id = ?`,
  );
  return { insertEvent, upsert: q(upsert), read };
}

function toRecord(messageId: string, row: StatusRow, events: EventRow[]): DeliveryStatusRecord {
  const record: DeliveryStatusRecord = {
    messageId,
    status: row.status,
    rank: Number(row.rank),
    updatedAt: Number(row.updated_at),
    details: parseDetails(row.details),
    events: events.map((e) => {
      const event: DeliveryStatusEvent = {
        eventId: e.event_id,
        status: e.status,
        at: Number(e.at),
        details: parseDetails(e.details),
      };
      if (e.provider !== null) event.provider = e.provider;
      return event;
    }),
  };
  if (row.provider !== null) record.provider = row.provider;
  return record;
}

/**
 * A delivery status store on PostgreSQL, MySQL/MariaDB or SQLite through Prisma (the database is read from
 * the client, or given as `provider`): one row per message in `app_delivery_status`, one per event in
 * `app_delivery_status_event`. `record` is one batch transaction of three statements: insert the event
 * with a fresh token, ignoring a duplicate (the primary key `(message_id, event_id)` lets one insert win);
 * upsert the status only if this call's token is on the event row and the rank is higher
 * (`ON CONFLICT ... DO UPDATE ... WHERE` on PostgreSQL and SQLite, `ON DUPLICATE KEY UPDATE` with the same
 * condition on MySQL: both lock the message's row and compare with its latest committed version); then
 * read the row back, still under that lock. So concurrent webhooks (from any number of processes) never
 * move a status back, and a redelivered one changes nothing. No interactive transaction is held open.
 *
 * @example
 * ```ts
 * import { prismaStatusStore } from '@app/delivery/prisma';
 * const email = createEmailService({ providers, statusStore: prismaStatusStore({ prisma }) });
 * ```
 */
export function prismaStatusStore(options: PrismaStatusStoreOptions): PrismaStatusStore {
  const dialect = sqlDialectOf(options, 'prismaStatusStore');
  const { prisma } = options;
  const maxEvents = options.maxEvents ?? 100;
  if (!Number.isSafeInteger(maxEvents) || maxEvents < 1) {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      '[prismaStatusStore] maxEvents must be a positive integer',
    );
  }
  const tx = { maxWait: options.maxWaitMs ?? 10_000 };
  if (!(tx.maxWait > 0)) {
    throw new DeliveryError(
      DeliveryErrorCode.INVALID_OPTIONS,
      '[prismaStatusStore] maxWaitMs must be a positive number',
    );
  }
  const q = (text: string) => statement(dialect, dialect === 'mysql' ? text : text.replace(/`/g, '"'));
  const sql = { replace: recordSql(dialect, true), keep: recordSql(dialect, false) };
  const eventsSql = q(
    `SELECT event_id, status, provider, details, at FROM ${E} WHERE message_id = ? ORDER BY seq DESC LIMIT ?`,
  );
  const readEvents = (messageId: string) =>
    prisma.$queryRawUnsafe<EventRow[]>(eventsSql, messageId, maxEvents);

  return closeable({
    async record(update: status.DeliveryStatusUpdate): Promise<status.DeliveryStatusRecordResult> {
      assertStatusUpdate(update);
      const { messageId, eventId } = update;
      const token = randomUUID();
      const details = JSON.stringify(update.details ?? {});
      const at = BigInt(Math.trunc(update.at));
      const s = sql[update.ties === 'replace' ? 'replace' : 'keep'];
      const [, , rows, events] = (await prisma.$transaction(
        [
          prisma.$executeRawUnsafe(
            s.insertEvent,
            messageId,
            eventId,
            update.status,
            update.provider ?? null,
            details,
            at,
            token,
          ),
          prisma.$executeRawUnsafe(
            s.upsert,
            messageId,
            update.status,
            update.rank,
            update.provider ?? null,
            details,
            at,
            eventId,
            messageId,
            eventId,
            token,
          ),
          prisma.$queryRawUnsafe<StatusRow[]>(s.read, messageId, eventId, messageId),
          readEvents(messageId),
        ],
        tx,
      )) as [number, number, StatusRow[], EventRow[]];
      const row = rows[0];
      if (!row) {
        throw new DeliveryError(
          DeliveryErrorCode.STORE_UNAVAILABLE,
          `[prismaStatusStore] the status of '${messageId}' was deleted while it was being recorded`,
        );
      }
      const fresh = row.token === token;
      return {
        fresh,
        applied: fresh && row.event_id === eventId,
        record: toRecord(messageId, row, events.reverse()),
      };
    },

    async get(messageId: string) {
      const [rows, events] = (await prisma.$transaction(
        [
          prisma.$queryRawUnsafe<StatusRow[]>(
            q(
              `SELECT status, \`rank\`, provider, details, updated_at, event_id FROM ${S} WHERE message_id = ?`,
            ),
            messageId,
          ),
          readEvents(messageId),
        ],
        tx,
      )) as [StatusRow[], EventRow[]];
      const row = rows[0];
      return row ? toRecord(messageId, row, events.reverse()) : undefined;
    },

    async purgeUpdatedBefore(before: Date): Promise<number> {
      if (!(before instanceof Date) || Number.isNaN(before.getTime())) {
        throw new DeliveryError(DeliveryErrorCode.INVALID_OPTIONS, 'purgeUpdatedBefore needs a valid Date');
      }
      const ms = BigInt(before.getTime());
      const [, deleted] = (await prisma.$transaction(
        [
          prisma.$executeRawUnsafe(
            q(`DELETE FROM ${E} WHERE message_id IN (SELECT message_id FROM ${S} WHERE updated_at < ?)`),
            ms,
          ),
          prisma.$executeRawUnsafe(q(`DELETE FROM ${S} WHERE updated_at < ?`), ms),
        ],
        tx,
      )) as [number, number];
      return deleted;
    },
  });
}
