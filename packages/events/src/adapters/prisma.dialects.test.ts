// The same outbox tests on PostgreSQL, MariaDB and SQLite, each on a database of its own created from the
// migrations this package ships for it (prisma/migrations, prisma/migrations/mysql, prisma/migrations/sqlite).
import { requireMariaDb, requirePostgres, requireSqlite } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { createTestPrismaMariaDb } from '@app/test-harness/prisma-mariadb';
import { describe, expect, it } from 'vitest';
import { EventsErrorCode } from '../errors.js';
import { createTestSdk } from '../test/otel.js';
import type { EventTransport } from '../types.js';
import { memoryEventTransport } from './memory.js';
import { type OutboxProvider, type PrismaRelayClient, prismaOutbox, prismaOutboxRelay } from './prisma.js';

const pg = await requirePostgres({ migrations: ['events'] });
// MariaDB and SQLite get the migrations this package ships (prisma/migrations/<dialect>).
const maria = await requireMariaDb({ shipped: ['events'] });
const sqlite = await requireSqlite({ shipped: ['events'] });
const { createTestPrismaSqlite } = sqlite.available
  ? await import('@app/test-harness/prisma-sqlite')
  : { createTestPrismaSqlite: undefined as never };

interface Events {
  'order.placed': { orderId: string; total: number; note?: string };
  'order.count': number;
}

interface Dialect {
  provider: OutboxProvider;
  available: boolean;
  /** A new PrismaClient (its own connection or pool) on this file's database. */
  client(): PrismaRelayClient & {
    $transaction<R>(fn: (tx: never) => Promise<R>): Promise<R>;
    eventOutbox: { findMany(): Promise<Array<{ id: string; createdAt: Date }>> };
  };
  count(): Promise<number>;
  /** Whether two relays can each hold a batch at once (row locks with SKIP LOCKED). */
  skipLocked: boolean;
}

const dialects: Dialect[] = [
  {
    provider: 'postgresql',
    available: pg.available,
    client: () => createTestPrisma(pg) as never,
    count: async () =>
      Number((await pg.query('SELECT count(*)::int AS n FROM app_events_outbox')).rows[0]!.n),
    skipLocked: true,
  },
  {
    provider: 'mysql',
    available: maria.available,
    client: () => createTestPrismaMariaDb(maria) as never,
    count: async () =>
      Number((await maria.query<Array<{ n: bigint }>>('SELECT count(*) AS n FROM app_events_outbox'))[0]!.n),
    skipLocked: true,
  },
  {
    provider: 'sqlite',
    available: sqlite.available,
    client: () => createTestPrismaSqlite(sqlite) as never,
    count: async () =>
      (sqlite.db.prepare('SELECT count(*) AS n FROM app_events_outbox').get() as { n: number }).n,
    skipLocked: false,
  },
];

async function drain(prisma: PrismaRelayClient, transport: EventTransport, batchSize = 25): Promise<number> {
  const relay = prismaOutboxRelay({ prisma, transport, batchSize });
  let total = 0;
  for (;;) {
    const n = await relay.runOnce();
    if (n === 0) return total;
    total += n;
  }
}

