import { requireRedis, startRedisServer } from '@app/test-harness';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { memoryConfigStore } from './adapters/memory.js';
import { redisCacheKey, redisChangeChannel, redisConfigSync } from './adapters/redis/index.js';
import { createConfigService } from './service.js';

// The shared Redis only gates the suite (CI must have redis-server); the test runs its own server.
const redis = await requireRedis();

function spyLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

describe.skipIf(!redis.available)('faults: a private redis-server stopped and started mid-test', () => {
  it('reads fall back to the cache and store, writes succeed with a warning, and everything resumes', async () => {
    const server = await startRedisServer();
    const clients: Redis[] = [];
    const connect = () => {
      const c = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
      c.on('error', () => {});
      clients.push(c);
      return c;
    };
    const store = memoryConfigStore(); // the durable source of truth both instances share
    const keyPrefix = 'faults:';
    const logA = spyLogger();
    const logB = spyLogger();
    const a = createConfigService({
      store,
      logger: logA,
      sync: redisConfigSync({ client: connect(), keyPrefix, commandTimeoutMs: 500, logger: logA }),
    });
    const b = createConfigService({
      store,
      logger: logB,
      sync: redisConfigSync({ client: connect(), keyPrefix, commandTimeoutMs: 500, logger: logB }),
    });
    const admin = connect();
    try {
      await a.set('k', 'v1');
      expect(await b.get('k')).toBe('v1');
      expect(await b.get('unwatched')).toBeUndefined();
      const seen = vi.fn();
      b.watch('k', seen);

      await server.stop();
      await vi.waitFor(() => expect(clients.every((c) => c.status !== 'ready')).toBe(true));

      // Reads: the in-process cache first, then the store.
      expect(await b.get('k')).toBe('v1');
      await store.set('cold', 'from the store');
      expect(await b.get('cold')).toBe('from the store');
      expect(logB.warn).toHaveBeenCalledWith(expect.anything(), expect.stringMatching(/unreachable/));

      // Writes: saved in the store, resolved, and a warning says the sharing is deferred.
      expect(await a.set('k', 'v2')).toBe(2);
      expect(await store.get('k')).toMatchObject({ value: 'v2', version: 2 });
      expect(logA.warn).toHaveBeenCalledWith(
        expect.objectContaining({ key: 'k', version: 2 }),
        expect.stringMatching(/shared layer unreachable/),
      );
      expect(await a.get('k')).toBe('v2');
      expect(seen).not.toHaveBeenCalled(); // B could not have heard of it yet

      await server.start();

      // B's subscriber reconnects: its cache is flushed and its watcher learns about the missed change.
      await vi.waitFor(() => expect(seen).toHaveBeenCalledWith('v2', 'k'), { timeout: 15_000 });
      expect(seen).toHaveBeenCalledTimes(1);
      expect(b.peek('unwatched')).toBeUndefined();
      expect(await b.get('k')).toBe('v2');
      // A's deferred change reached the fresh Redis too.
      await vi.waitFor(
        async () => expect(await admin.hgetall(redisCacheKey(keyPrefix, 'k'))).toMatchObject({ v: '2' }),
        {
          timeout: 15_000,
        },
      );

      // Notifications and caching work again without any intervention.
      await a.set('k', 'v3');
      await vi.waitFor(() => expect(b.peek('k')).toBe('v3'), { timeout: 15_000 });
      expect(seen).toHaveBeenLastCalledWith('v3', 'k');
      expect(await admin.hgetall(redisCacheKey(keyPrefix, 'k'))).toMatchObject({ v: '3', d: '"v3"' });
    } finally {
      await a.close();
      await b.close();
      for (const c of clients) c.disconnect();
      await server.stop();
    }
  }, 60_000);

  it('a service created while Redis is down works from the store and joins when Redis comes up', async () => {
    const server = await startRedisServer();
    await server.stop();
    const client = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    client.on('error', () => {});
    const other = new Redis(server.url, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    other.on('error', () => {});
    const store = memoryConfigStore();
    const a = createConfigService({
      store,
      sync: redisConfigSync({ client, keyPrefix: 'late:', commandTimeoutMs: 500 }),
    });
    try {
      expect(await a.set('k', 1)).toBe(1);
      expect(await a.get('k')).toBe(1);
      await server.start();
      const b = createConfigService({ store, sync: redisConfigSync({ client: other, keyPrefix: 'late:' }) });
      await vi.waitFor(() => expect(client.status).toBe('ready'), { timeout: 15_000 });
      expect(await b.get('k')).toBe(1);
      const seen = vi.fn();
      a.watch('k', seen);
      // Give both subscribers time to be listening before the change that must reach them.
      await vi.waitFor(
        async () => expect((await other.pubsub('NUMSUB', redisChangeChannel('late:', 'k')))[1]).toBe(2),
        {
          timeout: 15_000,
        },
      );
      await b.set('k', 2);
      await vi.waitFor(() => expect(seen).toHaveBeenCalledWith(2, 'k'), { timeout: 15_000 });
      await b.close();
    } finally {
      await a.close();
      client.disconnect();
      other.disconnect();
      await server.stop();
    }
  }, 60_000);
});
