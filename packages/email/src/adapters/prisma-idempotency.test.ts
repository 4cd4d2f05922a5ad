import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { EmailErrorCode } from '../errors.js';
import { createEmailService } from '../service.js';
import { emailIdempotencyStoreContract } from '../testing.js';
import { memoryEmailProvider } from './memory.js';
import type { PrismaEmailRawClient } from './prisma.js';
import { prismaEmailIdempotencyStore } from './prisma.js';

const db = await requirePostgres({ migrations: ['email'] });

type Row = { key: string; token: string | null; value: string | null; expires_at: Date };

async function rows(key: string): Promise<Row[]> {
  const result = await db.query<Row>(
    'SELECT key, token, value, expires_at FROM app_email_idempotency WHERE key = $1',
    [key],
  );
  return result.rows;
}

describe('prismaEmailIdempotencyStore: options', () => {
  it('refuses a missing client or a bad clock before any I/O', () => {
    expect(() => prismaEmailIdempotencyStore({} as never)).toThrow(
      expect.objectContaining({ code: EmailErrorCode.INVALID_OPTIONS }),
    );
    const prisma = { $queryRaw: () => Promise.resolve([]), $executeRaw: () => Promise.resolve(0) };
    expect(() =>
      prismaEmailIdempotencyStore({ prisma: prisma as unknown as PrismaEmailRawClient, now: 5 as never }),
    ).toThrow(expect.objectContaining({ code: EmailErrorCode.INVALID_OPTIONS }));
  });
});

describe.skipIf(!db.available)('prismaEmailIdempotencyStore on real Postgres', () => {
  const prisma = createTestPrisma(db);
  emailIdempotencyStoreContract({
    describe,
    it,
    expect,
    name: 'prisma',
    create: () => prismaEmailIdempotencyStore({ prisma }),
  });

  it('writes the reservation, then the result, in one row (read back with SQL)', async () => {
    const now = Date.parse('2030-01-01T00:00:00.000Z');
    const store = prismaEmailIdempotencyStore({ prisma, now: () => now });
    const begun = await store.begin('rows-1', 30_000);
    if (begun.state !== 'acquired') throw new Error('expected to acquire');
    expect(await rows('rows-1')).toEqual([
      { key: 'rows-1', token: begun.token, value: null, expires_at: new Date(now + 30_000) },
    ]);
    await store.complete('rows-1', begun.token, '{"r":1}', 3_600_000);
    expect(await rows('rows-1')).toEqual([
      { key: 'rows-1', token: null, value: '{"r":1}', expires_at: new Date(now + 3_600_000) },
    ]);
    await store.release('rows-1', begun.token);
    expect(await rows('rows-1')).toHaveLength(1);
  });

  it('takes over an expired reservation but never a live one (injected clock)', async () => {
    let now = Date.parse('2030-01-01T00:00:00.000Z');
    const store = prismaEmailIdempotencyStore({ prisma, now: () => now });
    const first = await store.begin('exp-1', 1000);
    if (first.state !== 'acquired') throw new Error('expected to acquire');
    now += 999;
    expect(await store.begin('exp-1', 1000)).toEqual({ state: 'pending' });
    now += 1;
    const second = await store.begin('exp-1', 1000);
    if (second.state !== 'acquired') throw new Error('expected to take over');
    // The first holder lost the key: its late completion or release must not touch the new reservation.
    await store.complete('exp-1', first.token, 'late', 60_000);
    await store.release('exp-1', first.token);
    expect(await rows('exp-1')).toEqual([
      { key: 'exp-1', token: second.token, value: null, expires_at: new Date(now + 1000) },
    ]);
    // A completion after its own reservation expired is refused too.
    now += 1000;
    await store.complete('exp-1', second.token, 'too late', 60_000);
    expect((await rows('exp-1'))[0]?.value).toBeNull();
  });

  it('expires by the database clock by default', async () => {
    const store = prismaEmailIdempotencyStore({ prisma });
    const first = await store.begin('dbclock-1', 60_000);
    expect(first.state).toBe('acquired');
    const [row] = await rows('dbclock-1');
    const { rows: clock } = await db.query<{ now: Date }>('SELECT now() AS now');
    const left = (row?.expires_at.getTime() ?? 0) - (clock[0]?.now.getTime() ?? 0);
    expect(left).toBeGreaterThan(50_000);
    expect(left).toBeLessThanOrEqual(60_000);
    expect(await store.begin('dbclock-1', 60_000)).toEqual({ state: 'pending' });
    await db.query(
      "UPDATE app_email_idempotency SET expires_at = now() - interval '1 second' WHERE key = $1",
      ['dbclock-1'],
    );
    expect((await store.begin('dbclock-1', 60_000)).state).toBe('acquired');
    await db.query(
      "INSERT INTO app_email_idempotency (key, value, expires_at) VALUES ('dbclock-old', 'x', now() - interval '1 second')",
    );
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await rows('dbclock-old')).toEqual([]);
    expect(await rows('dbclock-1')).toHaveLength(1);
  });

  it('gives a key to exactly one of 1,000 concurrent reservations across two PrismaClients', async () => {
    const other = createTestPrisma(db);
    const stores = [prismaEmailIdempotencyStore({ prisma }), prismaEmailIdempotencyStore({ prisma: other })];
    const results = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => (stores[i % 2] ?? stores[0])?.begin('race-1', 60_000)),
    );
    const winners = results.filter((r) => r?.state === 'acquired');
    expect(winners).toHaveLength(1);
    expect(results.filter((r) => r?.state === 'pending')).toHaveLength(999);
    const stored = await rows('race-1');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.token).toBe(winners[0]?.state === 'acquired' ? winners[0].token : 'none');
  });

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
    expect(await rows('svc-1')).toEqual([]);
    const first = await email.send(msg, { idempotencyKey: 'svc-1' });
    const again = await Promise.all(
      Array.from({ length: 20 }, () => email.send(msg, { idempotencyKey: 'svc-1' })),
    );
    expect(memory.messages()).toHaveLength(1);
    for (const r of again) expect(r).toEqual({ ...first, duplicate: true });
    expect(JSON.parse((await rows('svc-1'))[0]?.value ?? '{}').r.id).toBe(first.id);
    await email.close();
  });
});
