import { requireRedis, startRedisServer } from '@app/test-harness';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { EventsError } from '../errors.js';
import { eventually } from '../testing.js';
import { redisEventTransport } from './redis/index.js';

// Private redis-server processes (a primary and its replica): where Redis is not installed the file skips.
const redis = await requireRedis();

type Events = Record<string, { n: number }>;

/** A primary, a replica attached to it (in sync), and clients on both. */
async function primaryAndReplica() {
  const [primary, replica] = await Promise.all([startRedisServer(), startRedisServer()]);
  const client = new Redis(primary.url);
  const onReplica = new Redis(replica.url);
  onReplica.on('error', () => {}); // it reconnects after the replica is stopped
  await onReplica.call('REPLICAOF', '127.0.0.1', String(primary.port));
  await eventually(async () => {
    expect(await onReplica.info('replication')).toContain('master_link_status:up');
    await client.set('sync', '1');
    expect(await client.wait(1, 1000)).toBe(1);
  }, 30_000);
  const done = async () => {
    client.disconnect();
    onReplica.disconnect();
    await Promise.all([primary.stop(), replica.stop()]);
  };
  return { primary, replica, client, onReplica, done };
}

/** A bus whose publishes wait for one replica, at most `timeoutMs`. */
function durableBus(client: Redis, keyPrefix: string, timeoutMs: number) {
  return createEventBus<Events>({
    transport: redisEventTransport({ client, keyPrefix, durability: { replicas: 1, timeoutMs } }),
  });
}

describe.skipIf(!redis.available)(
  'redisEventTransport durability (WAIT), on a real primary and replica',
  () => {
    it('resolves a durable publish only once the replica has it, with few WAITs for a whole tick', async () => {
      const { client, onReplica, primary, done } = await primaryAndReplica();
      const spy = new Redis(primary.url);
      const waits: string[][] = [];
      const monitor = await spy.monitor();
      monitor.on('monitor', (_time: string, args: string[]) => {
        if (args[0]?.toLowerCase() === 'wait') waits.push(args);
      });
      const bus = durableBus(client, 'wait:', 5000);
      try {
        const names = ['a', 'b', 'c'];
        await Promise.all(names.map((name) => bus.publish(name, { n: -1 })));
        waits.length = 0;
        // 3,000 publishes in one tick: 12 script calls of 250 events.
        await Promise.all(Array.from({ length: 3000 }, (_, n) => bus.publish(names[n % 3]!, { n })));
        // Read from the replica at once, no waiting: every resolved publish is there already.
        for (const name of names) expect(await onReplica.xlen(`wait:e:{${name}}`)).toBe(1001);
        await eventually(() => expect(waits.length).toBeGreaterThan(0));
        expect(waits.length).toBeLessThan(12);
        expect(waits[0]).toEqual(['WAIT', '1', '5000']);
      } finally {
        monitor.disconnect();
        spy.disconnect();
        await bus.close();
        await done();
      }
    });

    it('rejects with the retryable NOT_REPLICATED when the replica does not acknowledge in time; the event is on the primary', async () => {
      const { client, replica, done } = await primaryAndReplica();
      const bus = durableBus(client, 'lonely:', 200);
      try {
        await bus.publish('job', { n: 0 });
        await replica.stop();
        const started = Date.now();
        const error = await bus.publish('job', { n: 1 }).then(
          () => undefined,
          (e: unknown) => e,
        );
        // The bound is timeoutMs (200) plus a generous margin for a loaded machine.
        expect(Date.now() - started).toBeLessThan(5000);
        expect(error).toBeInstanceOf(EventsError);
        expect(error).toMatchObject({ code: 'NOT_REPLICATED', retryable: true });
        expect((await bus.history('job')).map((e) => e.data.n)).toEqual([0, 1]);
      } finally {
        await bus.close();
        await done();
      }
    });

    it('sends no WAIT when durability is off (the default)', async () => {
      const { client, primary, done } = await primaryAndReplica();
      const spy = new Redis(primary.url);
      const seen: string[] = [];
      const monitor = await spy.monitor();
      monitor.on('monitor', (_time: string, args: string[]) => void seen.push(args[0]!.toLowerCase()));
      const bus = createEventBus<Events>({
        transport: redisEventTransport({ client, keyPrefix: 'nowait:' }),
      });
      try {
        await Promise.all(Array.from({ length: 500 }, (_, n) => bus.publish('job', { n })));
        await client.set('nowait:fence', '1');
        await eventually(() => expect(seen).toContain('set'));
        expect(seen.filter((c) => c === 'evalsha' || c === 'eval').length).toBeGreaterThan(0);
        expect(seen).not.toContain('wait');
      } finally {
        monitor.disconnect();
        spy.disconnect();
        await bus.close();
        await done();
      }
    });

    it('rejects a bad durability option before any I/O', () => {
      const client = new Redis({ lazyConnect: true });
      expect(() => redisEventTransport({ client, durability: { replicas: 0 } })).toThrow(/replicas/);
      expect(() => redisEventTransport({ client, durability: { timeoutMs: -1 } })).toThrow(/timeoutMs/);
      client.disconnect();
    });
  },
);
