import { requireRedis } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { runFixture } from '../test/fixture-process.js';
import { eventually } from '../testing.js';
import { redisEventTransport } from './redis/index.js';

const redis = await requireRedis();

type Pending = Array<[id: string, consumer: string, idleMs: number, deliveries: number]>;
type Consumers = Array<Array<string | number>>;

/** `XINFO CONSUMERS` as name -> pending count. */
async function consumers(key: string, group: string): Promise<Map<string, number>> {
  const rows = (await redis.client().call('XINFO', 'CONSUMERS', key, group)) as Consumers;
  const map = new Map<string, number>();
  for (const row of rows) {
    const fields = new Map<string, string | number>();
    for (let i = 0; i + 1 < row.length; i += 2) fields.set(String(row[i]), row[i + 1]!);
    map.set(String(fields.get('name')), Number(fields.get('pending')));
  }
  return map;
}

describe.skipIf(!redis.available)('redisEventTransport deliveries across members, on real Redis', () => {
  it.each([
    ['while it runs', false],
    ["while the transport's close() waits for it", true],
  ])(
    'keeps a handler running 3x claimIdleMs to itself %s, with another member polling for stale deliveries',
    async (_, closeEarly) => {
      const prefix = `${redis.prefix}heartbeat-${closeEarly}:`;
      // Large enough that a loaded CI machine stalling this process for a second cannot make the heartbeat
      // (every claimIdleMs/3) miss a whole idle window; the outcome, not the timing, is asserted.
      const claimIdleMs = 1500;
      const options = { keyPrefix: prefix, claimIdleMs, claimIntervalMs: 50 };
      const calls: Array<{ member: string; id: string }> = [];
      let started = 0;
      let finished = 0;
      const slow = (member: string) => async (e: { id: string }) => {
        started++;
        calls.push({ member, id: e.id });
        await new Promise((resolve) => setTimeout(resolve, 3 * claimIdleMs));
        finished++;
      };
      const transportA = redisEventTransport({ client: redis.client(), ...options });
      const a = createEventBus({ transport: transportA, consumer: 'a' });
      const b = createEventBus({
        transport: redisEventTransport({ client: redis.client(), ...options }),
        consumer: 'b',
      });
      try {
        await a.subscribe('job', slow('a'), { group: 'workers', concurrency: 2 });
        const published = await a.publishMany([
          { name: 'job', data: 1 },
          { name: 'job', data: 2 },
        ]);
        await eventually(() => expect(started).toBe(2));
        // Only now does the second member join: everything is held by `a`, and `b` has free slots and looks
        // for stale deliveries every 20 ms.
        await b.subscribe('job', slow('b'), { group: 'workers', concurrency: 2 });
        if (closeEarly) {
          // The transport's own close() is graceful: it resolves once both handlers have finished and their
          // deliveries are acknowledged, and the heartbeat goes on until then.
          await transportA.close();
          expect(finished).toBe(2);
        }
        await eventually(async () => {
          const [count] = (await redis.client().xpending(`${prefix}e:{job}`, 'workers')) as [number];
          expect(count).toBe(0);
        }, 20_000);
        expect(calls).toEqual(published.map((p) => ({ member: 'a', id: p.id })));
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
    30_000,
  );

  it('counts attempts across processes: A throws then is SIGKILLed, B makes the rest, then dead-letters', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}attempts:`;
    const key = `${prefix}e:{job}`;
    const maxAttempts = 4;
    const claimIdleMs = 300;
    const bus = createEventBus<{ job: { n: number } }>({
      transport: redisEventTransport({ client, keyPrefix: prefix, claimIdleMs, claimIntervalMs: 50 }),
      consumer: 'b',
      retry: { maxAttempts, baseDelayMs: 1, maxDelayMs: 1, jitter: 'none' },
    });
    // The group exists before anything is published.
    await (await bus.subscribe('job', () => {}, { group: 'workers' })).close();

    const inA: number[] = [];
    let ready = false;
    const args = [redis.url, prefix, 'job', 'workers', String(maxAttempts), String(claimIdleMs)];
    const child = runFixture('redis-failing-consumer.ts', args, (line) => {
      const [what, , n] = line.split(' ');
      if (what === 'ready') ready = true;
      if (what === 'attempt') inA.push(Number(n));
    });
    let published: { id: string; position: string };
    try {
      await eventually(() => expect(ready).toBe(true), 30_000);
      published = await bus.publish('job', { n: 1 });
      // Attempt 1 threw; attempt 2 hangs. The child's heartbeat keeps it its own meanwhile.
      await eventually(() => expect(inA).toEqual([1, 2]), 30_000);
      // Read from the stream itself: the delivery counter is where the count lives.
      const pending = (await client.xpending(key, 'workers', '-', '+', 10)) as Pending;
      expect(pending).toEqual([
        [published.position, expect.stringMatching(/^child-/), expect.any(Number), 2],
      ]);
    } finally {
      await child.kill();
    }

    const inB: number[] = [];
    await bus.subscribe(
      'job',
      (e) => {
        inB.push(e.attempt);
        throw new Error('fails in B');
      },
      { group: 'workers' },
    );
    await eventually(async () => expect(await bus.listDeadLetters('workers')).toHaveLength(1), 20_000);
    expect(inB).toEqual([3, 4]);
    expect(inA.length + inB.length).toBe(maxAttempts);
    const [dead] = await bus.listDeadLetters('workers');
    expect(dead).toMatchObject({
      id: published.id,
      position: published.position,
      attempts: maxAttempts,
      error: { message: 'fails in B' },
    });
    await eventually(async () => {
      const [count] = (await client.xpending(key, 'workers')) as [number];
      expect(count).toBe(0);
    });
    await bus.close();
  }, 60_000);

  it('removes its consumer from the group on close, unless the consumer still holds deliveries', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}delconsumer:`;
    const transport = () => redisEventTransport({ client, keyPrefix: prefix, claimIdleMs: 60_000 });
    const idle = createEventBus({ transport: transport(), consumer: 'idle' });
    const holding = createEventBus({
      transport: transport(),
      consumer: 'holding',
      retry: { maxAttempts: 2, baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' },
    });
    let done = 0;
    let failed = 0;
    await idle.subscribe('a', () => void done++, { group: 'g' });
    await holding.subscribe(
      'b',
      () => {
        failed++;
        throw new Error('later');
      },
      { group: 'g' },
    );
    await idle.publish('a', {});
    await holding.publish('b', {});
    await eventually(() => expect(done + failed).toBe(2));
    await eventually(async () => expect((await consumers(`${prefix}e:{a}`, 'g')).get('idle')).toBe(0));
    expect((await consumers(`${prefix}e:{b}`, 'g')).get('holding')).toBe(1);

    await idle.close();
    // Closing interrupts the backoff: the delivery stays pending on `holding`, so the consumer stays.
    await holding.close();
    expect([...(await consumers(`${prefix}e:{a}`, 'g')).keys()]).toEqual([]);
    expect(await consumers(`${prefix}e:{b}`, 'g')).toEqual(new Map([['holding', 1]]));
    expect(await consumers(`${prefix}retry:{b}:g`, 'g')).toEqual(new Map());
  });
});
