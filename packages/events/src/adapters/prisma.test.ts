import { requirePostgres, requireRedis } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { EventsErrorCode } from '../errors.js';
import { runFixture } from '../test/fixture-process.js';
import { eventually } from '../testing.js';
import { memoryEventTransport } from './memory.js';
import { type PrismaRelayClient, prismaOutbox, prismaOutboxRelay } from './prisma.js';
import { redisEventTransport } from './redis/index.js';

const db = await requirePostgres({ migrations: ['events'] });
const redis = await requireRedis();

interface Events {
  'order.placed': { orderId: string; total: number };
}

// The outbox on every database (writes, rollbacks, two relays, traces in the headers column) is tested in
// prisma.dialects.test.ts; here what needs PostgreSQL alone or a child process.
describe.skipIf(!db.available)('Prisma outbox on real Postgres', () => {
  const prisma = createTestPrisma(db);
  const outbox = prismaOutbox<Events>();

  const count = async () =>
    Number((await db.query('SELECT count(*)::int AS n FROM app_events_outbox')).rows[0]!.n);

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
      let batches = 0;
      const child = runFixture('outbox-relay.ts', [db.url, db.schema, redis.url, prefix], (line) => {
        if (line.startsWith('batch 20')) batches++;
      });
      try {
        await eventually(() => expect(batches).toBeGreaterThanOrEqual(3), 30_000);
      } finally {
        await child.kill();
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
