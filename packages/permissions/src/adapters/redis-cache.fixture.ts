// The Redis cache's behaviour, run on one node (redis.test.ts) and on a real Cluster (redis-cluster.test.ts).
import { describe, expect, it } from 'vitest';
import { createPermissionService } from '../service.js';
import type { PermissionStore } from '../store.js';
import { permissionStoreContract } from '../testing.js';
import { memoryPermissionStore } from './memory.js';
import { type RedisCacheClient, type RedisPermissionCacheOptions, redisPermissionCache } from './redis.js';

export interface RedisCacheSuiteOptions {
  name: string;
  /** A new client on the topology under test. */
  client(): RedisCacheClient;
  /** A key prefix of its own per call. */
  prefix(): string;
}

type Extra = Omit<RedisPermissionCacheOptions, 'client' | 'keyPrefix'>;

/** Two "instances": separate services, caches and clients over one shared store and one Redis. */
export function twoInstances(o: RedisCacheSuiteOptions, extra: Extra = {}) {
  let loads = 0;
  const keyPrefix = o.prefix();
  const store: PermissionStore = memoryPermissionStore({ onQuery: () => loads++ });
  const caches: ReturnType<typeof redisPermissionCache>[] = [];
  const make = () => {
    const cache = redisPermissionCache({ client: o.client(), keyPrefix, ttlMs: 60_000, ...extra });
    caches.push(cache);
    return createPermissionService({ store, cache });
  };
  return { keyPrefix, store, caches, a: make(), b: make(), loads: () => loads };
}

