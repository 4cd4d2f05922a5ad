import { requireRedis } from '@app/test-harness';
import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { describe, expect, it, vi } from 'vitest';
import { createConfigService } from '../../service.js';
import { configStoreContract } from '../../testing.js';
import type { ConfigRecord } from '../../types.js';
import { memoryConfigStore } from '../memory.js';
import {
  type RedisClientLike,
  redisCacheKey,
  redisChangeChannel,
  redisChangeChannels,
  redisConfigStore,
  redisConfigSync,
  redisEntryKey,
  redisIndexKey,
} from './index.js';
import { shardOf, shardPrefix } from './layout.js';
import { rawReader } from './raw.fixture.js';

const redis = await requireRedis();

const mock = new RedisMock();
configStoreContract({
  describe,
  it,
  expect,
  name: 'redis (ioredis-mock)',
  create: () => redisConfigStore({ client: mock as unknown as RedisClientLike, keyPrefix: 'mock:' }),
  inspect: rawReader(
    (p) => (mock as unknown as Redis).keys(p),
    (k) => mock.hgetall(k),
    'mock:',
  ),
});

describe.skipIf(!redis.available)('redis on real Redis', () => {
  const client = redis.client();
  configStoreContract({
    describe,
    it,
    expect,
    name: 'redis (real)',
    create: () => redisConfigStore({ client, keyPrefix: redis.prefix }),
    inspect: rawReader(
      (p) => client.keys(p),
      (k) => client.hgetall(k),
      redis.prefix,
    ),
    concurrency: 1000,
  });

  it('the store keeps a sorted index for list instead of scanning keys', async () => {
    const prefix = `${redis.prefix}idx:`;
    const store = redisConfigStore({ client, keyPrefix: prefix });
    await store.set('a.1', 1);
    await store.set('a.2', 2);
    await store.delete('a.2');
    const indexes = await Promise.all(
      Array.from({ length: 16 }, (_, shard) => client.zrange(`${shardPrefix(prefix, shard)}index`, 0, -1)),
    );
    expect(indexes.flat()).toEqual(['a.1']);
    expect(indexes[shardOf('a.1')]).toEqual(['a.1']);
  });

  /** Wraps a client to count the commands (round trips) each call makes. */
  function counting(inner: Redis) {
    const counts: Record<string, number> = {};
    const wrapped = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver);
        if (typeof prop === 'string' && ['hgetall', 'evalsha', 'eval'].includes(prop)) {
          return (...args: unknown[]) => {
            counts[prop] = (counts[prop] ?? 0) + 1;
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return {
      client: wrapped as unknown as RedisClientLike,
      counts,
      total: () => Object.values(counts).reduce((a, b) => a + b, 0),
    };
  }

  it('a set is one Redis round trip (compare-and-set and publish in one script); a cold get is two', async () => {
    const keyPrefix = `${redis.prefix}rt:`;
    const c = counting(client);
    const config = createConfigService({
      store: memoryConfigStore(),
      sync: redisConfigSync({ client: c.client, keyPrefix }),
    });
    await config.set('warm', 1); // loads the script (NOSCRIPT -> EVAL) once
    const before = c.total();
    await config.set('k', 'v');
    expect(c.total() - before).toBe(1);
    const other = createConfigService({
      store: memoryConfigStore(),
      sync: redisConfigSync({ client: c.client, keyPrefix }),
    });
    const beforeGet = c.total();
    expect(await other.get('k')).toBe('v'); // a shared-cache hit: one HGETALL
    expect(c.total() - beforeGet).toBe(1);
    const beforeMiss = c.total();
    expect(await other.get('absent')).toBeUndefined(); // miss: HGETALL, then the store, then a fill
    await vi.waitFor(() => expect(c.total() - beforeMiss).toBe(2));
    await config.close();
    await other.close();
  });

  it('a Redis store and a Redis sync on one client write through: store and notification in one script, reads from the store, no cached copy', async () => {
    const keyPrefix = `${redis.prefix}wt:`;
    const c = counting(client);
    const listener = redis.client();
    const messages: string[] = [];
    listener.on('message', (_ch, m) => messages.push(m));
    await listener.subscribe(...redisChangeChannels(keyPrefix));
    const store = redisConfigStore({ client: c.client, keyPrefix });
    const sync = redisConfigSync({ client: c.client, keyPrefix });
    expect(store.writeThrough?.(sync)).toBeDefined();
    const config = createConfigService({ store, sync, instanceId: 'writer' });
    // Loads both scripts (NOSCRIPT -> EVAL) once.
    await config.set('warm', 0);
    await config.set('warm2', 0);
    await config.delete('warm2');
    // A copy an instance without write-through (an older release, or a sync on its own client) cached.
    await client.hset(redisCacheKey(keyPrefix, 'k'), { v: '0', t: '1', d: '', x: '' });
    const before = c.total();
    expect(await config.set('k', { on: true })).toBe(1);
    expect(c.total() - before).toBe(1);
    expect(await client.hgetall(redisEntryKey(keyPrefix, 'k'))).toMatchObject({
      v: '1',
      t: '0',
      d: '{"on":true}',
    });
    // No second copy: the write dropped the cached one, so no instance can read it stale.
    expect(await client.exists(redisCacheKey(keyPrefix, 'k'))).toBe(0);
    // Another instance on the same layout reads the store itself: one HGETALL, and nothing is filled.
    const reader = createConfigService({
      store: redisConfigStore({ client: c.client, keyPrefix }),
      sync: redisConfigSync({ client: c.client, keyPrefix }),
    });
    const beforeRead = { ...c.counts };
    expect(await reader.get('k')).toEqual({ on: true });
    expect(await reader.get('never-set')).toBeUndefined();
    expect((c.counts.hgetall ?? 0) - (beforeRead.hgetall ?? 0)).toBe(2);
    expect((c.counts.evalsha ?? 0) - (beforeRead.evalsha ?? 0)).toBe(0);
    expect(await client.exists(redisCacheKey(keyPrefix, 'k'), redisCacheKey(keyPrefix, 'never-set'))).toBe(0);
    await reader.close();
    await client.hset(redisCacheKey(keyPrefix, 'k'), { v: '1', t: '0', d: '{"on":true}', x: '' });
    const beforeDelete = c.total();
    expect(await config.delete('k')).toBe(true);
    expect(c.total() - beforeDelete).toBe(1);
    expect(await client.hgetall(redisEntryKey(keyPrefix, 'k'))).toMatchObject({ v: '2', t: '1' });
    expect(await client.exists(redisCacheKey(keyPrefix, 'k'))).toBe(0);
    expect(await client.zrange(redisIndexKey(keyPrefix, 'warm'), 0, -1)).toEqual(['warm']);
    expect(await config.set('k', 'again')).toBe(3);
    expect([
      ...(await client.zrange(redisIndexKey(keyPrefix, 'k'), 0, -1)),
      ...(await client.zrange(redisIndexKey(keyPrefix, 'warm'), 0, -1)),
    ]).toContain('k');
    await config.set('t', 'short-lived', { ttlMs: 60_000 });
    await vi.waitFor(() => expect(messages).toHaveLength(7));
    const expiring = JSON.parse(messages.pop() ?? '{}');
    expect(expiring).toMatchObject({ o: 'writer', k: 't', v: 1, d: 'short-lived' });
    expect(expiring.x).toBeGreaterThan(Date.now());
    // The same messages a sync write sends, with the version the store gave.
    expect(messages.map((m) => JSON.parse(m))).toEqual([
      { o: 'writer', t: expect.any(Number), k: 'warm', v: 1, d: 0, x: null },
      { o: 'writer', t: expect.any(Number), k: 'warm2', v: 1, d: 0, x: null },
      { o: 'writer', t: expect.any(Number), k: 'warm2', v: 2 },
      { o: 'writer', t: expect.any(Number), k: 'k', v: 1, d: { on: true }, x: null },
      { o: 'writer', t: expect.any(Number), k: 'k', v: 2 },
      { o: 'writer', t: expect.any(Number), k: 'k', v: 3, d: 'again', x: null },
    ]);
    // A sync on another client is another connection: no write-through, the two writes stay separate.
    expect(store.writeThrough?.(redisConfigSync({ client: redis.client(), keyPrefix }))).toBeUndefined();
    await config.close();
  });

  it('write-through across instances: every change reaches the other instance and versions never go back', async () => {
    const keyPrefix = `${redis.prefix}wt2:`;
    const instance = () => {
      const own = redis.client();
      return createConfigService({
        store: redisConfigStore({ client: own, keyPrefix }),
        sync: redisConfigSync({ client: own, keyPrefix }),
        cache: { ttlMs: 600_000 }, // only notifications can explain a fresh value
      });
    };
    const a = instance();
    const b = instance();
    await Promise.all([a.get('race'), b.get('race')]);
    const seenByA: number[] = [];
    const seenByB: number[] = [];
    a.watch('race', (v) => seenByA.push(v as number));
    b.watch('race', (v) => seenByB.push(v as number));
    await vi.waitFor(async () =>
      expect((await client.pubsub('NUMSUB', redisChangeChannel(keyPrefix, 'race')))[1]).toBe(2),
    );
    const writes = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 === 0 ? a : b).set('race', i).then((version) => ({ i, version })),
      ),
    );
    expect(writes.map((w) => w.version).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    const last = writes.find((w) => w.version === 100);
    await vi.waitFor(() => {
      expect(a.peek('race')).toBe(last?.i);
      expect(b.peek('race')).toBe(last?.i);
    });
    // Each watcher saw the values in version order (some skipped when a newer one came first, none went back).
    const versionOf = new Map(writes.map((w) => [w.i, w.version]));
    for (const seen of [seenByA, seenByB]) {
      const versions = seen.map((v) => versionOf.get(v) ?? -1);
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
      expect(new Set(versions).size).toBe(versions.length);
    }
    expect(await client.hgetall(redisEntryKey(keyPrefix, 'race'))).toMatchObject({
      v: '100',
      d: String(last?.i),
    });
    await a.close();
    await b.close();
  });

  it('1,000 concurrent cold gets make one Redis read and one store read', async () => {
    const keyPrefix = `${redis.prefix}sf:`;
    const c = counting(client);
    const store = memoryConfigStore();
    await store.set('cold', 'v');
    const spy = vi.spyOn(store, 'get');
    const config = createConfigService({ store, sync: redisConfigSync({ client: c.client, keyPrefix }) });
    const values = await Promise.all(Array.from({ length: 1000 }, () => config.get('cold')));
    expect(new Set(values)).toEqual(new Set(['v']));
    expect(c.counts.hgetall).toBe(1);
    expect(spy).toHaveBeenCalledTimes(1);
    await config.close();
  });

  it('the cache never accepts an older version, and set publishes on the channel subscribers listen to', async () => {
    const keyPrefix = `${redis.prefix}cas:`;
    const sync = redisConfigSync({ client, keyPrefix });
    const listener = redis.client();
    const messages: string[] = [];
    listener.on('message', (_ch, m) => messages.push(m));
    await listener.subscribe(...redisChangeChannels(keyPrefix));

    const v2: ConfigRecord = { key: 'k', value: 'two', version: 2, expiresAt: null, deleted: false };
    const v1: ConfigRecord = { key: 'k', value: 'one', version: 1, expiresAt: null, deleted: false };
    await sync.write(v2, { publish: true, origin: 'test' });
    await sync.write(v1, { publish: true, origin: 'test' });
    expect(await client.hgetall(redisCacheKey(keyPrefix, 'k'))).toMatchObject({ v: '2', t: '0', d: '"two"' });
    expect(await client.pttl(redisCacheKey(keyPrefix, 'k'))).toBeGreaterThan(0);
    expect(await sync.read?.('k')).toEqual(v2);
    await sync.write({ key: 'k', version: 3, deleted: true }, { publish: true, origin: 'test' });
    expect(await sync.read?.('k')).toEqual({ key: 'k', version: 3, deleted: true });
    await vi.waitFor(() => expect(messages).toHaveLength(2));
    // Only the applied writes were announced, in version order.
    expect(messages.map((m) => JSON.parse(m))).toEqual([
      { o: 'test', t: expect.any(Number), k: 'k', v: 2, d: 'two', x: null },
      { o: 'test', t: expect.any(Number), k: 'k', v: 3 },
    ]);
  });

  it('corrupt JSON in the Redis cache is a logged miss: the value comes from the store and the entry is repaired', async () => {
    const keyPrefix = `${redis.prefix}corrupt:`;
    const store = memoryConfigStore();
    await store.set('k', { ok: true });
    await client.hset(redisCacheKey(keyPrefix, 'k'), { v: '1', t: '0', d: '{not json', x: '' });
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const config = createConfigService({
      store,
      logger,
      sync: redisConfigSync({ client, keyPrefix, logger }),
    });
    expect(await config.get('k')).toEqual({ ok: true });
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ key: 'k' }),
      expect.stringMatching(/corrupt/),
    );
    await vi.waitFor(async () =>
      expect(await client.hgetall(redisCacheKey(keyPrefix, 'k'))).toMatchObject({ v: '1', d: '{"ok":true}' }),
    );
    await config.close();
  });

  it('makes one subscriber connection per service, however many watches', async () => {
    const keyPrefix = `${redis.prefix}conn:`;
    const duplicate = vi.spyOn(client, 'duplicate');
    const config = createConfigService({
      store: memoryConfigStore(),
      sync: redisConfigSync({ client, keyPrefix }),
    });
    for (let i = 0; i < 20; i++) config.watch(`k${i}`, () => {});
    expect(duplicate).toHaveBeenCalledTimes(1);
    const counts = async () =>
      ((await client.pubsub('NUMSUB', ...redisChangeChannels(keyPrefix))) as (string | number)[]).filter(
        (_, i) => i % 2 === 1,
      );
    // One connection subscribed to each of the 16 channels.
    await vi.waitFor(async () => expect(await counts()).toEqual(Array(16).fill(1)));
    await config.close();
    await vi.waitFor(async () => expect(await counts()).toEqual(Array(16).fill(0)));
    duplicate.mockRestore();
  });

  it('rejects bad options before any I/O', () => {
    expect(() => redisConfigSync({ client: {} as RedisClientLike })).toThrow(/ioredis client/);
    expect(() => redisConfigSync({ client, cacheTtlMs: -1 })).toThrow(/cacheTtlMs/);
    expect(() => redisConfigStore({ client: undefined as unknown as RedisClientLike })).toThrow(
      /ioredis client/,
    );
  });
});
