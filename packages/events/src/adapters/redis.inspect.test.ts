import { requireRedis } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { EventsErrorCode } from '../errors.js';
import { eventually } from '../testing.js';
import { redisEventTransport } from './redis/index.js';

const redis = await requireRedis();

describe.skipIf(!redis.available)('redisEventTransport inspection on real Redis', () => {
  it('sees the groups and dead letters of other processes, through the transport key layout', async () => {
    const keyPrefix = `${redis.prefix}inspect:`;
    const worker = createEventBus<{ 'job.created': { n: number } }>({
      transport: redisEventTransport({ client: redis.client(), keyPrefix }),
      retry: { maxAttempts: 1 },
    });
    // A second process with no subscription of its own (a console).
    const viewer = createEventBus<{ 'job.created': { n: number } }>({
      transport: redisEventTransport({ client: redis.client(), keyPrefix }),
    });
    try {
      await worker.subscribe(
        'job.created',
        (e) => {
          if (e.data.n % 2 === 1) throw new Error(`odd ${e.data.n}`);
        },
        { group: 'workers' },
      );
      await worker.publishMany([0, 1, 2, 3, 4].map((n) => ({ name: 'job.created' as const, data: { n } })));
      await eventually(async () => expect(await viewer.listDeadLetters('workers')).toHaveLength(2));
      expect(await viewer.streamLength!('job.created')).toBe(5);
      // The stream key the console used to hard-code is gone: the transport's own layout is what is read.
      expect(await redis.client().exists(`${keyPrefix}e:job.created`)).toBe(0);
      expect(await redis.client().xlen(`${keyPrefix}e:{job.created}`)).toBe(5);
      await eventually(async () =>
        expect(await viewer.consumerGroups!('job.created')).toEqual([
          { name: 'job.created', group: 'workers', lag: 0, pending: 0 },
        ]),
      );
      // A malformed id rejects before anything is deleted.
      const [first] = await viewer.listDeadLetters('workers');
      await expect(
        viewer.deleteDeadLetters!('workers', [first!.deadLetterId, '1700000000000-0']),
      ).rejects.toMatchObject({ code: EventsErrorCode.INVALID_ARGUMENT });
      expect(await viewer.listDeadLetters('workers')).toHaveLength(2);
      expect(await viewer.deleteDeadLetters!('workers', [first!.deadLetterId])).toBe(1);
      // Deleting everything while the worker adds a new dead letter: the count is what was deleted.
      const [deleted] = await Promise.all([
        viewer.deleteDeadLetters!('workers'),
        worker.publish('job.created', { n: 5 }),
      ]);
      await eventually(async () => {
        const left = await viewer.listDeadLetters('workers');
        expect(deleted + left.length).toBe(2);
      });
    } finally {
      await viewer.close();
      await worker.close();
    }
  });
});
