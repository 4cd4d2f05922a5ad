// The Redis adapters behind Redis Sentinel (a master, a replica, three Sentinels; real processes) with an
// ioredis client in sentinel mode: after the master is killed and the replica promoted, every instance
// follows by itself, flushes what it may have missed, and hears changes again.
import { requireRedis, startRedisSentinel, whenReady } from '@app/test-harness';
import type { Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { createConfigService } from '../../service.js';
import { type RedisClientLike, redisChangeChannel, redisConfigStore, redisConfigSync } from './index.js';

// The shared Redis only gates the suite (CI must have redis-server); the test runs its own processes.
const redis = await requireRedis();
const setup = redis.available ? await startRedisSentinel() : undefined;

const sentinelClient = (): Promise<Redis> => whenReady((setup as NonNullable<typeof setup>).client());

describe.skipIf(!setup)('Redis Sentinel, ioredis in sentinel mode', () => {
  it('after a failover, notifications resume by themselves and the stale cache is flushed', async () => {
    const keyPrefix = 'sentinel:';
    const instance = async () => {
      const client = (await sentinelClient()) as unknown as RedisClientLike;
      return createConfigService({
        store: redisConfigStore({ client, keyPrefix }),
        sync: redisConfigSync({ client, keyPrefix }),
        cache: { ttlMs: 600_000 }, // only a notification (or a flush) can explain a fresh value
      });
    };
    const a = await instance();
    const b = await instance();
    const probe = await sentinelClient();
    await vi.waitFor(async () =>
      expect((await probe.pubsub('NUMSUB', redisChangeChannel(keyPrefix, 'k')))[1]).toBe(2),
    );
    await a.set('k', 'before');
    await a.set('other', 'cached');
    expect(await b.get('k')).toBe('before');
    expect(await b.get('other')).toBe('cached');
    // Replication is asynchronous: let the replica have everything before its master dies.
    await probe.call('WAIT', '1', '5000');

    const { from, to } = await (setup as NonNullable<typeof setup>).failover();
    expect(to).not.toBe(from);
    // B's subscriber reconnects to the promoted master and B flushes its cache.
    await vi.waitFor(() => expect(b.peek('other')).toBeUndefined(), { timeout: 30_000 });
    expect(await b.get('other')).toBe('cached'); // the data survived on the promoted replica
    expect(await b.get('k')).toBe('before'); // cached again, so a notification is what refreshes it
    // A's writes go through again once its client has followed (calls fail fast meanwhile) and reach B.
    await vi.waitFor(() => a.set('k', 'after'), { timeout: 30_000, interval: 200 });
    await vi.waitFor(() => expect(b.peek('k')).toBe('after'), { timeout: 30_000 });
    await a.close();
    await b.close();
  });
});
