import { once } from 'node:events';
import { hashSlot, requireRedis, startRedisCluster, startRedisServer } from '@app/test-harness';
import Redis from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { DeliveryErrorCode } from '../errors.js';
import { idempotencyStoreContract, scanRedisKeys as scanKeys, statusStoreContract } from '../testing.js';
import { redisIdempotencyStore, redisStatusStore } from './redis.js';

// The harness needs redis-server; requireRedis says (and skips, outside CI) when Redis is not here.
const redis = await requireRedis();
const t = { describe, it, expect };

describe.skipIf(!redis.available)(
  'Redis stores on a real Redis Cluster (3 masters, 3 replicas), no setting',
  async () => {
    const cluster = await startRedisCluster();
    const client = cluster.client();
    afterAll(async () => {
      client.disconnect();
      await cluster.close();
    });

    // The contracts include 1,000 concurrent reservations of one key: exactly one wins, on the cluster.
    idempotencyStoreContract({
      ...t,
      name: 'redis cluster',
      create: () => redisIdempotencyStore({ client, timeoutMs: 30_000, keyPrefix: 'idem:' }),
      inspect: () => scanKeys(client, 'idem:'),
    });
    statusStoreContract({
      ...t,
      name: 'redis cluster',
      create: () => redisStatusStore({ client, timeoutMs: 30_000, keyPrefix: 'status:' }),
      inspect: () => scanKeys(client, 'status:'),
    });

    it('tags each key (and each message) on its own, so keys spread over every master', async () => {
      const store = redisIdempotencyStore({ client, timeoutMs: 30_000, keyPrefix: 'spread:' });
      const statuses = redisStatusStore({ client, timeoutMs: 30_000, keyPrefix: 'spread-status:' });
      const masters = new Set<number>();
      for (let i = 0; i < 30; i++) {
        await store.reserve(`order-${i}`, 'fp', 60_000);
        masters.add(await cluster.masterOf(`spread:{order-${i}}`));
        await statuses.record({ messageId: `m-${i}`, eventId: 'e', status: 'sent', rank: 1, at: 1 });
      }
      expect(masters.size).toBe(3);
      const keys = await scanKeys(client, 'spread-status:');
      expect(keys).toHaveLength(90);
      for (let i = 0; i < 30; i++) {
        const slots = new Set(keys.filter((k) => k.includes(`{m-${i}}`)).map(hashSlot));
        expect(slots).toEqual(new Set([hashSlot(`m-${i}`)]));
      }
    });
  },
);

describe.skipIf(!redis.available)('Redis stores during an outage', () => {
  it('fail with STORE_UNAVAILABLE within the bound (default 1 s) once Redis is down, and resume after', async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => {}); // the outage is the point: ioredis reports every failed reconnect
    try {
      const store = redisIdempotencyStore({ client });
      const statuses = redisStatusStore({ client });
      expect((await store.reserve('before', 'fp', 60_000)).acquired).toBe(true);
      const reconnecting = once(client, 'reconnecting');
      await server.stop();
      // At once, before ioredis has noticed: the call is queued, and the deadline bounds it.
      for (const call of [
        () => store.reserve('during', 'fp', 60_000),
        () => statuses.get('m'),
        () => store.reserve('during-2', 'fp', 60_000),
      ]) {
        const started = Date.now();
        const error = await call().catch((e: unknown) => e);
        expect(error).toMatchObject({ code: DeliveryErrorCode.STORE_UNAVAILABLE });
        expect(Date.now() - started).toBeLessThan(5_000);
        await reconnecting;
      }
      await server.start();
      if (client.status !== 'ready') await once(client, 'ready');
      // The store answers again once Redis is back (a restarted node without persistence is empty).
      expect((await store.reserve('after', 'fp', 60_000)).acquired).toBe(true);
      expect((await store.reserve('after', 'fp', 60_000)).acquired).toBe(false);
    } finally {
      client.disconnect();
      await server.stop();
    }
  });
});
