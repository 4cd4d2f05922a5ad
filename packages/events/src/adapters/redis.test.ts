import { requireRedis } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { EventsErrorCode } from '../errors.js';
import { eventTransportContract, eventually } from '../testing.js';
import { readStreams } from './fixtures/redis-streams.js';
import { type RedisStreamsClient, redisEventTransport } from './redis/index.js';

const redis = await requireRedis();

describe.skipIf(!redis.available)('redisEventTransport on real Redis', () => {
  eventTransportContract({
    describe,
    it,
    expect,
    name: 'redis',
    create: () =>
      redisEventTransport({
        client: redis.client(),
        keyPrefix: redis.prefix,
        claimIdleMs: 1000, // heartbeats every third of this: room for a stalled process on a loaded CI machine
        claimIntervalMs: 100,
      }),
    inspect: () => readStreams([redis.client()], redis.prefix),
  });

  it('publishes with one XADD per event, trimmed with MAXLEN ~, and registers the name once', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}trim:`;
    const bus = createEventBus<{ 'user.registered': { n: number } }>({
      transport: redisEventTransport({ client, keyPrefix: prefix, maxLen: 100 }),
    });
    const sent: string[][] = [];
    const spy = redis.client();
    const monitor = await spy.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[1]?.startsWith(prefix)) sent.push(args);
    });
    for (let n = 0; n < 1000; n++) await bus.publish('user.registered', { n });
    const streamKey = `${prefix}e:{user.registered}`;
    // Wait for every XADD on the stream itself: the first publish also appends to the names log, so
    // counting every XADD under the prefix could stop one short while the last is still in flight.
    await eventually(() =>
      expect(sent.filter((a) => a[0]?.toLowerCase() === 'xadd' && a[1] === streamKey).length).toBe(1000),
    );
    monitor.disconnect();
    // The name's first publish registers it (SADD + names log, inside one EVAL); later ones are a bare XADD.
    const registrations = sent.filter((a) => a[0]?.toLowerCase() === 'sadd');
    expect(registrations).toHaveLength(1);
    const xadds = sent.filter(
      (a) => a[0]?.toLowerCase() === 'xadd' && a[1] === `${prefix}e:{user.registered}`,
    );
    expect(xadds).toHaveLength(1000);
    expect(xadds[0]!.slice(2, 5)).toEqual(['MAXLEN', '~', '100']);

    const length = await client.xlen(`${prefix}e:{user.registered}`);
    expect(length).toBeLessThan(1000);
    expect(length).toBeGreaterThanOrEqual(100);
    const [[, fields]] = (await client.xrevrange(`${prefix}e:{user.registered}`, '+', '-', 'COUNT', 1)) as [
      [string, string[]],
    ];
    expect(fields).toEqual([
      'i',
      expect.any(String),
      'n',
      'user.registered',
      'd',
      '{"n":999}',
      't',
      expect.any(String),
      's',
      'app',
    ]);
    expect(await client.smembers(`${prefix}{names}`)).toEqual(['user.registered']);
    await bus.close();
  });

  it('trims by age with MINID ~ when maxAgeMs is set', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}minid:`;
    const key = `${prefix}e:{old}`;
    // Entries from ten minutes ago, then one publish with a one-minute window.
    const past = Date.now() - 600_000;
    for (let i = 0; i < 300; i++)
      await client.xadd(key, `${past}-${i}`, 'i', `x${i}`, 'n', 'old', 'd', '1', 't', '0');
    const bus = createEventBus({
      transport: redisEventTransport({ client, keyPrefix: prefix, maxAgeMs: 60_000 }),
    });
    await bus.publish('old', { fresh: true });
    expect(await client.xlen(key)).toBeLessThan(301);
    await bus.close();
  });

  it('stores dead letters in a stream with the error, and acknowledges the entry', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}dlq:`;
    const bus = createEventBus<{ job: { n: number } }>({
      transport: redisEventTransport({ client, keyPrefix: prefix }),
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    const sub = await bus.subscribe(
      'job',
      () => {
        throw new TypeError('bad job');
      },
      { group: 'worker' },
    );
    const { position } = await bus.publish('job', { n: 1 });
    await eventually(async () => expect(await client.xlen(`${prefix}dlq:{job}:worker`)).toBe(1));
    const [[, fields]] = (await client.xrange(`${prefix}dlq:{job}:worker`, '-', '+')) as [[string, string[]]];
    const stored = new Map<string, string>();
    for (let i = 0; i < fields.length; i += 2) stored.set(fields[i]!, fields[i + 1]!);
    expect(stored.get('p')).toBe(position);
    expect(stored.get('a')).toBe('2');
    expect(JSON.parse(stored.get('e')!)).toMatchObject({ name: 'TypeError', message: 'bad job' });
    // Acknowledged: nothing pending for the group.
    await eventually(async () => {
      const pending = (await client.xpending(`${prefix}e:{job}`, 'worker')) as [number];
      expect(pending[0]).toBe(0);
    });
    await sub.close();
    await bus.close();
  });

  it('replays a dead letter once, even when replayDeadLetters runs concurrently', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}dlqreplay:`;
    const bus = createEventBus<{ job: { n: number } }>({
      transport: redisEventTransport({ client, keyPrefix: prefix }),
      retry: { maxAttempts: 1 },
    });
    const sub = await bus.subscribe(
      'job',
      () => {
        throw new Error('bad job');
      },
      { group: 'worker' },
    );
    await bus.publish('job', { n: 1 });
    await eventually(async () => expect(await client.xlen(`${prefix}dlq:{job}:worker`)).toBe(1));
    await sub.close(); // nobody consumes the retry stream: what the replays wrote stays there to count
    const counts = await Promise.all(Array.from({ length: 10 }, () => bus.replayDeadLetters('worker')));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await client.xlen(`${prefix}retry:{job}:worker`)).toBe(1);
    expect(await client.xlen(`${prefix}dlq:{job}:worker`)).toBe(0);
    await bus.close();
  });

  it('a pattern subscription follows a name first published while it was starting', async () => {
    const prefix = `${redis.prefix}discover:`;
    const publisher = createEventBus({
      transport: redisEventTransport({ client: redis.client(), keyPrefix: prefix }),
    });
    const client = redis.client();
    const call = client.call.bind(client) as (...args: unknown[]) => Promise<unknown>;
    let injected = false;
    // Right after the subscription listed the known names, another process publishes a new one.
    client.call = (async (...args: unknown[]) => {
      const reply = await call(...args);
      if (!injected && String(args[0]).toUpperCase() === 'SSCAN') {
        injected = true;
        await publisher.publish('user.created', { n: 0 });
      }
      return reply;
    }) as typeof client.call;
    const bus = createEventBus({ transport: redisEventTransport({ client, keyPrefix: prefix }) });
    const seen: unknown[] = [];
    await bus.subscribePattern('user.*', (e) => void seen.push(e.data));
    expect(injected).toBe(true);
    await publisher.publish('user.created', { n: 1 });
    await eventually(() => expect(seen).toContainEqual({ n: 1 }));
    await bus.close();
    await publisher.close();
  });

  it('uses one blocking connection for all subscriptions of a transport', async () => {
    const client = redis.client();
    const prefix = `${redis.prefix}conn:`;
    let duplicates = 0;
    const duplicate = client.duplicate.bind(client);
    client.duplicate = (...args) => {
      duplicates++;
      return duplicate(...args);
    };
    const bus = createEventBus({ transport: redisEventTransport({ client, keyPrefix: prefix }) });
    const seen: string[] = [];
    for (let i = 0; i < 10; i++) await bus.subscribe(`e${i}`, (e) => void seen.push(e.name));
    for (let i = 0; i < 5; i++)
      await bus.subscribe(`e${i}`, (e) => void seen.push(e.name), { group: `g${i}` });
    await bus.subscribePattern('e*', (e) => void seen.push(e.name));
    await bus.publish('e3', {});
    await eventually(() => expect(seen).toHaveLength(3));
    expect(duplicates).toBe(1);
    await bus.close();
  });

  it('rejects a bad position before any I/O', async () => {
    const bus = createEventBus({
      transport: redisEventTransport({ client: redis.client(), keyPrefix: redis.prefix }),
    });
    await expect(bus.history('x', { after: 'nope' })).rejects.toMatchObject({
      code: EventsErrorCode.INVALID_ARGUMENT,
    });
    await bus.close();
  });
});

describe('redisEventTransport options', () => {
  it('throws INVALID_OPTIONS without a client or with a bad number, before any I/O', () => {
    const client = {
      call: () => Promise.reject(new Error('no I/O expected')),
      duplicate: () => {
        throw new Error('no I/O expected');
      },
    } as unknown as RedisStreamsClient;
    // @ts-expect-error client is required
    expect(() => redisEventTransport({})).toThrow(
      expect.objectContaining({ code: EventsErrorCode.INVALID_OPTIONS }),
    );
    for (const bad of [{ maxLen: 0 }, { claimIdleMs: 1.5 }, { maxAgeMs: -1 }]) {
      expect(() => redisEventTransport({ client, ...bad })).toThrow(
        expect.objectContaining({ code: EventsErrorCode.INVALID_OPTIONS }),
      );
    }
  });
});
