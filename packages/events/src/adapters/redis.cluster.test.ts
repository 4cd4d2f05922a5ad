import { hashSlot, requireRedis, startRedisCluster } from '@app/test-harness';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import type { EventBus } from '../bus-types.js';
import { eventTransportContract, eventually } from '../testing.js';
import { readStreams, streamKeys } from './fixtures/redis-streams.js';
import { redisEventTransport } from './redis/index.js';
import { hashTag } from './redis/options.js';

// The cluster is started with real redis-server processes: where Redis is not installed (outside CI) the
// file skips, as the other Redis tests do.
const redis = await requireRedis();
const cluster = redis.available ? await startRedisCluster() : undefined;
afterAll(() => cluster?.close());

/** Subscribes `group` to each name with a handler that always fails, publishes one event to each, and waits for every dead letter. */
async function deadLetterEach(bus: EventBus<Record<string, { n: number }>>, names: string[], group: string) {
  const subs = await Promise.all(
    names.map((name) =>
      bus.subscribe(
        name,
        () => {
          throw new Error('dead');
        },
        { group },
      ),
    ),
  );
  await Promise.all(names.map((name, n) => bus.publish(name, { n })));
  await eventually(async () => expect(await bus.listDeadLetters(group)).toHaveLength(names.length), 30_000);
  return subs;
}

describe.skipIf(!cluster)('redisEventTransport on a real Redis Cluster (3 masters, 3 replicas)', () => {
  let client: Cluster;
  beforeAll(() => {
    client = cluster!.client();
  });

  eventTransportContract({
    describe,
    it,
    expect,
    name: 'redis cluster',
    create: () =>
      redisEventTransport({
        client: cluster!.client(),
        keyPrefix: 'contract:',
        claimIdleMs: 1000,
        claimIntervalMs: 100,
      }),
    inspect: () => readStreams(client.nodes('master'), 'contract:'),
  });

  it('puts each stream with its dead letters and retry stream in one slot, and spreads the streams over every master', async () => {
    const prefix = 'layout:';
    const bus = createEventBus<Record<string, { n: number }>>({
      transport: redisEventTransport({ client, keyPrefix: prefix }),
      retry: { maxAttempts: 1 },
    });
    const names = Array.from({ length: 12 }, (_, i) => `order.${i}`);
    const subs = await deadLetterEach(bus, names, 'g');
    const keys = (await streamKeys(client.nodes('master'), prefix))
      .flat()
      .filter((k) => !k.includes('{names}'));
    // Per name: its stream, its dead letters, its retry stream; all three in the name's slot.
    expect(keys).toHaveLength(names.length * 3);
    for (const key of keys) expect(names).toContain(hashTag(key));
    for (const name of names) {
      const slots = new Set(keys.filter((k) => hashTag(k) === name).map(hashSlot));
      expect(slots.size).toBe(1);
    }
    const masters = new Set(
      await Promise.all(names.map((name) => cluster!.masterOf(`${prefix}e:{${name}}`))),
    );
    expect(masters.size).toBe(3);
    // Replaying crosses no slot either.
    expect(await bus.replayDeadLetters('g')).toBe(names.length);
    await Promise.all(subs.map((s) => s.close()));
    await bus.close();
  });

  it('inspects and deletes dead letters across shards, from a process without subscriptions', async () => {
    const prefix = 'inspect:';
    const bus = createEventBus<Record<string, { n: number }>>({
      transport: redisEventTransport({ client, keyPrefix: prefix }),
      retry: { maxAttempts: 1 },
    });
    const console = createEventBus<Record<string, { n: number }>>({
      transport: redisEventTransport({ client: cluster!.client(), keyPrefix: prefix }),
    });
    const names = Array.from({ length: 9 }, (_, i) => `inspect.${i}`);
    const masters = new Set(
      await Promise.all(names.map((name) => cluster!.masterOf(`${prefix}e:{${name}}`))),
    );
    expect(masters.size).toBe(3);
    const subs = await deadLetterEach(bus, names, 'ops');
    for (const name of names) {
      expect(await console.streamLength!(name)).toBe(1);
      expect(await console.consumerGroups!(name)).toEqual([{ name, group: 'ops', lag: 0, pending: 0 }]);
    }
    const letters = await console.listDeadLetters('ops');
    const two = [letters[0]!, letters.find((d) => d.name !== letters[0]!.name)!];
    expect(
      await console.deleteDeadLetters!(
        'ops',
        two.map((d) => d.deadLetterId),
      ),
    ).toBe(2);
    const left = await console.listDeadLetters('ops');
    expect(left.map((d) => d.deadLetterId).sort()).toEqual(
      letters
        .filter((d) => !two.includes(d))
        .map((d) => d.deadLetterId)
        .sort(),
    );
    expect(await console.deleteDeadLetters!('ops')).toBe(names.length - 2);
    expect(await console.listDeadLetters('ops')).toEqual([]);
    await Promise.all(subs.map((s) => s.close()));
    await console.close();
    await bus.close();
  });

  it('delivers to a pattern subscription the names first published after it started, on other shards', async () => {
    const bus = createEventBus<Record<string, { n: number }>>({
      transport: redisEventTransport({ client: cluster!.client(), keyPrefix: 'discover:' }),
    });
    const seen: string[] = [];
    const live: string[] = [];
    const group = await bus.subscribePattern('late.*', (e) => void seen.push(e.name), { group: 'late' });
    const tail = await bus.subscribePattern('late.*', (e) => void live.push(e.name));
    const names = Array.from({ length: 9 }, (_, i) => `late.${i}`);
    for (const name of names) await bus.publish(name, { n: 0 });
    await eventually(() => {
      expect([...seen].sort()).toEqual(names);
      expect([...live].sort()).toEqual(names);
    }, 30_000);
    await group.close();
    await tail.close();
    await bus.close();
  });
});
