import { startRedisServer } from '@app/test-harness';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../../bus.js';
import { EventsErrorCode, isEventsError } from '../../errors.js';
import { eventually } from '../../testing.js';
import { type RedisEventTransportOptions, redisEventTransport } from './index.js';

type Events = { tick: { n: number } };

/** A private redis-server, a client that reconnects quickly, and a bus over it. */
async function setup(options: Partial<RedisEventTransportOptions> = {}) {
  const server = await startRedisServer();
  const client = new Redis(server.url, { retryStrategy: (times) => Math.min(times * 50, 500) });
  client.on('error', () => {});
  await eventually(() => expect(client.status).toBe('ready'), 20_000);
  const bus = createEventBus<Events>({
    transport: redisEventTransport({ client, keyPrefix: 'outage:', ...options }),
  });
  const down = async () => {
    await server.stop();
    await eventually(() => expect(client.status).not.toBe('ready'), 20_000);
  };
  const up = async () => {
    await server.start();
    await eventually(() => expect(client.status).toBe('ready'), 20_000);
  };
  const done = async () => {
    await bus.close();
    client.disconnect();
    await server.stop(); // started inside a test: the harness' end-of-file hook does not see it
  };
  return { server, client, bus, down, up, done };
}

// The bound asserted is the option plus a wide margin for a loaded machine: what is checked is that a publish
// does not wait for a reconnect (ioredis alone kept such calls ~10 s in its offline queue), not how fast it is.
const MARGIN_MS = 4000;

describe('redisEventTransport during a Redis outage (a private redis-server, stopped and restarted)', () => {
  it('fails a publish fast with a retryable UNAVAILABLE error while Redis is down, and publishes again after', async () => {
    const { bus, down, up, done } = await setup();
    try {
      await bus.publish('tick', { n: 0 });
      await down();
      const started = Date.now();
      const settled = await Promise.allSettled(
        Array.from({ length: 20 }, (_, n) => bus.publish('tick', { n: n + 1 })),
      );
      expect(Date.now() - started).toBeLessThan(1000 + MARGIN_MS);
      for (const result of settled) {
        expect(result.status).toBe('rejected');
        const error = (result as PromiseRejectedResult).reason;
        expect(isEventsError(error, EventsErrorCode.UNAVAILABLE)).toBe(true);
        expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      }
      await up();
      const after = await bus.publish('tick', { n: 100 });
      expect(after.position).not.toBe('');
      expect((await bus.history('tick')).map((e) => e.data.n)).toEqual([100]);
    } finally {
      await done();
    }
  });

  it('bounds a publish Redis does not answer (CLIENT PAUSE) by publishTimeoutMs; the late write is at-least-once', async () => {
    const { server, bus, done } = await setup({ publishTimeoutMs: 300 });
    const admin = new Redis(server.url);
    try {
      await bus.publish('tick', { n: 0 });
      await admin.call('CLIENT', 'PAUSE', 3000, 'WRITE');
      const started = Date.now();
      const error = await bus.publish('tick', { n: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(Date.now() - started).toBeLessThan(300 + MARGIN_MS);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      // The command was sent: Redis runs it once the pause ends, so the event may still be stored.
      await eventually(async () => expect((await bus.history('tick')).map((e) => e.data.n)).toEqual([0, 1]));
    } finally {
      await admin.call('CLIENT', 'UNPAUSE').catch(() => {});
      admin.disconnect();
      await done();
    }
  });

  it('with a buffer, accepts publishes during the outage and writes them in order after the reconnect', async () => {
    const { bus, down, up, done } = await setup({ buffer: { maxEvents: 100 } });
    try {
      await bus.publish('tick', { n: 0 });
      await down();
      const buffered = await Promise.all(
        Array.from({ length: 50 }, (_, n) => bus.publish('tick', { n: n + 1 })),
      );
      for (const p of buffered) expect(p).toMatchObject({ buffered: true, position: '' });
      await up();
      // The restarted server lost event 0 (no persistence); the buffered ones arrive, in publication order.
      await eventually(async () =>
        expect((await bus.history('tick')).map((e) => e.data.n)).toEqual(
          Array.from({ length: 50 }, (_, n) => n + 1),
        ),
      );
      const log = await bus.history('tick');
      expect(log.map((e) => e.id)).toEqual(buffered.map((p) => p.id));
      const live = await bus.publish('tick', { n: 51 });
      expect(live.buffered).toBeUndefined();
    } finally {
      await done();
    }
  });

  it.each([
    ['reject', Array.from({ length: 10 }, (_, n) => n), 5],
    ['drop-oldest', Array.from({ length: 10 }, (_, n) => n + 5), 0],
  ] as const)(
    "bounds the buffer at maxEvents with onOverflow '%s'",
    async (onOverflow, expected, rejected) => {
      const { bus, down, up, done } = await setup({ buffer: { maxEvents: 10, onOverflow } });
      try {
        await down();
        const settled = await Promise.allSettled(
          Array.from({ length: 15 }, (_, n) => bus.publish('tick', { n })),
        );
        const failed = settled.filter((r) => r.status === 'rejected');
        expect(failed).toHaveLength(rejected);
        for (const r of failed) expect(r.reason).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
        await up();
        await eventually(async () =>
          expect((await bus.history('tick')).map((e) => e.data.n)).toEqual([...expected]),
        );
      } finally {
        await done();
      }
    },
  );

  it('a publish made while the client is still connecting waits for it; with no server it fails within the bound', async () => {
    const server = await startRedisServer();
    const fresh = new Redis(server.url);
    const bus = createEventBus<Events>({
      transport: redisEventTransport({ client: fresh, keyPrefix: 'boot:' }),
    });
    try {
      expect(fresh.status).not.toBe('ready');
      const first = await bus.publish('tick', { n: 1 });
      expect((await bus.history('tick')).map((e) => e.id)).toEqual([first.id]);
    } finally {
      await bus.close();
      fresh.disconnect();
    }

    await server.stop();
    const orphan = new Redis(server.url, { retryStrategy: () => 50 });
    orphan.on('error', () => {});
    const lonely = createEventBus<Events>({
      transport: redisEventTransport({ client: orphan, keyPrefix: 'boot:', publishTimeoutMs: 500 }),
    });
    try {
      const started = Date.now();
      await expect(lonely.publish('tick', { n: 2 })).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        retryable: true,
      });
      expect(Date.now() - started).toBeLessThan(500 + MARGIN_MS);
    } finally {
      await lonely.close();
      orphan.disconnect();
    }
  });
});
