// The Redis adapters on a real Redis Cluster (6 redis-server nodes: 3 masters, 3 replicas) with no setting:
// the store contract, keys spread over the masters, changes through sharded pub/sub, and a failover.
import { hashSlot, requireRedis, startRedisCluster, whenReady } from '@app/test-harness';
import { type Cluster, Redis } from 'ioredis';
import { describe, expect, it, vi } from 'vitest';
import { createConfigService } from '../../service.js';
import { configStoreContract } from '../../testing.js';
import { memoryConfigStore } from '../memory.js';
import {
  type RedisClientLike,
  redisCacheKey,
  redisChangeChannel,
  redisChangeChannels,
  redisConfigStore,
  redisConfigSync,
  redisEntryKey,
} from './index.js';
import { SHARD_TAGS, SHARDS } from './layout.js';
import { rawReader } from './raw.fixture.js';

// The shared Redis only gates the suite (CI must have redis-server); the tests run their own cluster.
const redis = await requireRedis();
const cluster = redis.available ? await startRedisCluster() : undefined;

/** A new Cluster client, ready. */
const clusterClient = (): Promise<Cluster> => whenReady((cluster as NonNullable<typeof cluster>).client());

/** Waits until `count` subscribers listen on every change channel of `keyPrefix`, each on its master. */
async function listening(keyPrefix: string, count: number): Promise<void> {
  await vi.waitFor(
    async () => {
      for (const channel of redisChangeChannels(keyPrefix))
        expect(await shardSubscribers(channel)).toBe(count);
    },
    { timeout: 30_000 },
  );
}

