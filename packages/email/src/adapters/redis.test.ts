import { channelIdempotencyContract, scanRedisKeys } from '@app/delivery/testing';
import { requireRedis } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { createEmailService } from '../service.js';
import { recordDeliveryEvents } from '../status.js';
import { emailSubject } from '../test/channel-subject.js';
import { startFakeSendgrid } from '../test/fake-http.js';
import { redisEmailIdempotencyStore, redisEmailStatusStore } from './redis.js';
import { sendgridProvider } from './sendgrid.js';

// The stores themselves are proven in @app/delivery (one node, cluster, outage); this is the service on them.
const redis = await requireRedis();

describe.skipIf(!redis.available)('the email service on the Redis stores', () => {
  const client = redis.client();
  const keyPrefix = redis.prefix;

  channelIdempotencyContract({
    describe,
    it,
    expect,
    name: 'email on redis',
    namespace: 'email:',
    create: () => emailSubject(redisEmailIdempotencyStore({ client, keyPrefix })),
    inspect: async () => (await scanRedisKeys(client, keyPrefix)).map((k) => k.replace(/[{}]/g, '')),
  });

  it('keeps statuses under the email prefix, one hash tag per message', async () => {
    const store = redisEmailStatusStore({ client, keyPrefix: `${keyPrefix}email:` });
    await recordDeliveryEvents(
      [{ id: 'e0', messageId: 'm-1', status: 'sent', provider: 'ses', timestamp: new Date(5) }],
      { store },
    );
    expect(await client.hget(`${keyPrefix}email:{m-1}:status`, 's')).toBe('sent');
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
