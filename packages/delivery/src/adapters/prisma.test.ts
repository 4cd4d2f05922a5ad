import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { DeliveryErrorCode } from '../errors.js';
import { idempotencyStoreContract } from '../testing.js';
import type { PrismaDeliveryRawClient } from './prisma.js';
import { prismaIdempotencyStore } from './prisma.js';

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
  it('refuses a missing client or a bad clock before any I/O', () => {
    expect(() => prismaIdempotencyStore({} as never)).toThrow(
      expect.objectContaining({ code: DeliveryErrorCode.INVALID_OPTIONS }),
    );
    const prisma = { $queryRaw: () => Promise.resolve([]), $executeRaw: () => Promise.resolve(0) };
    expect(() =>
      prismaIdempotencyStore({ prisma: prisma as unknown as PrismaDeliveryRawClient, now: 5 as never }),
    ).toThrow(expect.objectContaining({ code: DeliveryErrorCode.INVALID_OPTIONS }));
  });
});

describe.skipIf(!db.available)('prismaIdempotencyStore on real Postgres', () => {
  const prisma = createTestPrisma(db);
  idempotencyStoreContract({
    describe,
    it,
    expect,
    name: 'prisma (database clock)',
    create: () => prismaIdempotencyStore({ prisma }),
    inspect: async () =>
      (await db.query<{ key: string }>('SELECT key FROM app_delivery_idempotency')).rows.map((r) => r.key),
  });
  let now = Date.parse('2030-01-01T00:00:00.000Z');
  idempotencyStoreContract({
    describe,
    it,
    expect,
    name: 'prisma (injected clock)',
    create: () => prismaIdempotencyStore({ prisma, now: () => now }),
    advanceTime: (ms) => {
      now += ms;
    },
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

  it('gives a key to exactly one of 1,000 concurrent reservations across two PrismaClients', async () => {
    const other = createTestPrisma(db);
    const stores = [prismaIdempotencyStore({ prisma }), prismaIdempotencyStore({ prisma: other })];
    const all = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => (stores[i % 2] ?? stores[0])?.reserve('race-1', 'fp', 60_000)),
    );
    const winners = all.filter((r) => r?.acquired === true);
    expect(winners).toHaveLength(1);
    for (const r of all.filter((x) => x?.acquired === false)) {
      expect(r).toEqual({ acquired: false, existing: { state: 'pending', fingerprint: 'fp' } });
    }
    const stored = await rows('race-1');
    expect(stored).toHaveLength(1);
    expect(stored[0]?.token).toBe(winners[0]?.acquired ? winners[0].token : 'none');
  });
});
