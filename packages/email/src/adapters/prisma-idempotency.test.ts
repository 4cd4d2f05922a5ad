import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { createEmailService } from '../service.js';
import type { SendResult } from '../types.js';
import { memoryEmailProvider } from './memory.js';
import { prismaEmailIdempotencyStore } from './prisma.js';

// The store itself is proven in @app/delivery (src/adapters/prisma.test.ts); this is the service on it.
const db = await requirePostgres({ migrations: ['delivery'] });

async function rows(key: string): Promise<Array<{ result: SendResult | null }>> {
  const answer = await db.query<{ result: SendResult | null }>(
    'SELECT result FROM app_delivery_idempotency WHERE key = $1',
    [key],
  );
  return answer.rows;
}

describe.skipIf(!db.available)('the email service on the Postgres idempotency store', () => {
  const prisma = createTestPrisma(db);

  it('a retried send through the Postgres store sends once', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({
      providers: { memory },
      defaultFrom: 'a@example.com',
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 1 },
      idempotency: { store: prismaEmailIdempotencyStore({ prisma }), pollMs: 5 },
    });
    const msg = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };
    memory.failNext('transient');
    await expect(email.send(msg, { idempotencyKey: 'svc-1' })).rejects.toThrow();
    expect(await rows('email:svc-1')).toEqual([]);
    const first = await email.send(msg, { idempotencyKey: 'svc-1' });
    const again = await Promise.all(
      Array.from({ length: 20 }, () => email.send(msg, { idempotencyKey: 'svc-1' })),
    );
    expect(memory.messages()).toHaveLength(1);
    for (const r of again) expect(r).toEqual({ ...first, duplicate: true });
    expect((await rows('email:svc-1'))[0]?.result?.id).toBe(first.id);
    await email.close();
  });
});
