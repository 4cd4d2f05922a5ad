import { hashSlot, startRedisCluster } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { redisCacheSuite, twoInstances } from './redis-cache.fixture.js';

const cluster = await startRedisCluster();
let n = 0;
const suite = { name: 'Redis Cluster', client: () => cluster.client(), prefix: () => `perm${n++}:` };

redisCacheSuite(suite);

describe('redisPermissionCache on Redis Cluster: slots and failover', () => {
  it('spreads subjects over the shards: one hash tag per subject, never one for all', async () => {
    const { a, keyPrefix: p } = twoInstances(suite);
    const subjects = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    await a.grant('r', 'doc:read');
    for (const s of subjects) {
      await a.assign(s, 'r');
      expect(await a.check(s, 'read', 'doc')).toBe(true);
    }
    for (const s of subjects) expect(hashSlot(`${p}{s:${s}}:epoch`)).toBe(hashSlot(`${p}{s:${s}}:set`));
    const masters = new Set(await Promise.all(subjects.map((s) => cluster.masterOf(`${p}{s:${s}}:set`))));
    expect(masters.size).toBeGreaterThan(1);
  });

  it('after a failover: resubscribes, flushes local copies, and invalidations reach other instances again', async () => {
    const { a, b, store, keyPrefix: p } = twoInstances(suite, { maxStalenessMs: 3_600_000 });
    await a.grant('r', 'doc:read');
    await a.assign('u', 'r');
    expect(await b.check('u', 'read', 'doc')).toBe(true);
    // A change no notification announces (as if the message were lost in the failover).
    await store.removeRule('r', { effect: 'allow', resource: 'doc', action: 'read' });
    expect(await b.check('u', 'read', 'doc')).toBe(true); // b still trusts its copy
    await cluster.failover(`${p}{s:u}:set`);
    // b noticed the failover, dropped its copies and moved the epoch: the change shows.
    await expect.poll(() => b.check('u', 'read', 'doc'), { timeout: 60_000 }).toBe(false);
    // Notifications flow again after the failover.
    await a.grant('r', 'doc:read');
    expect(await a.check('u', 'read', 'doc')).toBe(true);
    await expect.poll(() => b.check('u', 'read', 'doc'), { timeout: 60_000 }).toBe(true);
    await a.unassign('u', 'r');
    await expect.poll(() => b.check('u', 'read', 'doc'), { timeout: 60_000 }).toBe(false);
  }, 120_000);
});
