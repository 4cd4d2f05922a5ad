import { requireRedis, startRedisServer } from '@app/test-harness';
import { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { describe, expect, it } from 'vitest';
import { OtpErrorCode } from '../errors.js';
import { otpStoreContract } from '../testing.js';
import { issueRequest } from '../testing-kit.js';
import { otpRedisKeys, redisOtpStore } from './redis.js';

const redis = await requireRedis();

/** Every key under the prefix (SCAN, never KEYS) and every value, read with the command for its type. */
async function readPrefix(client: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    for (const key of keys) {
      out.push(key);
      const type = await client.type(key);
      if (type === 'hash')
        out.push(
          ...Object.entries(await client.hgetall(key))
            .flat()
            .map(String),
        );
      else if (type === 'zset') out.push(...(await client.zrange(key, 0, -1, 'WITHSCORES')).map(String));
      else if (type === 'string') out.push(String(await client.get(key)));
      else out.push(`unexpected type ${type}`);
    }
  } while (cursor !== '0');
  return out;
}

describe.skipIf(!redis.available)('redisOtpStore on real Redis', () => {
  const client = redis.client();

  otpStoreContract({
    describe,
    it,
    expect,
    name: 'redis',
    create: () => redisOtpStore({ client, keyPrefix: redis.prefix }),
    inspect: () => readPrefix(client, redis.prefix),
  });

  it('writes a hash with TTL per challenge and sorted sets with TTL per window, under the prefix', async () => {
    const prefix = `${redis.prefix}shape:`;
    const s = redisOtpStore({ client, keyPrefix: prefix });
    const now = Date.now();
    await s.issue(
      issueRequest({
        challengeKey: 'ck',
        destinationKey: 'dk',
        ipKey: 'ik',
        challengeId: 'cid',
        codeHash: 'hash',
        now,
        expiresAt: now + 300_000,
        ipLimit: { max: 5, windowMs: 60_000 },
      }),
    );
    const key = otpRedisKeys;
    expect(await client.hgetall(key.challenge(prefix, 'ck'))).toEqual({
      id: 'cid',
      h: 'hash',
      a: '0',
      m: '5',
      e: String(now + 300_000),
      s: String(now),
    });
    const ttl = await client.pttl(key.challenge(prefix, 'ck'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300_000);
    expect(key.challenge(prefix, 'ck')).toBe(`${prefix}{ck}:c:ck`);
    expect(await client.zrange(key.destination(prefix, 'dk'), 0, -1)).toEqual(['cid']);
    expect(await client.pttl(key.destination(prefix, 'dk'))).toBeGreaterThan(0);
    expect(await client.pttl(key.ip(prefix, 'ik'))).toBeLessThanOrEqual(60_000);
    expect((await readPrefix(client, prefix)).filter((v) => v.startsWith(prefix)).sort()).toEqual(
      [key.challenge(prefix, 'ck'), key.destination(prefix, 'dk'), key.ip(prefix, 'ik')].sort(),
    );
  });

  it('runs its scripts again after SCRIPT FLUSH, then sends one EVALSHA per verify (private server)', async () => {
    const server = await startRedisServer();
    const own = new Redis(server.url);
    const monitor = await new Redis(server.url).monitor();
    try {
      const s = redisOtpStore({ client: own, keyPrefix: 'flush:' });
      const req = { challengeKey: 'k', codeHash: 'h', now: 1 };
      await s.verify(req);
      await own.script('FLUSH');
      const seen: string[] = [];
      monitor.on('monitor', (_time: string, args: string[], source: string) => {
        if (source !== 'lua') seen.push(String(args[0]).toLowerCase());
      });
      expect(await s.verify(req)).toEqual({ status: 'unavailable' });
      await s.verify(req);
      await s.verify(req);
      await expect.poll(() => seen.length).toBe(4);
      // NOSCRIPT after the flush, EVAL once (which caches the script), then one EVALSHA per verify.
      expect(seen).toEqual(['evalsha', 'eval', 'evalsha', 'evalsha']);
    } finally {
      monitor.disconnect();
      own.disconnect();
    }
  });

  it('every failed verify runs the same commands and writes one key, whatever the reason (private server)', async () => {
    // Issue 15, counted by the server (INFO commandstats and its write counter), never timed.
    const server = await startRedisServer();
    const own = new Redis(server.url);
    try {
      const s = redisOtpStore({ client: own, keyPrefix: 'eq:' });
      const T0 = 1_000_000;
      const issue = (key: string, maxAttempts = 3, expiresAt = T0 + 300_000) =>
        s.issue({
          challengeKey: key,
          destinationKey: `d-${key}`,
          challengeId: `id-${key}`,
          codeHash: 'right',
          now: T0,
          expiresAt,
          maxAttempts,
          cooldownMs: 0,
          destinationLimit: { max: 100, windowMs: 60_000 },
        });
      await issue('live');
      await issue('expired', 3, T0 + 60_000);
      await issue('locked', 1);
      await s.verify({ challengeKey: 'locked', codeHash: 'wrong', now: T0 + 1 });
      const dirty = async () =>
        Number(/rdb_changes_since_last_save:(\d+)/.exec(await own.info('persistence'))![1]);
      // Every verify at T0 + 60 s: the 'expired' challenge ended then (its Redis TTL is still running).
      const cost = async (challengeKey: string) => {
        await own.config('RESETSTAT');
        const before = await dirty();
        const { status } = await s.verify({ challengeKey, codeHash: 'wrong', now: T0 + 60_000 });
        const writes = (await dirty()) - before;
        const calls: Record<string, number> = {};
        for (const [, name, n] of (await own.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
          if (name !== 'info' && name !== 'config') calls[name!] = Number(n);
        }
        return { status, calls, writes };
      };
      const wrong = await cost('live');
      expect(wrong).toEqual({ status: 'mismatch', calls: { evalsha: 1, hmget: 1, hincrby: 1 }, writes: 1 });
      for (const [key, status] of [
        ['never-issued', 'unavailable'],
        ['never-issued-2', 'unavailable'],
        ['expired', 'expired'],
        ['locked', 'unavailable'],
      ] as const) {
        expect(await cost(key)).toEqual({ ...wrong, status });
      }
      expect(await s.verify({ challengeKey: 'live', codeHash: 'right', now: T0 + 2 })).toEqual({
        status: 'verified',
        challengeId: 'id-live',
        attempts: 1,
      });
    } finally {
      own.disconnect();
    }
  });

  it('the verifies of one tick share script calls; each settles on its own reply (private server)', async () => {
    const server = await startRedisServer();
    const own = new Redis(server.url);
    try {
      const s = redisOtpStore({ client: own, keyPrefix: 'batch:' });
      const T0 = 1_000_000;
      const n = 40;
      for (let i = 0; i < n; i++) {
        await s.issue({
          challengeKey: `k${i}`,
          destinationKey: `d${i}`,
          challengeId: `id${i}`,
          codeHash: `right${i}`,
          now: T0,
          expiresAt: T0 + 300_000,
          maxAttempts: 3,
          cooldownMs: 0,
          destinationLimit: { max: 100, windowMs: 60_000 },
        });
      }
      // One challenge key holds a string: its HMGET fails with WRONGTYPE, in the middle of a batch.
      await own.set(otpRedisKeys.challenge('batch:', 'k7'), 'not a hash');
      await own.config('RESETSTAT');
      const settled = await Promise.allSettled(
        Array.from({ length: n }, (_, i) =>
          s.verify({ challengeKey: `k${i}`, codeHash: i % 2 ? 'wrong' : `right${i}`, now: T0 + 1 }),
        ),
      );
      const calls: Record<string, number> = {};
      for (const [, name, c] of (await own.info('commandstats')).matchAll(/cmdstat_(\w+):calls=(\d+)/g)) {
        if (name !== 'info' && name !== 'config') calls[name!] = Number(c);
      }
      // 40 verifies, 16 per script call: 3 calls, and still one HMGET per verify.
      expect(calls.evalsha).toBe(3);
      expect(calls.hmget).toBe(n);
      expect(calls.evalsha).toBeLessThan(n);
      settled.forEach((r, i) => {
        if (i === 7) {
          expect(r.status).toBe('rejected');
          expect(r.status === 'rejected' && r.reason).toMatchObject({ code: OtpErrorCode.UNAVAILABLE });
          return;
        }
        expect(r).toEqual({
          status: 'fulfilled',
          value:
            i % 2
              ? { status: 'mismatch', challengeId: `id${i}`, attempts: 1 }
              : { status: 'verified', challengeId: `id${i}`, attempts: 0 },
        });
      });
      // Each call's writes are its own: consumed, counted, or (the failed one) none.
      expect(await own.exists(otpRedisKeys.challenge('batch:', 'k0'))).toBe(0);
      expect(await own.hget(otpRedisKeys.challenge('batch:', 'k1'), 'a')).toBe('1');
      expect(await own.get(otpRedisKeys.challenge('batch:', 'k7'))).toBe('not a hash');
      // A batch whose script the server lost (SCRIPT FLUSH) runs by EVAL, once, and answers every call.
      await own.script('FLUSH');
      const again = await Promise.all(
        [1, 3, 5, 9, 11].map((k) => s.verify({ challengeKey: `k${k}`, codeHash: 'x', now: T0 + 2 })),
      );
      expect(again.map((r) => r.status)).toEqual(Array(5).fill('mismatch'));
    } finally {
      own.disconnect();
    }
  });

  it('rejects calls after close and a client without evalsha before any I/O', async () => {
    const s = redisOtpStore({ client, keyPrefix: redis.prefix });
    await s.close();
    await expect(s.verify({ challengeKey: 'k', codeHash: 'h', now: 0 })).rejects.toMatchObject({
      code: 'CLOSED',
    });
    expect(() => redisOtpStore({ client: {} as never })).toThrow(/ioredis client/);
  });
});

describe('redisOtpStore on ioredis-mock', () => {
  const mock = new RedisMock();
  otpStoreContract({
    describe,
    it,
    expect,
    name: 'ioredis-mock',
    create: () => redisOtpStore({ client: mock as unknown as Redis, keyPrefix: 'mock:' }),
    inspect: () => readPrefix(mock as unknown as Redis, 'mock:'),
  });
});
