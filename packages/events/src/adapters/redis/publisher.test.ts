import { requireRedis } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../../bus.js';
import { eventually } from '../../testing.js';
import { redisEventTransport } from './index.js';

const redis = await requireRedis();

describe.skipIf(!redis.available)('redisEventTransport publish batching, on real Redis', () => {
  it('writes the publishes of one tick with a few script calls, each publish acknowledged with its own id', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}batch:`;
    const bus = createEventBus<{ 'order.placed': { n: number } }>({
      transport: redisEventTransport({ client, keyPrefix: prefix, maxLen: 100 }),
    });
    await bus.publish('order.placed', { n: -1 }); // registers the name
    const sent: string[][] = [];
    const monitor = await redis.client().monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((a) => a.startsWith(prefix))) sent.push(args);
    });
    const published = await Promise.all(
      Array.from({ length: 1000 }, (_, n) => bus.publish('order.placed', { n })),
    );
    await eventually(() => expect(sent.filter((a) => a[0]?.toLowerCase() === 'xadd')).toHaveLength(1000));
    monitor.disconnect();
    const calls = sent.filter((a) => ['evalsha', 'eval'].includes(a[0]!.toLowerCase()));
    expect(calls.length).toBeGreaterThanOrEqual(1);
    expect(calls.length).toBeLessThanOrEqual(8);
    // Every publish has its own id and position, and the stream holds them in publication order.
    expect(new Set(published.map((p) => p.position)).size).toBe(1000);
    const entries = (await client.xrevrange(`${prefix}e:{order.placed}`, '+', '-', 'COUNT', 100)) as Array<
      [string, string[]]
    >;
    expect(entries.map(([id]) => id)).toEqual(
      published
        .slice(-100)
        .map((p) => p.position)
        .reverse(),
    );
    expect(entries[0]![1]).toEqual([
      'i',
      published[999]!.id,
      'n',
      'order.placed',
      'd',
      '{"n":999}',
      't',
      expect.any(String),
      's',
      'app',
    ]);
    // Trimmed (approximately) to maxLen, once per batch.
    const length = await client.xlen(`${prefix}e:{order.placed}`);
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(1001);
    await bus.close();
  });

  it('settles each publish on its own: one failing stream does not fail the others in the same tick', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}ack:`;
    await client.set(`${prefix}e:{broken}`, 'not a stream');
    const bus = createEventBus({ transport: redisEventTransport({ client, keyPrefix: prefix }) });
    const results = await Promise.allSettled([
      bus.publish('fine', { n: 1 }),
      bus.publish('broken', { n: 2 }),
      bus.publish('fine', { n: 3 }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      message: expect.stringContaining('WRONGTYPE'),
    });
    const log = await bus.history('fine');
    expect(log.map((e) => e.data)).toEqual([{ n: 1 }, { n: 3 }]);
    await bus.close();
  });

  it('keeps each event its own source (or none) inside one batch, and positions in input order across names', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}sources:`;
    const transport = redisEventTransport({ client, keyPrefix: prefix });
    const records = [
      { id: 'a1', name: 'a', payload: '1', timestamp: 1, source: 'x' },
      { id: 'b1', name: 'b', payload: '2', timestamp: 2 },
      { id: 'a2', name: 'a', payload: '3', timestamp: 3 },
      { id: 'a3', name: 'a', payload: '4', timestamp: 4, source: '' },
      { id: 'b2', name: 'b', payload: '5', timestamp: 5, source: 'y' },
    ];
    const positions = await transport.publish(records);
    const a = await transport.history('a', { limit: 10, order: 'asc' });
    const b = await transport.history('b', { limit: 10, order: 'asc' });
    expect(a).toEqual([
      { id: 'a1', name: 'a', payload: '1', timestamp: 1, source: 'x', position: positions[0] },
      { id: 'a2', name: 'a', payload: '3', timestamp: 3, position: positions[2] },
      { id: 'a3', name: 'a', payload: '4', timestamp: 4, source: '', position: positions[3] },
    ]);
    expect(b).toEqual([
      { id: 'b1', name: 'b', payload: '2', timestamp: 2, position: positions[1] },
      { id: 'b2', name: 'b', payload: '5', timestamp: 5, source: 'y', position: positions[4] },
    ]);
    await transport.close();
  });

  it('publishes in order after the server forgot its scripts (SCRIPT FLUSH), through the NOSCRIPT fallback', async () => {
    const server = await import('@app/test-harness').then((h) => h.startRedisServer());
    const { Redis } = await import('ioredis');
    const client = new Redis(server.url);
    const bus = createEventBus<{ tick: { n: number } }>({
      transport: redisEventTransport({ client, keyPrefix: 'flush:' }),
    });
    try {
      await Promise.all([0, 1, 2].map((n) => bus.publish('tick', { n })));
      await client.script('FLUSH');
      await Promise.all([3, 4, 5].map((n) => bus.publish('tick', { n })));
      await client.script('FLUSH');
      await bus.publishMany([6, 7, 8].map((n) => ({ name: 'tick' as const, data: { n } })));
      const log = await bus.history('tick');
      expect(log.map((e) => e.data.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await bus.close();
      client.disconnect();
    }
  });
});
