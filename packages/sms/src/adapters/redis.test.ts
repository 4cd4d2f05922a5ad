import { closeable } from '@app/core';
import { requireRedis } from '@app/test-harness';
import { describe, expect, it, vi } from 'vitest';
import { SmsErrorCode } from '../errors.js';
import { createSmsService } from '../service.js';
import { memorySmsProvider } from './memory.js';
import { redisSmsIdempotencyStore, redisSmsStatusStore } from './redis.js';

const redis = await requireRedis();
const TO = '+14155550123';

// The stores themselves are proven in @app/delivery (one node, cluster, outage); this is the service on them.
describe.skipIf(!redis.available)('the SMS service on the Redis stores', () => {
  const client = redis.client();
  const keyPrefix = redis.prefix;

  it('the service holds a pending key for idempotency.lockMs only: a dead sender frees it', async () => {
    const idempotencyStore = redisSmsIdempotencyStore({ client, keyPrefix });
    const dying = createSmsService({
      providers: { hung: closeable({ name: 'hung', send: () => new Promise<never>(() => {}) }) },
      idempotency: { store: idempotencyStore, lockMs: 20_000 },
    });
    void dying.send(TO, 'code', { idempotencyKey: 'dies' });
    const key = `${keyPrefix}{sms:dies}`;
    await vi.waitFor(async () => expect(await client.exists(key)).toBe(1));
    expect(await client.hget(key, 't')).toEqual(expect.any(String)); // pending: a holder's token
    const pttl = await client.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(20_000);
    // Once sent, the result is kept for idempotency.ttlMs.
    const sms = createSmsService({
      providers: { memory: memorySmsProvider() },
      idempotency: { store: idempotencyStore, ttlMs: 3_600_000 },
    });
    await client.del(key); // as if the lock had expired
    await sms.send(TO, 'code', { idempotencyKey: 'dies' });
    expect(await client.pttl(key)).toBeGreaterThan(20_000);
  });

  it('sends once across two services (two processes) sharing Redis, under 1,000 concurrent calls', async () => {
    const outboxA = memorySmsProvider();
    const outboxB = memorySmsProvider();
    const make = (outbox: typeof outboxA) =>
      createSmsService({
        providers: { memory: outbox },
        idempotency: { store: redisSmsIdempotencyStore({ client: redis.client(), keyPrefix }) },
        statusStore: redisSmsStatusStore({ client: redis.client(), keyPrefix }),
      });
    const a = make(outboxA);
    const b = make(outboxB);
    const results = await Promise.allSettled(
      Array.from({ length: 1000 }, (_, i) =>
        (i % 2 ? a : b).send(TO, 'code 777', { idempotencyKey: 'otp:shared' }),
      ),
    );
    const rejected = results.filter((r) => r.status === 'rejected');
    expect(outboxA.messages().length + outboxB.messages().length).toBe(1);
    for (const r of rejected) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({
        code: SmsErrorCode.IDEMPOTENCY_IN_PROGRESS,
      });
    }
    const [sent] = [...outboxA.messages(), ...outboxB.messages()];
    const again = await a.send(TO, 'code 777', { idempotencyKey: 'otp:shared' });
    expect(again).toMatchObject({ id: sent?.id, duplicate: true });
    // Either service sees the status the other recorded.
    expect(await b.getStatus(sent?.id ?? '')).toMatchObject({ status: 'queued', to: TO });
    await Promise.all([a.close(), b.close()]);
  });

  it('rejects a missing client at creation', () => {
    expect(() => redisSmsStatusStore({ client: undefined as never })).toThrow(/ioredis client/);
    expect(() => redisSmsIdempotencyStore({} as never)).toThrow(/ioredis client/);
  });
});
