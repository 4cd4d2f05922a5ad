import { sleep } from '@app/core';
import { requireRedis, startRedisSentinel } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { isEventsError } from '../errors.js';
import { eventually } from '../testing.js';
import { redisEventTransport } from './redis/index.js';

// Real redis-server and Sentinel processes: where Redis is not installed (outside CI) the file skips.
const redis = await requireRedis();
// Started once for the file (torn down after it by the harness).
const sentinel = redis.available ? await startRedisSentinel() : undefined;

type Events = { job: { n: number } };

describe.skipIf(!sentinel)('redisEventTransport behind Redis Sentinel (ioredis in sentinel mode)', () => {
  it('publishes and consumes again after the master is killed and the replica promoted', async () => {
    const setup = sentinel!;
    const client = setup.client();
    const bus = createEventBus<Events>({
      transport: redisEventTransport({
        client,
        keyPrefix: 'sentinel:',
        claimIdleMs: 3000,
        claimIntervalMs: 500,
      }),
    });
    const durableBus = createEventBus<Events>({
      transport: redisEventTransport({
        client: setup.client(),
        keyPrefix: 'sentinel:',
        durability: { replicas: 1, timeoutMs: 300 },
      }),
    });
    const grouped = new Set<number>();
    const live = new Set<number>();
    const group = await bus.subscribe('job', (e) => void grouped.add(e.data.n), { group: 'workers' });
    const tail = await bus.subscribe('job', (e) => void live.add(e.data.n));

    // With a replica attached, a durable publish resolves once the replica has it.
    for (let n = 0; n < 200; n++) await durableBus.publish('job', { n });
    await eventually(() => {
      expect(grouped.size).toBe(200);
      expect(live.size).toBe(200);
    }, 30_000);
    // The group and everything published are on the replica before its master dies.
    await client.set('sentinel:fence', '1');
    expect(await client.wait(1, 30_000)).toBe(1);
    await setup.failover();

    // The producer retries what is rejected while the client finds the new master, as an application would.
    const rejected = new Map<string, number>();
    for (let n = 200; n < 400; n++) {
      for (;;) {
        try {
          await bus.publish('job', { n });
          break;
        } catch (error) {
          const code = isEventsError(error) ? error.code : String(error);
          rejected.set(code, (rejected.get(code) ?? 0) + 1);
          await sleep(100);
        }
      }
    }
    expect([...rejected.keys()].filter((code) => code !== 'UNAVAILABLE')).toEqual([]);
    await eventually(() => {
      for (let n = 0; n < 400; n++) expect(grouped.has(n)).toBe(true);
      for (let n = 200; n < 400; n++) expect(live.has(n)).toBe(true);
    }, 60_000);

    // The promoted master has no replica now: a durable publish is stored but rejected as NOT_REPLICATED.
    const error = await durableBus.publish('job', { n: 400 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'NOT_REPLICATED', retryable: true });
    await eventually(() => expect(grouped.has(400)).toBe(true), 30_000);

    await group.close();
    await tail.close();
    await bus.close();
    await durableBus.close();
  }, 300_000);
});
