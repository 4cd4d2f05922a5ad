import { requireRedis, startRedisServer } from '@app/test-harness';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { PermissionErrorCode } from '../errors.js';
import { createPermissionService } from '../service.js';
import type { PermissionStore } from '../store.js';
import { permissionStoreContract } from '../testing.js';
import { memoryPermissionStore } from './memory.js';
import { redisPermissionCache } from './redis.js';

const redis = await requireRedis();

/** Two "instances": separate services and caches over one shared store and one Redis. */
function cluster(keyPrefix: string, extra: { maxStalenessMs?: number; now?: () => number } = {}) {
  let loads = 0;
  const store: PermissionStore = memoryPermissionStore({ onQuery: () => loads++ });
  const make = (client: Redis) =>
    createPermissionService({
      store,
      cache: redisPermissionCache({ client, keyPrefix, ttlMs: 60_000, ...extra }),
    });
  return { store, a: make(redis.client()), b: make(redis.client()), loads: () => loads };
}

describe.skipIf(!redis.available)('redisPermissionCache on real Redis', () => {
  it('a revoke on one instance takes effect on the next check on another', async () => {
    const { a, b } = cluster(`${redis.prefix}revoke:`);
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

  it('stores the compiled set under a versioned tag with a TTL (read directly from Redis)', async () => {
    const prefix = `${redis.prefix}raw:`;
    const { a, b, loads } = cluster(prefix);
    await a.grant('viewer', 'doc:read');
    await a.assign('u', 'viewer', { tenant: 'acme' });
    expect(await a.check('u', 'read', { type: 'doc', tenant: 'acme' })).toBe(true);
    const raw = redis.client();
    const [tag, data] = await raw.hmget(`${prefix}set:u`, 'tag', 'data');
    const epochs = await raw.mget(`${prefix}epoch`, `${prefix}epoch:u`);
    expect(tag).toBe(epochs.join(':'));
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
    const ttl = await raw.pttl(`${prefix}set:u`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // The other instance uses that entry: no second store query.
    expect(await b.check('u', 'read', { type: 'doc', tenant: 'acme' })).toBe(true);
    expect(loads()).toBe(1);
    // A write moves the epoch, so the old entry is ignored.
    await b.assign('u', 'viewer');
    expect(await raw.get(`${prefix}epoch:u`)).not.toBe(epochs[1]);
    expect(await a.check('u', 'read', 'doc')).toBe(true);
    expect(loads()).toBe(2);
  });

  it('1,000 concurrent cold checks on two instances cost at most one store query per instance', async () => {
    const { a, b, loads } = cluster(`${redis.prefix}race:`);
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
    const prefix = `${redis.prefix}stale:`;
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
      cache: redisPermissionCache({ client: redis.client(), keyPrefix: prefix }),
    });
    const b = createPermissionService({
      store: slowStore,
      cache: redisPermissionCache({ client: redis.client(), keyPrefix: prefix }),
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

  it('with maxStalenessMs, serves the local copy without Redis until it is that old', async () => {
    let now = 0;
    const { a, b } = cluster(`${redis.prefix}eventual:`, { maxStalenessMs: 1000, now: () => now });
    await a.grant('r', 'doc:read');
    await a.assign('u', 'r');
    expect(await b.check('u', 'read', 'doc')).toBe(true);
    await a.revoke('r', 'doc:read');
    now = 999;
    expect(await b.check('u', 'read', 'doc')).toBe(true); // the documented staleness window
    now = 1000;
    expect(await b.check('u', 'read', 'doc')).toBe(false);
  });

  it('keeps answering from the store while Redis is down, and never trusts a copy from before a restart', async () => {
    const server = await startRedisServer();
    let loads = 0;
    const store = memoryPermissionStore({ onQuery: () => loads++ });
    const client = () => {
      const c = new Redis(server.url, {
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50,
        enableOfflineQueue: false,
      });
      c.on('error', () => {});
      return c;
    };
    const ca = client();
    const cb = client();
    const ready = () =>
      expect.poll(() => ca.status === 'ready' && cb.status === 'ready', { timeout: 5000 }).toBe(true);
    try {
      await ready();
      const a = createPermissionService({ store, cache: redisPermissionCache({ client: ca }) });
      const b = createPermissionService({ store, cache: redisPermissionCache({ client: cb }) });
      await a.grant('r', 'doc:read');
      await a.assign('u', 'r');
      expect(await b.check('u', 'read', 'doc')).toBe(true); // b holds a local copy now
      await server.stop();
      // The write reaches the store; the invalidation cannot reach Redis, and the caller is told.
      await expect(a.revoke('r', 'doc:read')).rejects.toMatchObject({
        code: PermissionErrorCode.STORE_FAILED,
      });
      const before = loads;
      expect(await b.check('u', 'read', 'doc')).toBe(false); // bypass: straight from the store
      expect(loads).toBe(before + 1);
      await server.start();
      await ready();
      // Redis came back empty: fresh random epochs, so b's old local copy does not match.
      expect(await b.check('u', 'read', 'doc')).toBe(false);
      const strict = createPermissionService({
        store,
        cache: redisPermissionCache({ client: ca, onRedisError: 'throw' }),
      });
      await server.stop();
      await expect(strict.check('u', 'read', 'doc')).rejects.toMatchObject({
        code: PermissionErrorCode.STORE_FAILED,
      });
    } finally {
      ca.disconnect();
      cb.disconnect();
    }
  }, 30_000);
});

describe.skipIf(!redis.available)('store contract with the Redis cache', () => {
  let n = 0;
  permissionStoreContract({
    describe,
    it,
    expect,
    name: 'memory + redisPermissionCache',
    create: () => memoryPermissionStore(),
    cache: () =>
      redisPermissionCache({ client: redis.client(), keyPrefix: `${redis.prefix}contract${n++}:` }),
  });
});
