// Outages with a Redis store and Redis sync on one private redis-server (stopped, or paused with CLIENT PAUSE):
// every request-path call returns or fails within its bound (commandTimeoutMs, default 1000 ms). The bound
// is asserted with a wide margin (5 s for 1 s) so a busy machine does not make the test flaky; before the
// bound existed, a cold get took about 10 s and a stale read 30 s or more.
import { requireRedis, startRedisServer } from '@app/test-harness';
import { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import {
  redisCacheKey,
  redisConfigStore,
  redisConfigSync,
  redisEntryKey,
  redisIndexKey,
} from './adapters/redis/index.js';
import { isConfigError } from './errors.js';
import { createConfigService } from './service.js';

// The shared Redis only gates the suite (CI must have redis-server); the tests run their own server.
const redis = await requireRedis();

const MARGIN_MS = 5000;

/** Runs `work` and returns how it settled and how long it took. */
async function timed<T>(work: () => Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    const value = await work();
    return { value, ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

function spyLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
}

async function setup(keyPrefix: string) {
  const server = await startRedisServer();
  // ioredis' defaults (offline queue on, 20 retries per request): what an application has.
  const client = new Redis(server.url);
  client.on('error', () => {});
  let clock = Date.now();
  const logger = spyLogger();
  const config = createConfigService({
    store: redisConfigStore({ client, keyPrefix }),
    sync: redisConfigSync({ client, keyPrefix, logger }),
    cache: { ttlMs: 1000 },
    now: () => clock,
    logger,
  });
  // The subscriber's first listen flushes the cache (changes before it may have been missed); wait for it,
  // or on a loaded machine it lands after the test has warmed its cache and drops the entry to be served stale.
  await vi.waitFor(
    () =>
      expect(logger.info).toHaveBeenCalledWith(expect.anything(), expect.stringMatching(/resynchronising/)),
    { timeout: 30_000 },
  );
  return {
    server,
    client,
    config,
    logger,
    advance: (ms: number) => {
      clock += ms;
    },
    async close() {
      await config.close();
      client.disconnect();
      await server.stop();
    },
  };
}

describe.skipIf(!redis.available)('outage: Redis store + Redis sync, Redis unreachable', () => {
  it('stopped: cold get fails with UNAVAILABLE, an expired entry is served stale, set and delete fail, all within the bound; nothing is queued for later', async () => {
    const t = await setup('down:');
    const admin = () => {
      const c = new Redis(t.server.url);
      c.on('error', () => {});
      return c;
    };
    try {
      await t.config.set('warm', 'v1');
      expect(await t.config.get('warm')).toBe('v1');

      await t.server.stop();
      await vi.waitFor(() => expect(t.client.status).not.toBe('ready'), { timeout: 30_000 });

      const cold = await timed(() => t.config.get('cold'));
      expect(isConfigError(cold.error, 'UNAVAILABLE')).toBe(true);
      expect(cold.ms).toBeLessThan(MARGIN_MS);

      t.advance(5000); // the cached entry of 'warm' is past its ttlMs
      const stale = await timed(() => t.config.get('warm'));
      expect(stale.value).toBe('v1');
      expect(stale.ms).toBeLessThan(MARGIN_MS);
      expect(t.logger.warn).toHaveBeenCalledWith(
        expect.objectContaining({ key: 'warm' }),
        expect.stringMatching(/stale/),
      );

      const set = await timed(() => t.config.set('written', 1));
      expect(isConfigError(set.error, 'UNAVAILABLE')).toBe(true);
      expect(set.ms).toBeLessThan(MARGIN_MS);
      expect(t.config.peek('written')).toBeUndefined();

      const del = await timed(() => t.config.delete('warm'));
      expect(isConfigError(del.error, 'UNAVAILABLE')).toBe(true);
      expect(del.ms).toBeLessThan(MARGIN_MS);

      const list = await timed(() => t.config.list('w'));
      expect(isConfigError(list.error, 'UNAVAILABLE')).toBe(true);
      expect(list.ms).toBeLessThan(MARGIN_MS);

      // Back up (empty: the server keeps nothing on disk). The failed calls were never sent, so none of them
      // runs after the reconnect.
      await t.server.start();
      await vi.waitFor(() => expect(t.client.status).toBe('ready'), { timeout: 30_000 });
      const probe = admin();
      try {
        expect(await probe.exists(redisEntryKey('down:', 'written'), redisCacheKey('down:', 'written'))).toBe(
          0,
        );
        expect(await probe.zrange(redisIndexKey('down:', 'written'), 0, -1)).toEqual([]);
      } finally {
        probe.disconnect();
      }
      expect(await t.config.set('written', 2)).toBe(1);
      expect(await t.config.get('written')).toBe(2);
    } finally {
      await t.close();
    }
  });

  it('hung (CLIENT PAUSE, the connection stays up): reads and writes give up within the bound', async () => {
    const t = await setup('hung:');
    const admin = new Redis(t.server.url);
    admin.on('error', () => {});
    try {
      await t.config.set('warm', 'v1');
      expect(await t.config.get('warm')).toBe('v1');
      await admin.client('PAUSE', 15_000, 'ALL');
      expect(t.client.status).toBe('ready');

      const cold = await timed(() => t.config.get('cold'));
      expect(isConfigError(cold.error, 'UNAVAILABLE')).toBe(true);
      expect(cold.ms).toBeLessThan(MARGIN_MS);

      t.advance(5000);
      const stale = await timed(() => t.config.get('warm'));
      expect(stale.value).toBe('v1');
      expect(stale.ms).toBeLessThan(MARGIN_MS);

      const set = await timed(() => t.config.set('late', 1));
      expect(isConfigError(set.error, 'UNAVAILABLE')).toBe(true);
      expect(set.ms).toBeLessThan(MARGIN_MS);

      // The write was sent before the pause made it wait; it runs when the pause ends. It is one script
      // (store, index and notification together), so it is never half-applied.
      await admin.ping(); // answers once the pause is over
      expect(await admin.hgetall(redisEntryKey('hung:', 'late'))).toMatchObject({ v: '1', t: '0', d: '1' });
      expect(await admin.zrange(redisIndexKey('hung:', 'late'), 0, -1)).toContain('late');
      expect(await admin.exists(redisCacheKey('hung:', 'late'))).toBe(0);
    } finally {
      admin.disconnect();
      await t.close();
    }
  });

  it('a call made while the first connection is being made waits for it within the bound, and is never sent late', async () => {
    const server = await startRedisServer();
    await server.stop();
    const client = new Redis(server.url, { retryStrategy: () => 200 });
    client.on('error', () => {});
    try {
      const store = redisConfigStore({ client, keyPrefix: 'first:' });
      expect(client.status).toBe('connecting');
      const set = await timed(() => store.set('k', 1));
      expect(isConfigError(set.error, 'UNAVAILABLE')).toBe(true);
      expect(set.ms).toBeLessThan(MARGIN_MS);

      await server.start();
      await vi.waitFor(() => expect(client.status).toBe('ready'), { timeout: 30_000 });
      await client.ping(); // anything ioredis had queued would have run before this answer
      expect(await client.exists(redisEntryKey('first:', 'k'))).toBe(0);
      expect((await store.set('k', 2)).version).toBe(1);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});
