import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { DeliveryErrorCode } from '../errors.js';
import { prismaStoreSuites } from './prisma.fixture.js';
import type { PrismaDeliveryRawClient } from './prisma.js';
import { prismaIdempotencyStore, prismaStatusStore } from './prisma.js';

const db = await requirePostgres({ migrations: ['delivery'] });
const result = { id: 'SM1', status: 'queued', provider: 'twilio' };

type Row = {
  key: string;
  token: string | null;
  fingerprint: string;
  result: typeof result | null;
  expires_at: Date;
};

async function rows(key: string): Promise<Row[]> {
  const answer = await db.query<Row>(
    'SELECT key, token, fingerprint, result, expires_at FROM app_delivery_idempotency WHERE key = $1',
    [key],
  );
  return answer.rows;
}

describe('prismaIdempotencyStore: options', () => {
  it('refuses a missing client, a bad clock or an unknown database before any I/O', () => {
    expect(() => prismaIdempotencyStore({} as never)).toThrow(
      expect.objectContaining({ code: DeliveryErrorCode.INVALID_OPTIONS }),
    );
    const prisma = createTestPrisma(db);
    expect(() => prismaIdempotencyStore({ prisma, now: 5 as never })).toThrow(
      expect.objectContaining({ code: DeliveryErrorCode.INVALID_OPTIONS }),
    );
    // A wrapper exposing only the raw methods: the database cannot be read from it.
    const wrapped = {
      $queryRaw: prisma.$queryRaw.bind(prisma),
      $executeRaw: prisma.$executeRaw.bind(prisma),
      $queryRawUnsafe: prisma.$queryRawUnsafe.bind(prisma),
      $executeRawUnsafe: prisma.$executeRawUnsafe.bind(prisma),
      $transaction: prisma.$transaction.bind(prisma),
    } as PrismaDeliveryRawClient;
    expect(() => prismaStatusStore({ prisma: wrapped })).toThrow(/pass option 'provider'/);
    expect(() => prismaStatusStore({ prisma: wrapped, provider: 'oracle' as never })).toThrow(
      expect.objectContaining({ code: DeliveryErrorCode.INVALID_OPTIONS }),
    );
    expect(() => prismaStatusStore({ prisma: wrapped, provider: 'postgresql' })).not.toThrow();
  });
});

describe.skipIf(!db.available)('prismaIdempotencyStore on real Postgres', () => {
  const prisma = createTestPrisma(db);
  prismaStoreSuites({
    name: 'postgresql',
    prisma,
    other: createTestPrisma(db),
    column: async (table, column) =>
      (await db.query<{ v: string }>(`SELECT ${column} AS v FROM ${table}`)).rows.map((r) => r.v),
  });

  it('writes the reservation, then the result, in one row (read back with SQL)', async () => {
    const at = Date.parse('2031-01-01T00:00:00.000Z');
    const store = prismaIdempotencyStore({ prisma, now: () => at });
    const r = await store.reserve('rows-1', 'fp1', 30_000);
    if (!r.acquired) throw new Error('expected to acquire');
    expect(await rows('rows-1')).toEqual([
      { key: 'rows-1', token: r.token, fingerprint: 'fp1', result: null, expires_at: new Date(at + 30_000) },
    ]);
    await store.complete('rows-1', r.token, result, 3_600_000);
    expect(await rows('rows-1')).toEqual([
      { key: 'rows-1', token: null, fingerprint: 'fp1', result, expires_at: new Date(at + 3_600_000) },
    ]);
    await store.release('rows-1', r.token);
    expect(await rows('rows-1')).toHaveLength(1);
  });

  it('takes over an expired reservation but never a live one (injected clock)', async () => {
    let t = Date.parse('2031-01-01T00:00:00.000Z');
    const store = prismaIdempotencyStore({ prisma, now: () => t });
    const first = await store.reserve('exp-1', 'fp1', 1000);
    if (!first.acquired) throw new Error('expected to acquire');
    t += 999;
    expect(await store.reserve('exp-1', 'fp2', 1000)).toEqual({
      acquired: false,
      existing: { state: 'pending', fingerprint: 'fp1' },
    });
    t += 1;
    const second = await store.reserve('exp-1', 'fp2', 1000);
    if (!second.acquired) throw new Error('expected to take over');
    // The first holder lost the key: its late completion or release must not touch the new reservation.
    await store.complete('exp-1', first.token, result, 60_000);
    await store.release('exp-1', first.token);
    expect(await rows('exp-1')).toEqual([
      { key: 'exp-1', token: second.token, fingerprint: 'fp2', result: null, expires_at: new Date(t + 1000) },
    ]);
    // A completion after its own reservation expired is refused too.
    t += 1000;
    await store.complete('exp-1', second.token, result, 60_000);
    expect((await rows('exp-1'))[0]?.result).toBeNull();
  });

  it('expires by the database clock by default; purgeExpired deletes expired rows only', async () => {
    const store = prismaIdempotencyStore({ prisma });
    expect((await store.reserve('dbclock-1', 'fp', 60_000)).acquired).toBe(true);
    const [row] = await rows('dbclock-1');
    const { rows: clock } = await db.query<{ now: Date }>('SELECT now() AS now');
    const left = (row?.expires_at.getTime() ?? 0) - (clock[0]?.now.getTime() ?? 0);
    expect(left).toBeGreaterThan(50_000);
    expect(left).toBeLessThanOrEqual(60_000);
    expect((await store.reserve('dbclock-1', 'fp', 60_000)).acquired).toBe(false);
    await db.query(
      "UPDATE app_delivery_idempotency SET expires_at = now() - interval '1 second' WHERE key = $1",
      ['dbclock-1'],
    );
    expect((await store.reserve('dbclock-1', 'fp', 60_000)).acquired).toBe(true);
    await db.query(
      "INSERT INTO app_delivery_idempotency (key, fingerprint, expires_at) VALUES ('dbclock-old', 'fp', now() - interval '1 second')",
    );
    expect(await store.purgeExpired()).toBeGreaterThanOrEqual(1);
    expect(await rows('dbclock-old')).toEqual([]);
    expect(await rows('dbclock-1')).toHaveLength(1);
  });
});
