import { createEventBus } from '@app/events';
import { redisEventTransport } from '@app/events/redis';
import { requireRedis } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { isConsoleError } from './errors.js';
import { redisEventsInspector } from './redis-inspector.js';

const redis = await requireRedis();

describe.skipIf(!redis.available)('redisEventsInspector on real Redis', () => {
  it('reads stream length and group pending/lag, and deletes selected then all dead letters', async () => {
    const keyPrefix = `${redis.prefix}events:`;
    const client = redis.client();
    const bus = createEventBus({ transport: redisEventTransport({ client, keyPrefix }) });
    const inspector = redisEventsInspector({ client, keyPrefix });
    const failures: string[] = [];
    let allFailed!: () => void;
    const three = new Promise<void>((resolve) => {
      allFailed = resolve;
    });
    const subscription = await bus.subscribe(
      'job.created',
      (event) => {
        failures.push(event.id);
        if (failures.length === 3) allFailed();
        throw new Error('worker down');
      },
      { group: 'workers', startAt: 'earliest', retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } },
    );
    try {
      expect(await inspector.streamLength('nothing.here')).toBe(0);
      expect(await inspector.groups('nothing.here')).toEqual([]);
      for (let i = 0; i < 3; i++) await bus.publish('job.created', { n: i });
      await three;
      expect(await inspector.streamLength('job.created')).toBe(3);
      // Every delivery was read; the dead letters land once the handler gave up.
      let letters = await bus.listDeadLetters('workers');
      while (letters.length < 3) letters = await bus.listDeadLetters('workers');
      const [group] = await inspector.groups('job.created');
      expect(group).toMatchObject({ name: 'workers', lag: 0 });
      expect(typeof group?.pending).toBe('number');

      expect(await inspector.deleteDeadLetters('workers', [letters[0]?.deadLetterId as string])).toBe(1);
      expect((await bus.listDeadLetters('workers')).map((l) => l.deadLetterId)).toEqual(
        letters.slice(1).map((l) => l.deadLetterId),
      );
      expect(await inspector.deleteDeadLetters('workers')).toBe(2);
      expect(await bus.listDeadLetters('workers')).toEqual([]);
      await expect(inspector.deleteDeadLetters('workers', ['not-an-id'])).rejects.toSatisfy((e) =>
        isConsoleError(e, 'INVALID_INPUT'),
      );
    } finally {
      await subscription.close();
      await bus.close();
    }
  });
});