export function redisCacheSuite(o: RedisCacheSuiteOptions): void {
  describe(`redisPermissionCache: ${o.name}`, () => {
    it('a revoke on one instance takes effect on the next check on another', async () => {
      const { a, b } = twoInstances(o);
      await a.grant('editor', 'doc:write');
      await a.assign('u', 'editor');
      expect(await b.check('u', 'write', 'doc')).toBe(true);
      expect(await a.check('u', 'write', 'doc')).toBe(true);
      await a.revoke('editor', 'doc:write');
      expect(await b.check('u', 'write', 'doc')).toBe(false);
      await b.grant('editor', 'doc:write');
      expect(await a.check('u', 'write', 'doc')).toBe(true);
      await b.unassign('u', 'editor');
      expect(await a.check('u', 'write', 'doc')).toBe(false);
    });

    it('keeps each subject in its own hash slot and the set under a versioned tag with a TTL (read from Redis)', async () => {
      const { a, b, loads, keyPrefix: p } = twoInstances(o);
      await a.grant('viewer', 'doc:read');
      await a.assign('u', 'viewer', { tenant: 'acme' });
      expect(await a.check('u', 'read', { type: 'doc', tenant: 'acme' })).toBe(true);
      const raw = o.client() as unknown as import('ioredis').Redis;
      const [tag, data] = await raw.hmget(`${p}{s:u}:set`, 'tag', 'data');
      const g = await raw.get(`${p}{g}:epoch`);
      const s = await raw.get(`${p}{s:u}:epoch`);
      expect(tag).toBe(`${g}:${s}`);
      expect(JSON.parse(data!)).toEqual({
        subject: 'u',
        grants: [
          {
            effect: 'allow',
            resource: 'doc',
            action: 'read',
            role: 'viewer',
            via: ['viewer'],
            scope: { tenant: 'acme' },
          },
        ],
      });
      const ttl = await raw.pttl(`${p}{s:u}:set`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
      // The other instance uses that entry: no second store query.
      expect(await b.check('u', 'read', { type: 'doc', tenant: 'acme' })).toBe(true);
      expect(loads()).toBe(1);
      // A write moves the subject's epoch, so the old entry is ignored.
      await b.assign('u', 'viewer');
      expect(await raw.get(`${p}{s:u}:epoch`)).not.toBe(s);
      expect(await a.check('u', 'read', 'doc')).toBe(true);
      expect(loads()).toBe(2);
    });

    it('1,000 concurrent cold checks on two instances cost at most one store query per instance', async () => {
      // A read slower than `redisTimeoutMs` takes the documented bypass (its own store load, never shared):
      // on a busy machine 2,000 scripts in flight can take longer than the default second, and this test is
      // about the loads that are shared, so it gives Redis all the time it needs.
      const { a, b, loads } = twoInstances(o, { redisTimeoutMs: 60_000 });
      await a.grant('r', 'doc:read');
      await a.deny('r', 'doc:delete');
      await a.assign('u', 'r');
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => (i % 2 ? a : b).check('u', i % 3 ? 'read' : 'delete', 'doc')),
      );
      expect(results).toEqual(results.map((_, i) => i % 3 !== 0));
      expect(loads()).toBeLessThanOrEqual(2);
    });

    it('never caches a load that raced with a revoke on another instance', async () => {
      const keyPrefix = o.prefix();
      const base = memoryPermissionStore();
      let release: () => void = () => {};
      let gated = false;
      let waiting = false;
      const slowStore: PermissionStore = {
        ...base,
        async loadSubject(s) {
          const policy = await base.loadSubject(s);
          if (gated) {
            waiting = true;
            await new Promise<void>((r) => {
              release = r;
            });
          }
          return policy;
        },
      };
      const a = createPermissionService({
        store: base,
        cache: redisPermissionCache({ client: o.client(), keyPrefix }),
      });
      const b = createPermissionService({
        store: slowStore,
        cache: redisPermissionCache({ client: o.client(), keyPrefix }),
      });
      await a.grant('r', 'doc:read');
      await a.assign('u', 'r');
      gated = true;
      const slow = b.check('u', 'read', 'doc');
      await expect.poll(() => waiting).toBe(true);
      await a.revoke('r', 'doc:read');
      release();
      expect(await slow).toBe(true);
      gated = false;
      expect(await b.check('u', 'read', 'doc')).toBe(false);
      expect(await a.check('u', 'read', 'doc')).toBe(false);
    });

    it('with maxStalenessMs, a lost notification costs at most that staleness', async () => {
      let now = 0;
      const t = twoInstances(o, { maxStalenessMs: 1000, now: () => now });
      const { a, b, store, keyPrefix: p } = t;
      await expect.poll(() => t.caches.map((c) => c.notifications())).toEqual(['live', 'live']);
      await a.grant('r', 'doc:read');
      await a.assign('u', 'r');
      expect(await b.check('u', 'read', 'doc')).toBe(true);
      // A change whose notification is lost: the store changes, the epoch moves, nobody announces it.
      await store.removeRule('r', { effect: 'allow', resource: 'doc', action: 'read' });
      await (o.client() as unknown as import('ioredis').Redis).set(`${p}{g}:epoch`, 'moved');
      now = 999;
      expect(await b.check('u', 'read', 'doc')).toBe(true); // the documented staleness window
      now = 1000;
      expect(await b.check('u', 'read', 'doc')).toBe(false);
    });

    it('delivers invalidations to another instance by pub/sub: its local copy goes without asking Redis', async () => {
      const { a, b, loads } = twoInstances(o, { maxStalenessMs: 3_600_000 });
      await a.grant('r', 'doc:read');
      await a.assign('u', 'r');
      await a.assign('v', 'r');
      expect(await b.check('u', 'read', 'doc')).toBe(true);
      expect(await b.check('v', 'read', 'doc')).toBe(true);
      const before = loads();
      // Only a notification can change b's answer: its copy is otherwise good for an hour.
      await a.unassign('u', 'r');
      await expect.poll(() => b.check('u', 'read', 'doc'), { timeout: 30_000 }).toBe(false);
      expect(await b.check('v', 'read', 'doc')).toBe(true); // another subject's copy stays
      expect(loads()).toBe(before + 1);
      await a.revoke('r', 'doc:read');
      await expect.poll(() => b.check('v', 'read', 'doc'), { timeout: 30_000 }).toBe(false);
    });
  });

  describe(`store contract with the Redis cache: ${o.name}`, () => {
    permissionStoreContract({
      describe,
      it,
      expect,
      name: `memory + redisPermissionCache (${o.name})`,
      create: () => memoryPermissionStore(),
      cache: () => redisPermissionCache({ client: o.client(), keyPrefix: o.prefix() }),
    });
  });
}