/** Subscribers of a sharded channel, asked of the master that owns its slot. */
async function shardSubscribers(channel: string): Promise<number> {
  const port = await (cluster as NonNullable<typeof cluster>).masterOf(channel);
  const node = new Redis(port, '127.0.0.1', { lazyConnect: true });
  try {
    const reply = (await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
    return Number(reply[1]);
  } finally {
    node.disconnect();
  }
}

const contractClient = cluster ? await clusterClient() : undefined;

describe.skipIf(!cluster)('Redis Cluster (3 masters, 3 replicas), no setting', () => {
  it('the 16 shard tags fall in 16 distinct ranges of 1,024 slots, so they spread over the masters', () => {
    expect(SHARD_TAGS).toHaveLength(SHARDS);
    const ranges = SHARD_TAGS.map((tag) => Math.floor(hashSlot(tag) / 1024));
    expect(ranges).toEqual(Array.from({ length: SHARDS }, (_, i) => i));
  });

  describe('store contract on the cluster', () => {
    const client = contractClient as Cluster;
    const prefix = 'contract:';
    configStoreContract({
      describe,
      it,
      expect,
      name: 'redis (real Redis Cluster)',
      create: () => redisConfigStore({ client: client as unknown as RedisClientLike, keyPrefix: prefix }),
      inspect: rawReader(
        async (pattern) =>
          (await Promise.all(client.nodes('master').map((node) => node.keys(pattern)))).flat(),
        (key) => client.hgetall(key),
        prefix,
      ),
      concurrency: 200,
      timeoutMs: 60_000,
    });
  });

  it("keys spread over every master; each key's hash, index, cache entry and channel share one slot", async () => {
    const client = await clusterClient();
    const keyPrefix = 'spread:';
    const config = createConfigService({
      store: redisConfigStore({ client: client as unknown as RedisClientLike, keyPrefix }),
      sync: redisConfigSync({ client: client as unknown as RedisClientLike, keyPrefix }),
    });
    const keys = Array.from({ length: 64 }, (_, i) => `feature.${i}`);
    for (const key of keys) await config.set(key, key);
    const masters = new Set<number>();
    for (const key of keys) {
      masters.add(await (cluster as NonNullable<typeof cluster>).masterOf(redisEntryKey(keyPrefix, key)));
      const slot = hashSlot(redisEntryKey(keyPrefix, key));
      expect(hashSlot(redisCacheKey(keyPrefix, key))).toBe(slot);
      expect(hashSlot(redisChangeChannel(keyPrefix, key))).toBe(slot);
    }
    expect(masters.size).toBe(3);
    const listed = await config.list('feature.');
    expect([...listed.keys()].sort()).toEqual([...keys].sort());
    await config.close();
  });

  it('store and sync prefixes that could put a key in two slots never share a script (no CROSSSLOT)', async () => {
    const client = (await clusterClient()) as unknown as RedisClientLike;
    // Different prefixes without hash tags: a key's store and cache entries still share the shard tag.
    const apart = redisConfigStore({ client, keyPrefix: 'store-a:' });
    const sync = redisConfigSync({ client, keyPrefix: 'sync-a:' });
    expect(apart.writeThrough?.(sync)).toBeDefined();
    const a = createConfigService({ store: apart, sync });
    for (const key of ['k1', 'k2', 'k3', 'k4']) expect(await a.set(key, key)).toBe(1);
    await a.close();
    // A prefix with its own tag moves every key to one slot: the store falls back to two steps.
    const tagged = redisConfigStore({ client, keyPrefix: '{app}:store:' });
    expect(tagged.writeThrough?.(redisConfigSync({ client, keyPrefix: 'sync-b:' }))).toBeUndefined();
    const b = createConfigService({ store: tagged, sync: redisConfigSync({ client, keyPrefix: 'sync-b:' }) });
    for (const key of ['k1', 'k2', 'k3', 'k4']) expect(await b.set(key, key)).toBe(1);
    expect(await b.get('k3')).toBe('k3');
    await b.close();
  });

  it('a change on one instance reaches another through sharded pub/sub (write-through and two-step writes)', async () => {
    for (const shared of [false, true]) {
      const keyPrefix = shared ? 'x-store:' : 'x-through:';
      const durable = memoryConfigStore();
      const instance = async () => {
        const client = (await clusterClient()) as unknown as RedisClientLike;
        return createConfigService({
          // Write-through (one script: store, cache, SPUBLISH) or a durable store and the sync's own script.
          store: shared ? durable : redisConfigStore({ client, keyPrefix }),
          sync: redisConfigSync({ client, keyPrefix }),
          cache: { ttlMs: 600_000 }, // only a notification can explain a fresh value
        });
      };
      const a = await instance();
      const b = await instance();
      // Both services listen on every shard channel, each on the master that owns its slot.
      await listening(keyPrefix, 2);
      const keys = ['a', 'b', 'c', 'feature.x', 'feature.y', 'email.provider'];
      for (const key of keys) await a.set(key, 'v1');
      for (const key of keys) expect(await b.get(key)).toBe('v1');
      const seen = vi.fn();
      b.watch('*', seen);
      for (const key of keys) await a.set(key, 'v2');
      await vi.waitFor(() => {
        for (const key of keys) expect(b.peek(key)).toBe('v2');
      });
      expect(seen).toHaveBeenCalledTimes(keys.length);
      await a.delete('a');
      await vi.waitFor(() => expect(seen).toHaveBeenCalledWith(undefined, 'a'));
      await a.close();
      await b.close();
    }
  });

  it('after a failover, notifications resume by themselves and the stale cache is flushed', async () => {
    const keyPrefix = 'failover:';
    const durable = memoryConfigStore();
    const instance = async () => {
      const client = (await clusterClient()) as unknown as RedisClientLike;
      return createConfigService({
        store: durable,
        sync: redisConfigSync({ client, keyPrefix }),
        cache: { ttlMs: 600_000 },
      });
    };
    const a = await instance();
    const b = await instance();
    const probe = await clusterClient();
    await listening(keyPrefix, 2);
    const key = 'feature.killed';
    await a.set(key, 'before');
    await a.set('other', 'cached');
    expect(await b.get(key)).toBe('before');
    expect(await b.get('other')).toBe('cached');
    // Let the replica catch up before its master dies (replication is asynchronous).
    const port = await (cluster as NonNullable<typeof cluster>).masterOf(redisCacheKey(keyPrefix, key));
    const master = probe.nodes('master').find((n) => n.options.port === port);
    await master?.call('WAIT', '1', '5000');

    await (cluster as NonNullable<typeof cluster>).failover(redisChangeChannel(keyPrefix, key));
    // B's subscriber of that shard comes back on the promoted replica and B flushes its cache: changes may
    // have been missed while it was away.
    await vi.waitFor(() => expect(b.peek('other')).toBeUndefined(), { timeout: 30_000 });
    // Notifications flow again, on the key whose master died.
    await vi.waitFor(async () => expect(await shardSubscribers(redisChangeChannel(keyPrefix, key))).toBe(2), {
      timeout: 30_000,
    });
    expect(await b.get(key)).toBe('before');
    await vi.waitFor(() => a.set(key, 'after'), { timeout: 30_000 });
    await vi.waitFor(() => expect(b.peek(key)).toBe('after'), { timeout: 30_000 });
    await a.close();
    await b.close();
  });
});
