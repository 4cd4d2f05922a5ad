import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requirePostgres, requireRedis } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { EventsErrorCode } from '../errors.js';
import { eventually } from '../testing.js';
import { memoryEventTransport } from './memory.js';
import { type PrismaRelayClient, prismaOutbox, prismaOutboxRelay } from './prisma.js';
import { redisEventTransport } from './redis/index.js';

const db = await requirePostgres({ migrations: ['events'] });
const redis = await requireRedis();
const here = dirname(fileURLToPath(import.meta.url));

interface Events {
  'order.placed': { orderId: string; total: number };
}

describe.skipIf(!db.available)('Prisma outbox on real Postgres', () => {
  const prisma = createTestPrisma(db);
  const outbox = prismaOutbox<Events>();

  const count = async () =>
    Number((await db.query('SELECT count(*)::int AS n FROM app_events_outbox')).rows[0]!.n);

  it('writes the event in the caller transaction, next to the business write, and the relay delivers it', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS shop_orders (id TEXT PRIMARY KEY, total INT NOT NULL)');
    const written = await prisma.$transaction(async (tx) => {
      await tx.$executeRawUnsafe('INSERT INTO shop_orders (id, total) VALUES ($1, $2)', 'o1', 42);
      return outbox.publish(tx, 'order.placed', { orderId: 'o1', total: 42 }, 'shop');
    });
    const { rows } = await db.query('SELECT id, name, payload, source, created_at FROM app_events_outbox');
    expect(rows).toEqual([
      {
        id: written.id,
        name: 'order.placed',
        payload: { orderId: 'o1', total: 42 },
        source: 'shop',
        created_at: new Date(written.timestamp),
      },
    ]);

    const transport = memoryEventTransport();
    const bus = createEventBus<Events>({ transport });
    const relay = prismaOutboxRelay({ prisma, transport });
    expect(await relay.runOnce()).toBe(1);
    expect(await count()).toBe(0);
    const [event] = await bus.history('order.placed');
    expect(event).toMatchObject({
      id: written.id,
      data: { orderId: 'o1', total: 42 },
      source: 'shop',
      timestamp: written.timestamp,
    });
    expect(await relay.runOnce()).toBe(0);
    await bus.close();
  });

  it('publishes nothing when the transaction rolls back', async () => {
    await db.query('CREATE TABLE IF NOT EXISTS shop_orders (id TEXT PRIMARY KEY, total INT NOT NULL)');
    await expect(
      prisma.$transaction(async (tx) => {
        await tx.$executeRawUnsafe('INSERT INTO shop_orders (id, total) VALUES ($1, $2)', 'o2', 7);
        await outbox.publishMany(tx, [
          { name: 'order.placed', data: { orderId: 'o2', total: 7 } },
          { name: 'order.placed', data: { orderId: 'o2b', total: 8 } },
        ]);
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');
    expect(await count()).toBe(0);
    expect((await db.query(`SELECT * FROM shop_orders WHERE id = 'o2'`)).rows).toEqual([]);
    const transport = memoryEventTransport();
    expect(await prismaOutboxRelay({ prisma, transport }).runOnce()).toBe(0);
    expect(await transport.history('order.placed', { limit: 10, order: 'asc' })).toEqual([]);
  });

  it('rejects bad input before writing anything', async () => {
    await prisma.$transaction(async (tx) => {
      // @ts-expect-error not an event of the map
      await expect(outbox.publish(tx, 'order.*', {})).rejects.toMatchObject({
        code: EventsErrorCode.INVALID_ARGUMENT,
      });
      await expect(
        outbox.publish(tx, 'order.placed', { orderId: 'x', total: 1n as unknown as number }),
      ).rejects.toMatchObject({ code: EventsErrorCode.INVALID_PAYLOAD });
    });
    expect(await count()).toBe(0);
    expect(() => prismaOutbox({ table: 'x; DROP TABLE y' })).toThrow(
      expect.objectContaining({
        code: EventsErrorCode.INVALID_OPTIONS,
        message: expect.stringMatching(/invalid outbox table/),
      }),
    );
  });

  it('two relays running at once publish each of 1,000 rows exactly once (SKIP LOCKED)', async () => {
    await prisma.$transaction(async (tx) => {
      await outbox.publishMany(
        tx,
        Array.from({ length: 1000 }, (_, i) => ({
          name: 'order.placed' as const,
          data: { orderId: `b${i}`, total: i },
        })),
      );
    });
    const published: string[] = [];
    const transport = memoryEventTransport({ maxLen: 5000 });
    // Relay A holds its first batch (rows locked, transaction open) until relay B has published one: B
    // can only get there by skipping A's locked rows.
    let releaseA!: () => void;
    const bPublished = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    let aHolds!: () => void;
    const aHolding = new Promise<void>((resolve) => {
      aHolds = resolve;
    });
    const counting = (who: 'a' | 'b') => ({
      ...transport,
      async publish(records: Parameters<typeof transport.publish>[0]) {
        if (who === 'a') {
          aHolds();
          await bPublished;
        } else releaseA();
        published.push(...records.map((r) => r.id));
        return transport.publish(records);
      },
    });
    const drain = async (who: 'a' | 'b') => {
      const relay = prismaOutboxRelay({ prisma, transport: counting(who), batchSize: 25 });
      let total = 0;
      for (;;) {
        const n = await relay.runOnce();
        if (n === 0) return total;
        total += n;
      }
    };
    const [fromA, fromB] = await Promise.all([drain('a'), aHolding.then(() => drain('b'))]);
    expect(fromA + fromB).toBe(1000);
    expect(fromA).toBeGreaterThan(0);
    expect(fromB).toBeGreaterThan(0);
    expect(published).toHaveLength(1000);
    expect(new Set(published).size).toBe(1000);
    expect(await count()).toBe(0);
  });

  it('runs in the background until closed', async () => {
    const transport = memoryEventTransport();
    const relay = prismaOutboxRelay({ prisma, transport, pollIntervalMs: 10 });
    relay.start();
    await prisma.$transaction((tx) => outbox.publish(tx, 'order.placed', { orderId: 'bg', total: 1 }));
    await eventually(async () =>
      expect(await transport.history('order.placed', { limit: 5, order: 'asc' })).toHaveLength(1),
    );
    await relay.close();
    expect(() => relay.start()).toThrow(/closed/);
  });

  it.skipIf(!redis.available)(
    'loses nothing when a relay process is SIGKILLed mid-run',
    async () => {
      const total = 600;
      const written = await prisma.$transaction((tx) =>
        outbox.publishMany(
          tx,
          Array.from({ length: total }, (_, i) => ({
            name: 'order.placed' as const,
            data: { orderId: `k${i}`, total: i },
          })),
        ),
      );
      const prefix = `${redis.prefix}outbox:`;
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(here, 'fixtures', 'outbox-relay.ts'), db.url, db.schema, redis.url, prefix],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let batches = 0;
      child.stdout.on('data', (chunk: Buffer) => {
        batches += chunk
          .toString()
          .split('\n')
          .filter((l) => l.startsWith('batch 20')).length;
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        await eventually(() => expect(batches).toBeGreaterThanOrEqual(3), 30_000);
        child.kill('SIGKILL');
        await exited;
      } finally {
        child.kill('SIGKILL');
      }
      const left = await count();
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThan(total);

      const client = redis.client();
      const relay = prismaOutboxRelay({
        prisma,
        transport: redisEventTransport({ client, keyPrefix: prefix }),
      });
      // The killed relay's open transaction is rolled back when Postgres notices the dead connection.
      await eventually(async () => {
        await relay.runOnce();
        expect(await count()).toBe(0);
      }, 30_000);
      const entries = (await client.xrange(`${prefix}e:{order.placed}`, '-', '+')) as Array<
        [string, string[]]
      >;
      const ids = new Set(entries.map(([, fields]) => fields[fields.indexOf('i') + 1]));
      for (const w of written) expect(ids.has(w.id)).toBe(true);
      expect(entries.length).toBeGreaterThanOrEqual(total);
    },
    60_000,
  );
});

describe('prismaOutboxRelay options', () => {
  it('throws INVALID_OPTIONS for a missing client or transport and bad numbers', () => {
    const transport = memoryEventTransport();
    const prisma = {
      $transaction: () => Promise.reject(new Error('no I/O expected')),
    } as unknown as PrismaRelayClient;
    const invalidOptions = expect.objectContaining({ code: EventsErrorCode.INVALID_OPTIONS });
    // @ts-expect-error prisma is required
    expect(() => prismaOutboxRelay({ transport })).toThrow(invalidOptions);
    // @ts-expect-error transport is required
    expect(() => prismaOutboxRelay({ prisma })).toThrow(invalidOptions);
    expect(() => prismaOutboxRelay({ prisma, transport, batchSize: 0 })).toThrow(invalidOptions);
    expect(() => prismaOutboxRelay({ prisma, transport, table: 'a-b' })).toThrow(invalidOptions);
  });
});
