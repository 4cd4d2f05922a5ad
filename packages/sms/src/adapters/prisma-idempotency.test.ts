import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { isSmsError, SmsError, SmsErrorCode } from '../errors.js';
import { createSmsService } from '../service.js';
import type { SmsSendResult } from '../types.js';
import { memorySmsProvider } from './memory.js';
import { prismaSmsIdempotencyStore } from './prisma.js';

// The store itself is proven in @app/delivery (src/adapters/prisma.test.ts); this is the service on it.
const db = await requirePostgres({ migrations: ['delivery'] });
const TO = '+14155550123';

async function rows(key: string): Promise<Array<{ result: SmsSendResult | null }>> {
  const answer = await db.query<{ result: SmsSendResult | null }>(
    'SELECT result FROM app_delivery_idempotency WHERE key = $1',
    [key],
  );
  return answer.rows;
}

describe.skipIf(!db.available)('the SMS service on the Postgres idempotency store', () => {
  const prisma = createTestPrisma(db);

  it('a retried send through the Postgres store sends once', async () => {
    const failures = [new SmsError(SmsErrorCode.PROVIDER_UNAVAILABLE, 'down')];
    const outbox = memorySmsProvider({
      beforeSend: () => {
        const next = failures.shift();
        if (next) throw next;
      },
    });
    const sms = createSmsService({
      providers: { memory: outbox },
      retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2 },
      idempotency: { store: prismaSmsIdempotencyStore({ prisma }) },
    });
    await expect(sms.send(TO, 'code 1', { idempotencyKey: 'svc-1' })).rejects.toThrow();
    expect(await rows('sms:svc-1')).toEqual([]);
    const first = await sms.send(TO, 'code 1', { idempotencyKey: 'svc-1' });
    const again = await Promise.all(
      Array.from({ length: 20 }, () => sms.send(TO, 'code 1', { idempotencyKey: 'svc-1' })),
    );
    expect(outbox.messages()).toHaveLength(1);
    for (const r of again) expect(r).toMatchObject({ id: first.id, duplicate: true });
    expect((await rows('sms:svc-1'))[0]?.result).toMatchObject({ id: first.id });
    await expect(sms.send(TO, 'code 2', { idempotencyKey: 'svc-1' })).rejects.toSatisfy((e: unknown) =>
      isSmsError(e, SmsErrorCode.IDEMPOTENCY_KEY_REUSED),
    );
    await sms.close();
  });
});
