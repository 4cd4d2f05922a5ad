import { requireRedis } from '@app/test-harness';
import RedisMock from 'ioredis-mock';
import { afterAll, describe, expect, it } from 'vitest';
import { createEmailService } from '../service.js';
import { startFakeSendgrid } from '../test/fake-http.js';
import { emailStatusStoreContract } from '../testing.js';
import { redisEmailIdempotencyStore, redisEmailStatusStore } from './redis.js';
import { sendgridProvider } from './sendgrid.js';

const redis = await requireRedis();
const t = { describe, it, expect };

describe.skipIf(!redis.available)('Redis stores on real Redis', () => {
  const client = redis.client();
  const keyPrefix = redis.prefix;
  emailStatusStoreContract({
    ...t,
    name: 'redis',
    create: () => redisEmailStatusStore({ client, keyPrefix }),
  });

  it('writes the status hash, event list and seen set under one hash tag, with a TTL', async () => {
    const store = redisEmailStatusStore({ client, keyPrefix, ttlMs: 60_000, maxEvents: 2 });
    const at = new Date('2030-01-01T00:00:00Z');
    for (const [i, status] of (['sent', 'delivered', 'opened'] as const).entries()) {
      await store.record({ id: `e${i}`, messageId: 'm-1', status, provider: 'ses', timestamp: at });
    }
    expect(await client.hgetall(`${keyPrefix}{m-1}:status`)).toEqual({
      status: 'opened',
      rank: '4',
      provider: 'ses',
      updatedAt: String(at.getTime()),
    });
    const events = (await client.lrange(`${keyPrefix}{m-1}:events`, 0, -1)).map((s) => JSON.parse(s).status);
    expect(events).toEqual(['delivered', 'opened']);
    expect((await client.smembers(`${keyPrefix}{m-1}:seen`)).sort()).toEqual(['e0', 'e1', 'e2']);
    const ttl = await client.pttl(`${keyPrefix}{m-1}:status`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('two service instances (two "processes") sharing Redis send once for 200 concurrent retries', async () => {
    const fake = await startFakeSendgrid({ delayMs: 20 });
    const make = () =>
      createEmailService({
        providers: { sendgrid: sendgridProvider({ apiKey: 'SG.test-key', baseUrl: fake.url }) },
        defaultFrom: 'app@example.com',
        statusStore: redisEmailStatusStore({ client, keyPrefix }),
        idempotency: { store: redisEmailIdempotencyStore({ client: redis.client(), keyPrefix }), pollMs: 5 },
      });
    const [a, b] = [make(), make()];
    try {
      const msg = { to: 'ada@example.com', subject: 'Receipt', text: 'Thanks' };
      const results = await Promise.all(
        Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).send(msg, { idempotencyKey: 'receipt-7' })),
      );
      expect(fake.requests).toHaveLength(1);
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      expect(await a.getStatus(results[0]?.id ?? '')).toBe('queued');
      expect(await b.getStatus(results[0]?.id ?? '')).toBe('queued');
    } finally {
      await Promise.all([a.close(), b.close()]);
      await fake.close();
    }
  });
});

describe('Redis stores on ioredis-mock', () => {
  // ioredis-mock runs Lua through fengari; it covers SET NX PX, hashes, lists and sets as used here.
  const client = new RedisMock();
  afterAll(() => client.disconnect());
  emailStatusStoreContract({ ...t, name: 'ioredis-mock', create: () => redisEmailStatusStore({ client }) });
});
