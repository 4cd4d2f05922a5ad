import { randomUUID } from 'node:crypto';
import {
  type Closeable,
  type Logger,
  silentLogger,
  type TelemetrySetting,
  type TelemetrySpan,
} from '@app/core';
import { EventsError, EventsErrorCode } from '../errors.js';
import { serialise } from '../internal/serialise.js';
import { positiveInt } from '../internal/validate.js';
import { assertEventName } from '../pattern.js';
import { EventsTelemetry, systemOf } from '../telemetry.js';
import type { EventMap, EventRecord, EventTransport, PublishInput } from '../types.js';
import {
  bySeq,
  checkTable,
  claimSql,
  insertStatements,
  type OutboxProvider,
  type OutboxRow,
  providerOf,
  rowRecord,
} from './prisma-dialect.js';

export type { OutboxProvider } from './prisma-dialect.js';

/** What the outbox needs from the transaction client `tx` of `prisma.$transaction(async (tx) => ...)`. */
export interface PrismaOutboxTx {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

/** The raw-query methods of a PrismaClient or of its transaction client. */
export interface PrismaRawClient extends PrismaOutboxTx {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
}

/** What the relay needs from a PrismaClient (extended clients fit too). */
export interface PrismaRelayClient extends PrismaRawClient {
  $transaction<R>(
    fn: (tx: PrismaRawClient) => Promise<R>,
    options?: { maxWait?: number; timeout?: number },
  ): Promise<R>;
}

/** Options of {@link prismaOutbox}. */
export interface PrismaOutboxOptions {
  /** The outbox table, optionally schema-qualified. @default 'app_events_outbox' */
  table?: string;
  /** The `source` of events written without one. @default 'app' */
  source?: string;
  /**
   * The database: `postgresql`, `mysql` (MySQL 8, MariaDB 10.6+) or `sqlite`. Needed only where the
   * transaction client does not tell (a client whose `_activeProvider` is hidden by a wrapper).
   * @default found from the client
   */
  provider?: OutboxProvider;
  /**
   * OpenTelemetry: a `create <event>` producer span per event written, whose trace context is stored in
   * the row's `headers` column and carried on by the relay. `false` for none.
   * @default the global providers
   */
  telemetry?: TelemetrySetting;
}

/** What {@link PrismaOutbox.publish} resolves with. */
export interface OutboxEvent {
  /** The event's id: the one subscribers will see. */
  readonly id: string;
  /** The event name. */
  readonly name: string;
  /** When it was written, in ms since the epoch: the `timestamp` subscribers will see. */
  readonly timestamp: number;
}

/** Writes events into the outbox table inside the caller's transaction. */
export interface PrismaOutbox<Events extends EventMap<Events> = Record<string, unknown>> {
  /** Writes one event in `tx`: it exists if and only if the transaction commits. */
  publish<K extends keyof Events & string>(
    tx: PrismaOutboxTx,
    event: K,
    data: Events[K],
    source?: string,
  ): Promise<OutboxEvent>;
  /** Writes several events in `tx` with one statement (one per 500 events on MySQL and SQLite). */
  publishMany(tx: PrismaOutboxTx, events: ReadonlyArray<PublishInput<Events>>): Promise<OutboxEvent[]>;
}

/** Options of {@link prismaOutboxRelay}. */
export interface PrismaOutboxRelayOptions {
  /** The PrismaClient whose database holds the outbox. */
  prisma: PrismaRelayClient;
  /** Where committed events go, e.g. a `redisEventTransport()` of its own (the relay does not close it). */
  transport: EventTransport;
  /** The outbox table, optionally schema-qualified. @default 'app_events_outbox' */
  table?: string;
  /**
   * The database: `postgresql`, `mysql` (MySQL 8, MariaDB 10.6+) or `sqlite`.
   * @default found from the client (its `_activeProvider`)
   */
  provider?: OutboxProvider;
  /** Rows claimed and published per transaction. @default 100 */
  batchSize?: number;
  /** Wait between polls when the outbox is empty, in ms. @default 500 */
  pollIntervalMs?: number;
  /** Interactive-transaction timeout of one batch, in ms (on SQLite: how long a claim holds). @default 30000 */
  transactionTimeoutMs?: number;
  /** Gets warnings when a batch fails. @default silentLogger */
  logger?: Logger;
  /**
   * OpenTelemetry: an `app.events.outbox.relay` span per batch and a `send <event>` producer span per row,
   * child of the span that wrote the row (its `headers`), whose context goes on to the transport. `false`
   * for none.
   * @default the global providers
   */
  telemetry?: TelemetrySetting;
}

/** Moves committed outbox rows to the transport. */
export interface OutboxRelay extends Closeable {
  /** Relays one batch; resolves with how many events it published. */
  runOnce(): Promise<number>;
  /** Relays in the background until `close()`. */
  start(): void;
  /** Stops the background loop after the batch in progress. */
  close(): Promise<void>;
}

/** The messaging.system of the outbox's `create` spans. */
const OUTBOX_SYSTEM = 'outbox';

/**
 * The transactional outbox: write events in the same Prisma transaction as the business change, so an
 * event exists if and only if that change committed. {@link prismaOutboxRelay} then delivers them. Works on
 * PostgreSQL, MySQL 8 / MariaDB 10.6+ and SQLite (the database is found from `tx`, or the `provider`
 * option): one INSERT statement, inside the caller's transaction, is the whole write on each.
 *
 * @example
 * ```ts
 * import { prismaOutbox } from '@app/events/prisma';
 *
 * const outbox = prismaOutbox<Events>();
 * await prisma.$transaction(async (tx) => {
 *   const user = await tx.user.create({ data: { email } });
 *   await outbox.publish(tx, 'user.registered', { userId: user.id, email });
 * });
 * ```
 */
export function prismaOutbox<Events extends EventMap<Events> = Record<string, unknown>>(
  options: PrismaOutboxOptions = {},
): PrismaOutbox<Events> {
  const table = checkTable(options.table ?? 'app_events_outbox');
  const defaultSource = options.source ?? 'app';
  if (options.provider !== undefined) providerOf(undefined, options.provider);
  const telemetry = new EventsTelemetry(options.telemetry);

  async function write(
    tx: PrismaOutboxTx,
    events: ReadonlyArray<{ name: string; data: unknown; source?: string }>,
  ) {
    if (!tx || typeof tx.$executeRawUnsafe !== 'function') {
      throw new EventsError(
        EventsErrorCode.INVALID_ARGUMENT,
        'pass the transaction client `tx` of prisma.$transaction',
      );
    }
    const timestamp = Date.now();
    const records: EventRecord[] = events.map((e) => {
      assertEventName(e.name);
      return {
        id: randomUUID(),
        name: e.name,
        payload: serialise(e.name, e.data),
        timestamp,
        source: e.source ?? defaultSource,
      };
    });
    if (records.length === 0) return [];
    const provider = providerOf(tx, options.provider);
    const insert = async () => {
      for (const { sql, params } of insertStatements(provider, table, records)) {
        await tx.$executeRawUnsafe(sql, ...params);
      }
    };
    await (telemetry.enabled() ? telemetry.publish(records, OUTBOX_SYSTEM, insert, 'create') : insert());
    return records.map((r) => ({ id: r.id, name: r.name, timestamp }));
  }

  return {
    async publish(tx, event, data, source) {
      const [written] = await write(tx, [{ name: event, data, ...(source === undefined ? {} : { source }) }]);
      return written!;
    },
    async publishMany(tx, events) {
      if (!Array.isArray(events))
        throw new EventsError(EventsErrorCode.INVALID_ARGUMENT, 'publishMany expects an array');
      return write(tx, events);
    },
  };
}

/**
 * Relays committed outbox rows to a transport. Two relays never hold the same row, and a relay that dies
 * mid-batch leaves its rows to the next one (an event can be published twice, never lost; subscribers
 * dedupe by `id`). Why the claim is atomic on each database:
 *
 * - **PostgreSQL**, **MariaDB 10.6+ / MySQL 8**: the batch is claimed, published and deleted inside one
 *   transaction. `SELECT ... FOR UPDATE SKIP LOCKED` row-locks the batch for this transaction; another
 *   relay's SELECT skips locked rows instead of waiting for or reading them, and the DELETE commits with the
 *   batch (a crash rolls it back). MySQL runs the batch at READ COMMITTED (no gap locks blocking the
 *   app's inserts) and deletes row by row by primary key (a range DELETE would wait on the row past its
 *   range, which another relay may hold: a deadlock).
 * - **SQLite** (one writer at a time; a Prisma SQLite client has one connection, so no transaction stays
 *   open across the publish): the claim is ONE statement, an `UPDATE ... SET claim_token, claim_expires_at
 *   WHERE seq IN (SELECT ... unclaimed or expired ... LIMIT n) RETURNING ...`. SQLite runs it under its
 *   single write lock, so no other writer runs between its read and its write: a row is returned to one
 *   relay only. Then publish, then `DELETE ... WHERE claim_token = ?`; a failed publish clears the claim, a
 *   dead relay's claim expires after `transactionTimeoutMs`.
 *
 * Events keep the id, timestamp and trace context (`headers`) they were written with.
 *
 * @example
 * ```ts
 * import { prismaOutboxRelay } from '@app/events/prisma';
 * import { redisEventTransport } from '@app/events/redis';
 *
 * const relay = prismaOutboxRelay({ prisma, transport: redisEventTransport({ client: redis }) });
 * relay.start();
 * // on shutdown
 * await relay.close();
 * ```
 */
export function prismaOutboxRelay(options: PrismaOutboxRelayOptions): OutboxRelay {
  const { prisma, transport } = options;
  if (!prisma || typeof prisma.$transaction !== 'function') {
    throw new EventsError(
      EventsErrorCode.INVALID_OPTIONS,
      'prismaOutboxRelay needs { prisma }: a PrismaClient',
    );
  }
  if (!transport || typeof transport.publish !== 'function') {
    throw new EventsError(EventsErrorCode.INVALID_OPTIONS, 'prismaOutboxRelay needs { transport }');
  }
  const table = checkTable(options.table ?? 'app_events_outbox');
  if (options.provider !== undefined) providerOf(undefined, options.provider);
  const batchSize = positiveInt(options.batchSize, 100, 'batchSize');
  const pollIntervalMs = positiveInt(options.pollIntervalMs, 500, 'pollIntervalMs');
  const timeout = positiveInt(options.transactionTimeoutMs, 30_000, 'transactionTimeoutMs');
  const logger = options.logger ?? silentLogger;
  const telemetry = new EventsTelemetry(options.telemetry);
  const system = systemOf(transport);
  let provider: OutboxProvider | undefined;
  let loop: Promise<void> | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;

  /** Publishes claimed rows inside their producer spans (parented on the context each row carries). */
  async function publishRows(rows: OutboxRow[], span: TelemetrySpan | undefined): Promise<void> {
    const records = bySeq(rows).map(rowRecord);
    const link = span?.spanContext();
    const spans = telemetry.enabled()
      ? telemetry.startProducers(records, system, 'send', {
          fromHeaders: true,
          ...(link === undefined ? {} : { link }),
        })
      : undefined;
    try {
      await transport.publish(records);
    } catch (error) {
      telemetry.endProducers(records, spans, system, error);
      throw error;
    }
    telemetry.endProducers(records, spans, system);
  }

  async function relayBatch(span: TelemetrySpan | undefined): Promise<number> {
    provider ??= providerOf(prisma, options.provider);
    const sql = claimSql(provider, table, batchSize);
    if (sql.kind === 'leased') {
      const client = prisma;
      const token = randomUUID();
      const claim = sql.claim(token, Date.now(), timeout);
      const rows = await client.$queryRawUnsafe<OutboxRow[]>(claim.sql, ...claim.params);
      if (rows.length === 0) return 0;
      try {
        await publishRows(rows, span);
      } catch (error) {
        const release = sql.release(token);
        await Promise.resolve(client.$executeRawUnsafe(release.sql, ...release.params)).catch(() => {});
        throw error;
      }
      const remove = sql.remove(token);
      await client.$executeRawUnsafe(remove.sql, ...remove.params);
      return rows.length;
    }
    // The isolation level is MySQL's only (typed out of PrismaRelayClient so that SQLite clients, whose
    // `$transaction` accepts only 'Serializable', still fit).
    const txOptions = {
      timeout,
      maxWait: timeout,
      ...(provider === 'mysql' ? { isolationLevel: 'ReadCommitted' } : {}),
    };
    return prisma.$transaction(
      async (tx) => {
        const rows = await tx.$queryRawUnsafe<OutboxRow[]>(sql.claim.sql, ...sql.claim.params);
        if (rows.length === 0) return 0;
        await publishRows(rows, span);
        for (const remove of sql.remove(rows.map((row) => row.seq))) {
          await tx.$executeRawUnsafe(remove.sql, ...remove.params);
        }
        return rows.length;
      },
      txOptions as { timeout: number; maxWait: number },
    );
  }

  function runOnce(): Promise<number> {
    if (!telemetry.enabled()) return relayBatch(undefined);
    return telemetry.telemetry.withSpan(
      'app.events.outbox.relay',
      () => ({ 'app.events.outbox.batch_size': batchSize, 'messaging.system': system }),
      async (span) => {
        const n = await relayBatch(span);
        span?.setAttributes({
          'app.events.outbox.rows': n,
          ...(provider === undefined ? {} : { 'db.system.name': provider }),
        });
        return n;
      },
    );
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!stopping) {
      let relayed = 0;
      try {
        relayed = await runOnce();
        failures = 0;
      } catch (error) {
        failures++;
        logger.warn({ err: error, failures }, 'outbox relay batch failed: retrying');
      }
      if (stopping || relayed === batchSize) continue;
      const delay =
        failures > 0 ? Math.min(10_000, pollIntervalMs * 2 ** Math.min(failures, 5)) : pollIntervalMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  }

  const relay: OutboxRelay = {
    runOnce,
    start() {
      if (stopping) throw new EventsError(EventsErrorCode.CLOSED, 'the outbox relay is closed');
      loop ??= run();
    },
    async close() {
      stopping = true;
      wake?.();
      await loop;
    },
    [Symbol.asyncDispose]() {
      return relay.close();
    },
  };
  return relay;
}
