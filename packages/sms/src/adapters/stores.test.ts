import { once } from 'node:events';
import type { DeliveryStatusStore, IdempotencyStore } from '@app/delivery';
import { channelIdempotencyContract, scanRedisKeys as scanKeys } from '@app/delivery/testing';
import { requirePostgres, requireRedis, startRedisServer } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import Redis from 'ioredis';
import { describe, expect, it } from 'vitest';

import { isSmsError, SmsError, SmsErrorCode } from '../errors.js';
import { createSmsService } from '../service.js';
import { isFinalStatus, statusRank } from '../status.js';
import type { SmsStatus } from '../types.js';
import { memoryIdempotencyStore, memorySmsProvider, memoryStatusStore } from './memory.js';
import { prismaIdempotencyStore, prismaStatusStore } from './prisma.js';
import { redisIdempotencyStore, redisSmsStatusStore } from './redis.js';

// The stores are proven in @app/delivery (every backend, cluster, outage, three databases); this is the
// SMS service on each of them: idempotent sends, and statuses that only move forward.
const [redis, db] = await Promise.all([requireRedis(), requirePostgres({ migrations: ['delivery'] })]);
const TO = '+14155550123';
const t = { describe, it, expect };

function smsSubject(idempotency: IdempotencyStore, statusStore?: DeliveryStatusStore) {
  const failures: SmsError[] = [];
  const outbox = memorySmsProvider({
    beforeSend: () => {
      const next = failures.shift();
      if (next) throw next;
    },
  });
  const sms = createSmsService({
    providers: { memory: outbox },
    retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2 },
    idempotency: { store: idempotency },
    statusStore,
  });
  return {
    send: (key: string, variant: 0 | 1 = 0) => sms.send(TO, `code ${variant}`, { idempotencyKey: key }),
    failNext: () => failures.push(new SmsError(SmsErrorCode.PROVIDER_UNAVAILABLE, 'down')),
    sent: () => outbox.messages().length,
    isConflict: (e: unknown) => isSmsError(e, SmsErrorCode.IDEMPOTENCY_KEY_REUSED),
    close: () => sms.close(),
    sms,
  };
}

/** The SMS status rules, through the service, on one status store (they were the SMS status contract). */
function smsStatusRules(name: string, create: () => DeliveryStatusStore): void {
  let n = 0;
  const id = () => `SM${Date.now().toString(36)}${(n++).toString(36)}`;
  const service = () =>
    createSmsService({ providers: { memory: memorySmsProvider() }, statusStore: create() });
  describe(`SMS statuses on ${name}`, () => {
    it('keeps every field of an update and merges later ones', async () => {
      const sms = service();
      const sid = id();
      expect(
        await sms.recordStatus({ id: sid, status: 'queued', provider: 'twilio', to: TO, at: 1000 }),
      ).toEqual({
        applied: true,
        record: { id: sid, status: 'queued', provider: 'twilio', to: TO, updatedAt: 1000 },
      });
      await sms.recordStatus({ id: sid, status: 'undelivered', errorCode: '30003', at: 2000 });
      expect(await sms.getStatus(sid)).toEqual({
        id: sid,
        status: 'undelivered',
        provider: 'twilio',
        to: TO,
        errorCode: '30003',
        updatedAt: 2000,
      });
    });
    it('never moves a status back and does not apply duplicates; the first final status wins', async () => {
      const sms = service();
      const sid = id();
      expect((await sms.recordStatus({ id: sid, status: 'delivered', at: 3000 })).applied).toBe(true);
      const late = await sms.recordStatus({ id: sid, status: 'sent', at: 4000 });
      expect(late).toEqual({ applied: false, record: { id: sid, status: 'delivered', updatedAt: 3000 } });
      expect((await sms.recordStatus({ id: sid, status: 'delivered', at: 5000 })).applied).toBe(false);
      expect((await sms.recordStatus({ id: sid, status: 'failed', at: 6000 })).applied).toBe(false);
      expect(await sms.getStatus(sid)).toEqual({ id: sid, status: 'delivered', updatedAt: 3000 });
    });
    it('stays consistent under 500 concurrent updates of one message', async () => {
      const sms = service();
      const sid = id();
      const order: SmsStatus[] = ['queued', 'sending', 'sent', 'delivered'];
      const results = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          sms.recordStatus({ id: sid, status: order[i % 4] as SmsStatus }),
        ),
      );
      const applied = results.filter((r) => r.applied).map((r) => r.record.status);
      // Each rank can be applied at most once, and the final status is applied exactly once.
      expect(new Set(applied.map(statusRank)).size).toBe(applied.length);
      expect(applied.filter(isFinalStatus)).toEqual(['delivered']);
      expect((await sms.getStatus(sid)).status).toBe('delivered');
    });
    it('rejects a malformed update', async () => {
      const sms = service();
      for (const bad of [
        { id: '', status: 'sent' },
        { id: id(), status: 'lost' },
      ]) {
        const error = await sms.recordStatus(bad as never).catch((e: unknown) => e);
        expect(isSmsError(error, SmsErrorCode.INVALID_CALLBACK)).toBe(true);
      }
    });
  });
}

channelIdempotencyContract({
  ...t,
  name: 'sms on memory',
  create: () => smsSubject(memoryIdempotencyStore()),
});
smsStatusRules('memory', () => memoryStatusStore());

describe.skipIf(!redis.available)('the SMS service on the Redis stores', () => {
  const client = redis.client();
  channelIdempotencyContract({
    ...t,
    name: 'sms on redis',
    namespace: 'sms:',
    create: () => smsSubject(redisIdempotencyStore({ client, keyPrefix: redis.prefix })),
    inspect: async () => (await scanKeys(client, redis.prefix)).map((k) => k.replace(/[{}]/g, '')),
  });
  smsStatusRules('redis', () => redisSmsStatusStore({ client, keyPrefix: redis.prefix }));
});

describe.skipIf(!db.available)('the SMS service on the Prisma stores (Postgres)', () => {
  const prisma = createTestPrisma(db);
  channelIdempotencyContract({
    ...t,
    name: 'sms on prisma',
    namespace: 'sms:',
    create: () => smsSubject(prismaIdempotencyStore({ prisma })),
    inspect: async () =>
      (await db.query<{ key: string }>('SELECT key FROM app_delivery_idempotency')).rows.map((r) => r.key),
  });
  smsStatusRules('prisma', () => prismaStatusStore({ prisma }));
});

describe.skipIf(!redis.available)('the SMS service during a Redis outage', () => {
  it('fails a keyed send with SmsError STORE_UNAVAILABLE within the bound, sending nothing', async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, { maxRetriesPerRequest: null });
    client.on('error', () => {}); // the outage is the point: ioredis reports every failed reconnect
    const subject = smsSubject(redisIdempotencyStore({ client }));
    try {
      await subject.send('before');
      const reconnecting = once(client, 'reconnecting');
      await server.stop();
      const started = Date.now();
      const error = await subject.send('during').catch((e: unknown) => e);
      expect(isSmsError(error, SmsErrorCode.STORE_UNAVAILABLE)).toBe(true);
      expect(Date.now() - started).toBeLessThan(5_000);
      expect(subject.sent()).toBe(1);
      await reconnecting;
    } finally {
      await subject.close();
      client.disconnect();
      await server.stop();
    }
  });
});
