import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { createEmailService } from '../service.js';
import { recordDeliveryEvents } from '../status.js';
import type { SendResult } from '../types.js';
import { memoryEmailProvider } from './memory.js';
import { prismaEmailIdempotencyStore, prismaEmailStatusStore } from './prisma.js';

// The stores themselves are proven in @app/delivery on PostgreSQL, MariaDB and SQLite; this is the service on them.
const db = await requirePostgres({ migrations: ['delivery'] });

describe.skipIf(!db.available)('the email service on the Prisma stores (Postgres)', () => {
  const prisma = createTestPrisma(db);
  const msg = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };

  it('a retried send sends once; a failed one frees its key', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({
      providers: { memory },
      defaultFrom: 'a@example.com',
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 1 },
      idempotency: { store: prismaEmailIdempotencyStore({ prisma }), pollMs: 5 },
    });
    const rows = async (key: string) =>
      (
        await db.query<{ result: SendResult | null }>(
          'SELECT result FROM app_delivery_idempotency WHERE key = $1',
          [key],
        )
      ).rows;
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

  it('keeps the send status and webhook events in the shared tables, read back as e-mail records', async () => {
    const email = createEmailService({
      providers: { memory: memoryEmailProvider() },
      defaultFrom: 'a@example.com',
      statusStore: prismaEmailStatusStore({ prisma }),
    });
    const { id } = await email.send(msg);
    await recordDeliveryEvents(
      [
        {
          id: 'e1',
          messageId: id,
          status: 'bounced',
          provider: 'memory',
          timestamp: new Date(5000),
          reason: 'full',
        },
        { id: 'e2', messageId: id, status: 'delivered', provider: 'memory', timestamp: new Date(6000) },
      ],
      { store: email.statusStore },
    );
    expect(await email.getStatus(id)).toBe('bounced');
    const record = await email.getStatusRecord(id);
    expect(record?.events.map((e) => [e.status, e.reason])).toEqual([
      ['sent', undefined],
      ['bounced', 'full'],
      ['delivered', undefined],
    ]);
    const { rows } = await db.query('SELECT status, rank FROM app_delivery_status WHERE message_id = $1', [
      id,
    ]);
    expect(rows).toEqual([{ status: 'bounced', rank: 6 }]);
    await email.close();
  });
});
