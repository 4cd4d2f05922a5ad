// Outage of a whole Redis Cluster: with every node gone, each request-path call against a Cluster client
// fails with UNAVAILABLE within its bound (commandTimeoutMs, 1 s by default) or is served from the
// in-process cache; never queued behind the cluster's reconnect. The bound is asserted with a wide margin
// (5 s for 1 s): a busy machine must not make the test flaky.
import { once } from 'node:events';
import { requireRedis, startRedisCluster } from '@app/test-harness';
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../errors.js';
import { createConfigService } from '../../service.js';
import { type RedisClientLike, redisConfigStore, redisConfigSync } from './index.js';

const redis = await requireRedis();
const cluster = redis.available ? await startRedisCluster() : undefined;
const MARGIN_MS = 5000;

async function timed<T>(work: () => Promise<T>): Promise<{ value?: T; error?: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    return { value: await work(), ms: performance.now() - t0 };
  } catch (error) {
    return { error, ms: performance.now() - t0 };
  }
}

describe.skipIf(!cluster)('Redis Cluster down', () => {
  it('cold get, expired get and set fail within the bound or are served from the cache', async () => {
    const c = cluster as NonNullable<typeof cluster>;
    // The application's own client with ioredis' defaults (offline queue on): it outlives the cluster.
    const client = new Cluster([...c.startupNodes]);
    client.on('error', () => {});
    if (client.status !== 'ready') await once(client, 'ready');
    let clock = Date.now();
    const keyPrefix = 'down:';
    const config = createConfigService({
      store: redisConfigStore({ client: client as unknown as RedisClientLike, keyPrefix }),
      sync: redisConfigSync({ client: client as unknown as RedisClientLike, keyPrefix }),
      cache: { ttlMs: 1000 },
      now: () => clock,
    });
    try {
      await config.set('warm', 'cached');
      expect(await config.get('warm')).toBe('cached');
      await c.close(); // every node killed

      const cold = await timed(() => config.get('cold'));
      expect(isConfigError(cold.error, 'UNAVAILABLE')).toBe(true);
      expect(cold.ms).toBeLessThan(MARGIN_MS);

      clock += 5000; // the cached entry has expired: the stale value is served rather than nothing
      const expired = await timed(() => config.get('warm'));
      expect(expired.value).toBe('cached');
      expect(expired.ms).toBeLessThan(MARGIN_MS);

      const set = await timed(() => config.set('warm', 'new'));
      expect(isConfigError(set.error, 'UNAVAILABLE')).toBe(true);
      expect(set.ms).toBeLessThan(MARGIN_MS);
    } finally {
      await config.close();
      client.disconnect();
    }
  });
});
