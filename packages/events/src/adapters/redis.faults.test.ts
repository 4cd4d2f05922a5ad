import { once } from 'node:events';
import { requireRedis, startRedisServer } from '@app/test-harness';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { runFixture } from '../test/fixture-process.js';
import { eventually } from '../testing.js';
import { redisEventTransport } from './redis/index.js';

const redis = await requireRedis();

describe.skipIf(!redis.available)('redisEventTransport under faults, on real Redis', () => {
  it('redelivers everything a SIGKILLed consumer had taken to a new member of its group', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}crash:`;
    const bus = createEventBus<{ 'job.created': { n: number } }>({
      transport: redisEventTransport({ client, keyPrefix: prefix, claimIdleMs: 300, claimIntervalMs: 100 }),
    });
    // The group exists before anything is published, so the child's backlog is all 400 events.
    await (await bus.subscribe('job.created', () => {}, { group: 'workers' })).close();
    const published = await bus.publishMany(
      Array.from({ length: 400 }, (_, n) => ({ name: 'job.created' as const, data: { n } })),
    );
    const all = new Set(published.map((p) => p.id));

    const started = new Set<string>();
    const done = new Set<string>();
    const child = runFixture('redis-consumer.ts', [redis.url, prefix, 'job.created', 'workers'], (line) => {
      const [what, id] = line.split(' ');
      if (what === 'start') started.add(id!);
      if (what === 'done') done.add(id!);
    });
    try {
      await eventually(() => {
        // Every one of the child's 8 slots holds a hung handler.
        expect(done.size).toBeGreaterThanOrEqual(40);
        expect(started.size - done.size).toBe(8);
      }, 30_000);
    } finally {
      await child.kill();
    }
    const interrupted = [...started].filter((id) => !done.has(id));
    expect(done.size).toBeLessThan(400);
    expect(interrupted.length).toBeGreaterThan(0);

    const received = new Set<string>();
    await bus.subscribe('job.created', (e) => void received.add(e.id), { group: 'workers', concurrency: 16 });
    // Everything the child did not finish reaches the new member: the unread backlog, and (through
    // XAUTOCLAIM) what the child had taken. Finished-but-unacknowledged ones may come twice: at-least-once.
    await eventually(() => {
      for (const id of all) if (!done.has(id)) expect(received.has(id)).toBe(true);
    }, 20_000);
    for (const id of interrupted) expect(received.has(id)).toBe(true);
    await eventually(async () => {
      const [pending] = (await client.xpending(`${prefix}e:{job.created}`, 'workers')) as [number];
      expect(pending).toBe(0);
    });
    await bus.close();
  }, 60_000);

  it('reconnects by itself after its redis-server restarts; nothing acknowledged is lost', async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { retryStrategy: (times) => Math.min(times * 20, 200) });
    client.on('error', () => {});
    const bus = createEventBus<{ tick: { n: number } }>({
      transport: redisEventTransport({
        client,
        keyPrefix: 'restart:',
        claimIdleMs: 500,
        claimIntervalMs: 200,
      }),
    });
    const durable = new Set<string>();
    const live = new Set<string>();
    try {
      await bus.subscribe('tick', (e) => void durable.add(e.id), { group: 'g', concurrency: 4 });
      await bus.subscribe('tick', (e) => void live.add(e.id));
      const before = await Promise.all(Array.from({ length: 50 }, (_, n) => bus.publish('tick', { n })));
      await eventually(() => expect(durable.size).toBe(50));
      await eventually(() => expect(live.size).toBe(50));

      await server.stop();
      // Published while the server is down: they fail at once with a retryable UNAVAILABLE error (not queued
      // behind the reconnect), or are acknowledged if the client is already back.
      const during = Promise.allSettled(
        Array.from({ length: 50 }, (_, n) => bus.publish('tick', { n: 100 + n })),
      );
      await new Promise((resolve) => setTimeout(resolve, 200)); // the outage lasts a moment
      await server.start();
      const settled = await during;
      for (const r of settled) {
        if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      }
      const acknowledged = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value.id] : []));
      // Publishing fails fast while the client reconnects (by design): wait for the reconnect itself.
      if (client.status !== 'ready') await once(client, 'ready');

      const after = await Promise.all(
        Array.from({ length: 50 }, (_, n) => bus.publish('tick', { n: 200 + n })),
      );
      const expected = [...before.map((p) => p.id), ...acknowledged, ...after.map((p) => p.id)];
      await eventually(() => {
        for (const id of expected) expect(durable.has(id)).toBe(true);
      }, 20_000);
      await eventually(() => {
        for (const { id } of after) expect(live.has(id)).toBe(true);
      }, 20_000);
    } finally {
      await bus.close();
      client.disconnect();
      await server.stop();
    }
  }, 60_000);

  it('soaks 100,000 events: delivered equals published, for a group of two and a live pattern listener', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}soak:`;
    const bus = createEventBus<Record<string, { n: number }>>({
      transport: redisEventTransport({ client, keyPrefix: prefix, maxLen: 200_000 }),
    });
    const total = 100_000;
    const names = ['soak.a', 'soak.b'];
    const group = new Set<string>();
    let groupDeliveries = 0;
    let liveDeliveries = 0;
    const onGroup = (e: { id: string }) => {
      groupDeliveries++;
      group.add(e.id);
    };
    await bus.subscribePattern('soak.*', onGroup, { group: 'soakers', concurrency: 200 });
    await bus.subscribePattern('soak.*', onGroup, { group: 'soakers', concurrency: 200 });
    await bus.subscribePattern('soak.*', () => void liveDeliveries++, { concurrency: 200 });
    for (let sent = 0; sent < total; sent += 1000) {
      await bus.publishMany(
        Array.from({ length: 1000 }, (_, i) => ({ name: names[i % 2]!, data: { n: sent + i } })),
      );
    }
    await eventually(() => expect(group.size).toBe(total), 60_000);
    await eventually(() => expect(liveDeliveries).toBe(total), 60_000);
    expect(groupDeliveries).toBe(total);
    const lengths = await Promise.all(names.map((n) => client.xlen(`${prefix}e:{${n}}`)));
    expect(lengths[0]! + lengths[1]!).toBe(total);
    await bus.close();
  }, 90_000);
});
