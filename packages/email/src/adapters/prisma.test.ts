import { channelIdempotencyContract } from '@app/delivery/testing';
import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { createEmailService } from '../service.js';
import { recordDeliveryEvents } from '../status.js';
import { emailSubject } from '../test/channel-subject.js';
import { memoryEmailProvider } from './memory.js';
import { prismaEmailIdempotencyStore, prismaEmailStatusStore } from './prisma.js';

// The stores themselves are proven in @app/delivery on PostgreSQL, MariaDB and SQLite; this is the service on them.
const db = await requirePostgres({ migrations: ['delivery'] });

describe.skipIf(!db.available)('the email service on the Prisma stores (Postgres)', () => {
  const prisma = createTestPrisma(db);
  const msg = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };

  channelIdempotencyContract({
    describe,
    it,
    expect,
    name: 'email on prisma',
    namespace: 'email:',
    create: () => emailSubject(prismaEmailIdempotencyStore({ prisma })),
    inspect: async () =>
      (await db.query<{ key: string }>('SELECT key FROM app_delivery_idempotency')).rows.map((r) => r.key),
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
