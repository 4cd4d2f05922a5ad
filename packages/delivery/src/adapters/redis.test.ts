import { requireRedis } from '@app/test-harness';
import RedisMock from 'ioredis-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { DeliveryErrorCode } from '../errors.js';
import { idempotencyStoreContract, scanRedisKeys as scanKeys, statusStoreContract } from '../testing.js';
import { redisIdempotencyStore, redisStatusStore } from './redis.js';

const redis = await requireRedis();
const t = { describe, it, expect };

describe.skipIf(!redis.available)('Redis stores on one real node', () => {
  const client = redis.client();
  const keyPrefix = redis.prefix;
  idempotencyStoreContract({
    ...t,
    name: 'redis',
    create: () => redisIdempotencyStore({ client, timeoutMs: 30_000, keyPrefix: `${keyPrefix}idem:` }),
    inspect: () => scanKeys(client, `${keyPrefix}idem:`),
  });
  statusStoreContract({
    ...t,
    name: 'redis',
    create: () => redisStatusStore({ client, timeoutMs: 30_000, keyPrefix: `${keyPrefix}status:` }),
    inspect: () => scanKeys(client, `${keyPrefix}status:`),
  });

  it('keeps one hash per key under its own hash tag: the lock TTL, then the result TTL', async () => {
    const store = redisIdempotencyStore({ client, timeoutMs: 30_000, keyPrefix });
    const r = await store.reserve('order-1', 'fp1', 5_000);
    if (!r.acquired) throw new Error('expected to acquire');
    const key = `${keyPrefix}{order-1}`;
    expect(await client.hgetall(key)).toEqual({ t: r.token, f: 'fp1' });
    expect(await client.pttl(key)).toBeLessThanOrEqual(5_000);
    await store.complete('order-1', r.token, { id: 'm1' }, 120_000);
    expect(await client.hgetall(key)).toEqual({ f: 'fp1', r: '{"id":"m1"}' });
    expect(await client.pttl(key)).toBeGreaterThan(5_000);
    // Completed: the token no longer holds the key, so a late release leaves the result.
    await store.release('order-1', r.token);
    expect(await client.exists(key)).toBe(1);
  });

  it('keeps a status in three keys under the message hash tag, expiring ttlMs after the last event', async () => {
    const store = redisStatusStore({ client, timeoutMs: 30_000, keyPrefix, ttlMs: 50_000 });
    await store.record({
      messageId: 'msg-1',
      eventId: 'e1',
      status: 'sent',
      rank: 1,
      at: 5,
      details: { a: 'b' },
    });
    const keys = (await scanKeys(client, `${keyPrefix}{msg-1}`)).sort();
    expect(keys).toEqual([
      `${keyPrefix}{msg-1}:events`,
      `${keyPrefix}{msg-1}:seen`,
      `${keyPrefix}{msg-1}:status`,
    ]);
    expect(await client.hgetall(`${keyPrefix}{msg-1}:status`)).toEqual({
      s: 'sent',
      k: '1',
      u: '5',
      d: '{"a":"b"}',
    });
    for (const key of keys) expect(await client.pttl(key)).toBeGreaterThan(40_000);
  });

  it('runs its scripts by EVALSHA after the first call (no script body per call)', async () => {
    const store = redisIdempotencyStore({ client, timeoutMs: 30_000, keyPrefix });
    await store.reserve('sha-warm', 'fp', 5_000);
    const sent: string[] = [];
    const spy = {
      evalsha: (...args: Parameters<typeof client.evalsha>) => {
        sent.push('evalsha');
        return client.evalsha(...args);
      },
      eval: (...args: Parameters<typeof client.eval>) => {
        sent.push('eval');
        return client.eval(...args);
      },
    };
    const spied = redisIdempotencyStore({ client: spy as never, keyPrefix });
    await spied.reserve('sha-1', 'fp', 5_000);
    expect(sent).toEqual(['evalsha']);
  });
});

describe('Redis stores: options', () => {
  it('refuse a missing client or a bad timeout before any I/O', () => {
    for (const make of [redisIdempotencyStore, redisStatusStore]) {
      expect(() => make({} as never)).toThrow(
        expect.objectContaining({ code: DeliveryErrorCode.INVALID_OPTIONS }),
      );
      expect(() => make({ client: new RedisMock(), timeoutMs: 0 })).toThrow(
        expect.objectContaining({ code: DeliveryErrorCode.INVALID_OPTIONS }),
      );
    }
  });
});

describe('redisIdempotencyStore on ioredis-mock', () => {
  // ioredis-mock runs Lua through fengari; it covers the hash commands used here.
  const client = new RedisMock();
  afterAll(() => client.disconnect());
  idempotencyStoreContract({
    ...t,
    name: 'ioredis-mock',
    create: () => redisIdempotencyStore({ client, timeoutMs: 30_000 }),
  });
});
