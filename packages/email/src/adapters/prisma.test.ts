import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { emailStatusStoreContract } from '../testing.js';
import { prismaEmailStatusStore } from './prisma.js';

const db = await requirePostgres({ migrations: ['email'] });

describe.skipIf(!db.available)('prismaEmailStatusStore on real Postgres', () => {
  const prisma = createTestPrisma(db);
  emailStatusStoreContract({
    describe,
    it,
    expect,
    name: 'prisma',
    create: () => prismaEmailStatusStore({ prisma }),
  });

  it('writes one status row and one event row per distinct event', async () => {
    const store = prismaEmailStatusStore({ prisma });
    const at = new Date('2030-01-01T00:00:00.123Z');
    await store.record({
      id: 'e1',
      messageId: 'pm-1',
      status: 'delivered',
      provider: 'ses',
      timestamp: at,
      recipient: 'a@example.com',
    });
    await store.record({
      id: 'e2',
      messageId: 'pm-1',
      status: 'sent',
      provider: 'ses',
      timestamp: at,
      reason: 'late',
    });
    await store.record({ id: 'e2', messageId: 'pm-1', status: 'sent', provider: 'ses', timestamp: at });
    const status = await db.query(
      'SELECT message_id, status, rank, provider, updated_at FROM app_email_status WHERE message_id = $1',
      ['pm-1'],
    );
    expect(status.rows).toEqual([
      { message_id: 'pm-1', status: 'delivered', rank: 3, provider: 'ses', updated_at: at },
    ]);
    const events = await db.query(
      "SELECT id, status, recipient, reason FROM app_email_event WHERE message_id = 'pm-1' ORDER BY seq",
    );
    expect(events.rows).toEqual([
      { id: 'e1', status: 'delivered', recipient: 'a@example.com', reason: null },
      { id: 'e2', status: 'sent', recipient: null, reason: 'late' },
    ]);
  });
});
