import { requireRedis } from '@app/test-harness';
import RedisMock from 'ioredis-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { DeliveryErrorCode } from '../errors.js';
import { idempotencyStoreContract } from '../testing.js';
import { redisIdempotencyStore } from './redis.js';

const redis = await requireRedis();
const t = { describe, it, expect };

describe.skipIf(!redis.available)('redisIdempotencyStore on real Redis', () => {
  const client = redis.client();
  const keyPrefix = redis.prefix;
  idempotencyStoreContract({
    ...t,
    name: 'redis',
    create: () => redisIdempotencyStore({ client, keyPrefix }),
    inspect: async () => {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      return keys;
    },
  });

  it('keeps one hash per key under its own hash tag: the lock TTL, then the result TTL', async () => {
    const store = redisIdempotencyStore({ client, keyPrefix });
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

  it('runs its scripts by EVALSHA after the first call (no script body per call)', async () => {
    const store = redisIdempotencyStore({ client, keyPrefix });
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

  it('refuses a missing client before any I/O', () => {
    expect(() => redisIdempotencyStore({} as never)).toThrow(
      expect.objectContaining({ code: DeliveryErrorCode.INVALID_OPTIONS }),
    );
  });
});

describe('redisIdempotencyStore on ioredis-mock', () => {
  // ioredis-mock runs Lua through fengari; it covers the hash commands used here.
  const client = new RedisMock();
  afterAll(() => client.disconnect());
  idempotencyStoreContract({ ...t, name: 'ioredis-mock', create: () => redisIdempotencyStore({ client }) });
});
