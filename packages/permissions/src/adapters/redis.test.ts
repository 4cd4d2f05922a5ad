import { requireRedis, startRedisServer } from '@app/test-harness';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { PermissionErrorCode } from '../errors.js';
import { createPermissionService } from '../service.js';
import { memoryPermissionStore } from './memory.js';
import { redisPermissionCache } from './redis.js';
import { redisCacheSuite } from './redis-cache.fixture.js';

const redis = await requireRedis();
let n = 0;

describe.skipIf(!redis.available)('on one Redis node', () => {
  redisCacheSuite({
    name: 'single node',
    client: () => redis.client(),
    prefix: () => `${redis.prefix}${n++}:`,
  });
});

describe.skipIf(!redis.available)('redisPermissionCache: outages', () => {
  it('answers from the store within its bound while Redis is down, with a default client (offline queue on)', async () => {
    const server = await startRedisServer();
    let loads = 0;
    const store = memoryPermissionStore({ onQuery: () => loads++ });
    const ca = new Redis(server.url);
    const cb = new Redis(server.url);
    for (const c of [ca, cb]) c.on('error', () => {});
    try {
      const a = createPermissionService({ store, cache: redisPermissionCache({ client: ca }) });
      const b = createPermissionService({ store, cache: redisPermissionCache({ client: cb }) });
      await a.grant('r', 'doc:read');
      await a.assign('u', 'r');
      expect(await b.check('u', 'read', 'doc')).toBe(true); // b holds a local copy now
      await server.stop();
      // The write reaches the store; the invalidation cannot reach Redis, and the caller is told, in time.
      let started = Date.now();
      await expect(a.revoke('r', 'doc:read')).rejects.toMatchObject({
        code: PermissionErrorCode.STORE_FAILED,
      });
      expect(Date.now() - started).toBeLessThan(5000);
      const before = loads;
      started = Date.now();
      expect(await b.check('u', 'read', 'doc')).toBe(false); // bypass: straight from the store
      expect(Date.now() - started).toBeLessThan(5000);
      expect(loads).toBe(before + 1);
      // A client still connecting (not known down) gets the deadline, not the reconnect.
      const fresh = new Redis(server.url, { retryStrategy: () => 100 });
      fresh.on('error', () => {});
      const c = createPermissionService({
        store,
        cache: redisPermissionCache({ client: fresh, redisTimeoutMs: 200 }),
      });
      started = Date.now();
      expect(await c.check('u', 'read', 'doc')).toBe(false);
      expect(Date.now() - started).toBeLessThan(5000);
      fresh.disconnect();
      await server.start();
      await expect.poll(() => ca.status === 'ready' && cb.status === 'ready', { timeout: 30_000 }).toBe(true);
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
  }, 60_000);
});
