import { randomUUID } from 'node:crypto';
import { type Closeable, type Logger, silentLogger } from '@app/core';
import { EventsError, EventsErrorCode } from '../errors.js';
import { serialise } from '../internal/serialise.js';
import { positiveInt } from '../internal/validate.js';
import { assertEventName } from '../pattern.js';
import type { EventMap, EventRecord, EventTransport, PublishInput } from '../types.js';

/** What the outbox needs from the transaction client `tx` of `prisma.$transaction(async (tx) => ...)`. */
export interface PrismaOutboxTx {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

/** What the relay needs from a PrismaClient (extended clients fit too). */
export interface PrismaRelayClient {
  $transaction<R>(
    fn: (
      tx: PrismaOutboxTx & {
        $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
      },
    ) => Promise<R>,
    options?: { maxWait?: number; timeout?: number },
  ): Promise<R>;
}

/** Options of {@link prismaOutbox}. */
export interface PrismaOutboxOptions {
  /** The outbox table, optionally schema-qualified. @default 'app_events_outbox' */
  table?: string;
  /** The `source` of events written without one. @default 'app' */
  source?: string;
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
  /** Writes several events in `tx` with one statement. */
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
  /** Rows claimed and published per transaction. @default 100 */
  batchSize?: number;
  /** Wait between polls when the outbox is empty, in ms. @default 500 */
  pollIntervalMs?: number;
  /** Interactive-transaction timeout of one batch, in ms. @default 30000 */
  transactionTimeoutMs?: number;
  /** Gets warnings when a batch fails. @default silentLogger */
  logger?: Logger;
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

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

function quoteTable(table: string): string {
  if (!IDENTIFIER.test(table)) {
    throw new EventsError(
      EventsErrorCode.INVALID_OPTIONS,
      `invalid outbox table name ${JSON.stringify(table)}`,
    );
  }
  return table
    .split('.')
    .map((part) => `"${part}"`)
    .join('.');
}

/**
 * The transactional outbox: write events in the same Prisma transaction as the business change, so an
 * event exists if and only if that change committed. {@link prismaOutboxRelay} then delivers them.
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
  const table = quoteTable(options.table ?? 'app_events_outbox');
  const defaultSource = options.source ?? 'app';

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
    const rows = events.map((e) => {
      assertEventName(e.name);
      return {
        id: randomUUID(),
        name: e.name,
        payload: serialise(e.name, e.data),
        source: e.source ?? defaultSource,
      };
    });
    if (rows.length === 0) return [];
    await tx.$executeRawUnsafe(
      `INSERT INTO ${table} (id, name, payload, source, created_at)
       SELECT id, name, payload::jsonb, source, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
         AS t(id, name, payload, source)`,
      rows.map((r) => r.id),
      rows.map((r) => r.name),
      rows.map((r) => r.payload),
      rows.map((r) => r.source),
      new Date(timestamp),
    );
    return rows.map((r) => ({ id: r.id, name: r.name, timestamp }));
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

interface OutboxRow {
  seq: bigint | number | string;
  id: string;
  name: string;
  payload: string;
  source: string | null;
  created_at: Date;
}

/**
 * Relays committed outbox rows to a transport. Each batch is claimed with `FOR UPDATE SKIP LOCKED` inside a
 * transaction, published, then deleted in that transaction: two relays never hold the same row, and a relay
 * that dies mid-batch leaves its rows to the next one (so an event can be published twice, never lost;
 * subscribers dedupe by `id`). Events keep the id and timestamp they were written with.
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
  const table = quoteTable(options.table ?? 'app_events_outbox');
  const batchSize = positiveInt(options.batchSize, 100, 'batchSize');
  const pollIntervalMs = positiveInt(options.pollIntervalMs, 500, 'pollIntervalMs');
  const timeout = positiveInt(options.transactionTimeoutMs, 30_000, 'transactionTimeoutMs');
  const logger = options.logger ?? silentLogger;
  let loop: Promise<void> | undefined;
  let stopping = false;
  let wake: (() => void) | undefined;

  async function runOnce(): Promise<number> {
    return prisma.$transaction(
      async (tx) => {
        const rows = await tx.$queryRawUnsafe<OutboxRow[]>(
          `SELECT seq, id, name, payload::text AS payload, source, created_at FROM ${table}
           ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED`,
          batchSize,
        );
        if (rows.length === 0) return 0;
        const records: EventRecord[] = rows.map((row) => ({
          id: row.id,
          name: row.name,
          payload: row.payload,
          timestamp: new Date(row.created_at).getTime(),
          ...(row.source === null ? {} : { source: row.source }),
        }));
        await transport.publish(records);
        await tx.$executeRawUnsafe(
          `DELETE FROM ${table} WHERE seq = ANY($1::bigint[])`,
          rows.map((row) => String(row.seq)),
        );
        return rows.length;
      },
      { timeout, maxWait: timeout },
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
