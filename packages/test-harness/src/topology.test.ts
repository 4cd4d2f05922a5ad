import { describe, expect, it } from 'vitest';
import { hashSlot, startRedisCluster } from './redis-cluster.js';
import { withNode } from './redis-processes.js';
import { startRedisSentinel } from './redis-sentinel.js';

describe('hashSlot', () => {
  it('matches Redis (CLUSTER KEYSLOT) and honours hash tags', () => {
    // Known values from the Redis Cluster specification and CLUSTER KEYSLOT.
    expect(hashSlot('123456789')).toBe(12739);
    expect(hashSlot('foo')).toBe(12182);
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('{user1000}.followers'));
  });
});

describe('startRedisCluster: a real 3-master, 3-replica cluster', () => {
  it('serves keys on every shard, and a failover promotes a replica the client follows', async () => {
    const cluster = await startRedisCluster();
    const client = cluster.client();
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    await Promise.all(keys.map((k) => client.set(k, k.toUpperCase())));
    const masters = new Set(await Promise.all(keys.map((k) => cluster.masterOf(k))));
    expect(masters.size).toBe(3);
    expect(await client.get('{x}1')).toBeNull();
    await expect(
      client.eval("return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[2])", 2, 'a', 'b'),
    ).rejects.toThrow(/CROSSSLOT/);
    const probes = ['foo', '{user1000}.following', 'foo{}{bar}', 'foo{{bar}}zap', 'otp:{c:1}:att', 'ünïcode'];
    const node = cluster.client();
    for (const key of probes) expect(hashSlot(key)).toBe(await node.cluster('KEYSLOT', key));
    // Replication is asynchronous: write 'a' on its master and WAIT until the replica has it, so the
    // promoted replica must answer it.
    const before = await cluster.masterOf('a');
    const acked = await withNode(before, async (c) => {
      await c.set('a', 'A');
      return c.wait(1, 30_000);
    });
    expect(acked).toBe(1);
    const { from, to } = await cluster.failover('a');
    expect(to).not.toBe(from);
    expect(await cluster.masterOf('a')).toBe(to);
    await expect(client.get('a')).resolves.toBe('A');
    await client.set('a', 'A2');
    await expect(client.get('a')).resolves.toBe('A2');
  }, 120_000);
});

describe('startRedisSentinel: a master, a replica and three Sentinels', () => {
  it('promotes the replica on failover and a sentinel-mode client follows', async () => {
    const setup = await startRedisSentinel();
    const client = setup.client();
    await client.set('k', 'v1');
    expect(await client.wait(1, 30_000)).toBe(1);
    const { from, to } = await setup.failover();
    expect(to).not.toBe(from);
    await expect(client.get('k')).resolves.toBe('v1');
    await client.set('k', 'v2');
    await expect(client.get('k')).resolves.toBe('v2');
  }, 120_000);
});
