// @app/flags over @app/config on a real Redis Cluster (3 masters, 3 replicas): each instance has its own
// Cluster client; flags live in the Redis store (keys spread over the masters by hash tag) and changes
// travel through sharded pub/sub.
import { once } from 'node:events';
import { type ConfigService, createConfigService } from '@app/config';
import { type RedisClientLike, redisConfigStore, redisConfigSync } from '@app/config/redis';
import { requireRedis, startRedisCluster } from '@app/test-harness';
import { afterEach, describe, expect, it } from 'vitest';
import { createFlags, type Flags } from './flags.js';
import { deleteFlag, setFlag } from './writer.js';

// The shared Redis only gates the suite (CI must have redis-server); the test runs its own cluster.
const redis = await requireRedis();
const cluster = redis.available ? await startRedisCluster() : undefined;

describe.skipIf(!cluster)('@app/flags over @app/config on Redis Cluster', () => {
  const open: (ConfigService | Flags)[] = [];
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });

  async function instance(keyPrefix: string): Promise<ConfigService> {
    const c = (cluster as NonNullable<typeof cluster>).client();
    if (c.status !== 'ready') await once(c, 'ready');
    const client = c as unknown as RedisClientLike;
    const config = createConfigService({
      store: redisConfigStore({ client, keyPrefix }),
      sync: redisConfigSync({ client, keyPrefix }),
    });
    open.push(config);
    return config;
  }

  it('a flag changed on one instance reaches another, and so do new and deleted flags', async () => {
    const a = await instance('flags-cluster:');
    const b = await instance('flags-cluster:');
    await setFlag(a, 'checkout', { enabled: false });
    const flagsA = createFlags({ source: a });
    const flagsB = createFlags({ source: b });
    open.push(flagsA, flagsB);
    await Promise.all([flagsA.ready(), flagsB.ready()]);
    expect(flagsB.evaluate('checkout', { userId: 'u-1' }).reason).toBe('DISABLED');

    await setFlag(a, 'checkout', { enabled: true, rollout: 100 });
    await expect.poll(() => flagsB.isEnabled('checkout', { userId: 'u-1' }), { timeout: 30_000 }).toBe(true);

    // New flags land in other shards (other masters): B hears of them through the prefix watch.
    const names = ['checkout', ...Array.from({ length: 8 }, (_, i) => `new-${i}`)];
    for (const name of names.slice(1)) await setFlag(b, name, { enabled: true });
    await expect.poll(() => flagsA.names(), { timeout: 30_000 }).toEqual(names);

    await deleteFlag(b, 'checkout');
    await expect
      .poll(() => flagsA.evaluate('checkout').errorCode, { timeout: 30_000 })
      .toBe('FLAG_NOT_FOUND');
  });
});