for (const d of dialects) {
  describe.skipIf(!d.available)(`Prisma outbox on ${d.provider}`, () => {
    const outbox = prismaOutbox<Events>();

    it('writes in the caller transaction; the relay delivers id, timestamp, source and payload as written', async () => {
      const prisma = d.client();
      const before = await d.count();
      const note = 'naïve café ✓ "quoted" \\ slash';
      const written = await prisma.$transaction(async (tx) => [
        await outbox.publish(tx, 'order.placed', { orderId: 'o1', total: 42.5, note }, 'shop'),
        // A bare number: SQLite's JSONB column has numeric affinity; it must still come back as JSON text.
        await outbox.publish(tx, 'order.count', 7),
      ]);
      expect(await d.count()).toBe(before + 2);
      // Prisma's own model reads the row the outbox wrote: the same instant (DATETIME(3) on MySQL is UTC).
      const modelRows = await prisma.eventOutbox.findMany();
      expect(modelRows.find((r) => r.id === written[0]!.id)!.createdAt.getTime()).toBe(written[0]!.timestamp);

      const transport = memoryEventTransport();
      expect(await prismaOutboxRelay({ prisma, transport }).runOnce()).toBeGreaterThanOrEqual(2);
      const [placed] = await transport.history('order.placed', { limit: 10, order: 'asc' });
      expect(placed).toMatchObject({ id: written[0]!.id, source: 'shop', timestamp: written[0]!.timestamp });
      expect(JSON.parse(placed!.payload)).toEqual({ orderId: 'o1', total: 42.5, note });
      expect(placed!.headers).toBeUndefined();
      const [count] = await transport.history('order.count', { limit: 10, order: 'asc' });
      expect(JSON.parse(count!.payload)).toBe(7);
      expect(await d.count()).toBe(0);
    });

    it('writes nothing when the transaction rolls back', async () => {
      const prisma = d.client();
      await expect(
        prisma.$transaction(async (tx) => {
          await outbox.publishMany(tx, [
            { name: 'order.placed', data: { orderId: 'r1', total: 1 } },
            { name: 'order.placed', data: { orderId: 'r2', total: 2 } },
          ]);
          throw new Error('payment declined');
        }),
      ).rejects.toThrow('payment declined');
      expect(await d.count()).toBe(0);
    });

    it('stores the trace context in the headers column; the relay passes it on untouched', async () => {
      const sdk = createTestSdk({ global: false });
      try {
        const traced = prismaOutbox<Events>({ telemetry: { tracerProvider: sdk.tracerProvider } });
        const prisma = d.client();
        const written = await prisma.$transaction((tx) =>
          traced.publish(tx, 'order.placed', { orderId: 'h1', total: 1 }),
        );
        const [create] = sdk.spans();
        expect(create!.name).toBe('create order.placed');
        const transport = memoryEventTransport();
        await prismaOutboxRelay({ prisma, transport, telemetry: false }).runOnce();
        const [stored] = await transport.history('order.placed', { limit: 1, order: 'desc' });
        expect(stored).toMatchObject({
          id: written.id,
          headers: { traceparent: `00-${create!.spanContext().traceId}-${create!.spanContext().spanId}-01` },
        });
      } finally {
        await sdk.shutdown();
      }
    });

    it('two relays running at once publish each of 1,000 rows exactly once', async () => {
      const prisma = d.client();
      await prisma.$transaction((tx) =>
        outbox.publishMany(
          tx,
          Array.from({ length: 1000 }, (_, i) => ({
            name: 'order.placed' as const,
            data: { orderId: `b${i}`, total: i },
          })),
        ),
      );
      expect(await d.count()).toBe(1000);
      const published: string[] = [];
      const transport = memoryEventTransport({ maxLen: 5000 });
      let releaseA!: () => void;
      const bPublished = new Promise<void>((resolve) => {
        releaseA = resolve;
      });
      let aHolds!: () => void;
      const aHolding = new Promise<void>((resolve) => {
        aHolds = resolve;
      });
      const via = (who: 'a' | 'b'): EventTransport => ({
        ...transport,
        async publish(records) {
          // With row locks, relay A holds its first batch open until B has published one: B can only get
          // there by skipping A's locked rows. SQLite has one writer: the relays simply take turns.
          if (d.skipLocked && who === 'a') {
            aHolds();
            await bPublished;
          } else releaseA();
          published.push(...records.map((r) => r.id));
          return transport.publish(records);
        },
      });
      const [fromA, fromB] = await Promise.all([
        drain(prisma, via('a')),
        (d.skipLocked ? aHolding : Promise.resolve()).then(() => drain(d.client(), via('b'))),
      ]);
      expect(fromA + fromB).toBe(1000);
      if (d.skipLocked) {
        expect(fromA).toBeGreaterThan(0);
        expect(fromB).toBeGreaterThan(0);
      }
      expect(published).toHaveLength(1000);
      expect(new Set(published).size).toBe(1000);
      expect(await d.count()).toBe(0);
    });

    it.skipIf(d.provider !== 'sqlite')(
      'SQLite: a claim held by a relay that hangs keeps the row from others until it lapses',
      async () => {
        const prisma = d.client();
        const written = await prisma.$transaction((tx) =>
          outbox.publish(tx, 'order.placed', { orderId: 'l1', total: 1 }),
        );
        let claimed!: () => void;
        const aClaimed = new Promise<void>((resolve) => {
          claimed = resolve;
        });
        const hanging: EventTransport = {
          ...memoryEventTransport(),
          publish: () => {
            claimed();
            return new Promise(() => {});
          },
        };
        void prismaOutboxRelay({ prisma, transport: hanging, transactionTimeoutMs: 60_000 }).runOnce();
        await aClaimed;
        const transport = memoryEventTransport();
        const b = prismaOutboxRelay({ prisma: d.client(), transport });
        expect(await b.runOnce()).toBe(0);
        // Time passes (the lease is moved into the past rather than waited for).
        sqlite.db.prepare('UPDATE app_events_outbox SET claim_expires_at = ?').run(Date.now() - 1);
        expect(await b.runOnce()).toBe(1);
        const [event] = await transport.history('order.placed', { limit: 1, order: 'asc' });
        expect(event!.id).toBe(written.id);
        expect(await d.count()).toBe(0);
      },
    );

    it('a failed publish rolls the batch back: the rows stay for the next run', async () => {
      const prisma = d.client();
      await prisma.$transaction((tx) => outbox.publish(tx, 'order.placed', { orderId: 'f1', total: 1 }));
      const failing: EventTransport = {
        ...memoryEventTransport(),
        publish: () => Promise.reject(new Error('transport down')),
      };
      await expect(prismaOutboxRelay({ prisma, transport: failing }).runOnce()).rejects.toThrow(
        'transport down',
      );
      expect(await d.count()).toBe(1);
      expect(await drain(prisma, memoryEventTransport())).toBe(1);
    });
  });
}

describe('outbox provider option', () => {
  it('rejects an unknown provider, and a client that does not tell, before any I/O', async () => {
    const invalid = expect.objectContaining({ code: EventsErrorCode.INVALID_OPTIONS });
    expect(() => prismaOutbox({ provider: 'oracle' as OutboxProvider })).toThrow(invalid);
    const tx = { $executeRawUnsafe: () => Promise.reject(new Error('no I/O expected')) };
    await expect(prismaOutbox().publish(tx, 'a.b', {})).rejects.toMatchObject({
      code: EventsErrorCode.INVALID_OPTIONS,
      message: expect.stringMatching(/pass \{ provider/),
    });
  });
});
