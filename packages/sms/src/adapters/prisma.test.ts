import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { isSmsError, SmsErrorCode } from '../errors.js';
import { createSmsService } from '../service.js';
import { statusRank } from '../status.js';
import { smsStatusStoreContract } from '../testing.js';
import type { SmsStatus } from '../types.js';
import { memorySmsProvider } from './memory.js';
import { prismaSmsStatusStore } from './prisma.js';

const db = await requirePostgres({ migrations: ['sms'] });
const TO = '+14155550123';

type Row = {
  message_id: string;
  status: string;
  rank: number;
  provider: string | null;
  recipient: string | null;
  error_code: string | null;
  updated_at: Date;
};

async function rows(id: string): Promise<Row[]> {
  const result = await db.query<Row>(
    'SELECT message_id, status, rank, provider, recipient, error_code, updated_at FROM app_sms_status WHERE message_id = $1',
    [id],
  );
  return result.rows;
}

// A deterministic shuffle (no Math.random in assertions' inputs).
function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe.skipIf(!db.available)('prismaSmsStatusStore on real Postgres', () => {
  const prisma = createTestPrisma(db);

  smsStatusStoreContract({
    describe,
    it,
    expect,
    name: 'prisma',
    create: () => prismaSmsStatusStore({ prisma }),
  });

  it('writes one row per message, merging fields, with the rank and a millisecond timestamp', async () => {
    const store = prismaSmsStatusStore({ prisma });
    await store.record({ id: 'SMrow', status: 'queued', provider: 'twilio', to: TO, at: 1_700_000_000_123 });
    expect(await rows('SMrow')).toEqual([
      {
        message_id: 'SMrow',
        status: 'queued',
        rank: 1,
        provider: 'twilio',
        recipient: TO,
        error_code: null,
        updated_at: new Date(1_700_000_000_123),
      },
    ]);
    const result = await store.record({
      id: 'SMrow',
      status: 'undelivered',
      errorCode: '30003',
      at: 1_700_000_005_000,
    });
    expect(result.applied).toBe(true);
    expect(await rows('SMrow')).toEqual([
      {
        message_id: 'SMrow',
        status: 'undelivered',
        rank: 4,
        provider: 'twilio',
        recipient: TO,
        error_code: '30003',
        updated_at: new Date(1_700_000_005_000),
      },
    ]);
  });

  it('leaves the row untouched on a duplicate or late callback', async () => {
    const store = prismaSmsStatusStore({ prisma });
    await store.record({ id: 'SMdup', status: 'sent', provider: 'twilio', at: 5000 });
    const before = await rows('SMdup');
    const xmin = async () =>
      (
        await db.query<{ xmin: string }>('SELECT xmin::text FROM app_sms_status WHERE message_id = $1', [
          'SMdup',
        ])
      ).rows[0]?.xmin;
    const version = await xmin();
    // A replay of the same callback, a late one, and a duplicate carrying new fields: none is stored.
    expect((await store.record({ id: 'SMdup', status: 'sent', provider: 'twilio', at: 5000 })).applied).toBe(
      false,
    );
    expect((await store.record({ id: 'SMdup', status: 'queued', at: 6000 })).applied).toBe(false);
    expect(
      (await store.record({ id: 'SMdup', status: 'sent', to: TO, errorCode: '1', at: 7000 })).applied,
    ).toBe(false);
    expect(await rows('SMdup')).toEqual(before);
    // No new row version was written either.
    expect(await xmin()).toBe(version);
    const count = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM app_sms_status WHERE message_id = 'SMdup'",
    );
    expect(count.rows[0]?.n).toBe(1);
  });

  it('ends at the most advanced status after 200 concurrent out-of-order updates from two clients', async () => {
    const other = createTestPrisma(db);
    const stores = [prismaSmsStatusStore({ prisma }), prismaSmsStatusStore({ prisma: other })];
    const id = 'SMrace';
    // 199 non-final updates in random order, with exactly one final status among them.
    const early: SmsStatus[] = ['queued', 'sending', 'sent'];
    const statuses = shuffled(
      [...Array.from({ length: 199 }, (_, i) => early[i % 3] as SmsStatus), 'delivered' as SmsStatus],
      42,
    );
    const updates = statuses.map((status, i) => ({ id, status, provider: 'twilio', at: 10_000 + i }));
    const results = await Promise.all(updates.map((u, i) => stores[i % 2]?.record(u)));

    const [row] = await rows(id);
    expect(row).toMatchObject({ status: 'delivered', rank: 4 });
    const final = updates.find((u) => u.status === 'delivered');
    expect(row?.updated_at).toEqual(new Date(final?.at ?? 0));

    const applied = results.filter((r) => r?.applied);
    // Each rank was applied at most once (a status never moved back or sideways), the final one exactly once.
    expect(new Set(applied.map((r) => statusRank(r?.record.status ?? 'queued'))).size).toBe(applied.length);
    expect(applied.filter((r) => r?.record.status === 'delivered')).toHaveLength(1);
    // A rejected update answers a stored status at least as advanced as itself, never a stale one.
    results.forEach((r, i) => {
      expect(r?.record.id).toBe(id);
      if (!r?.applied) {
        expect(statusRank(r?.record.status ?? 'queued')).toBeGreaterThanOrEqual(
          statusRank(updates[i]?.status ?? 'failed'),
        );
      }
    });
  });

  it('answers the stored record when concurrent first updates of a new message collide', async () => {
    const other = createTestPrisma(db);
    const stores = [prismaSmsStatusStore({ prisma }), prismaSmsStatusStore({ prisma: other })];
    const ids = Array.from({ length: 40 }, (_, i) => `SMfirst${i}`);
    const results = await Promise.all(
      ids.flatMap((id) =>
        (['sent', 'sent', 'queued', 'sent'] as SmsStatus[]).map((status, j) =>
          stores[j % 2]?.record({ id, status, at: 1000 + j }),
        ),
      ),
    );
    for (const id of ids) {
      const mine = results.filter((r) => r?.record.id === id);
      expect(mine).toHaveLength(4);
      const sentApplied = mine.filter((r) => r?.applied && r.record.status === 'sent');
      expect(sentApplied).toHaveLength(1);
      // Every update that was not applied lost to the applied 'sent', and answers it.
      for (const r of mine.filter((x) => !x?.applied)) {
        expect(r?.record).toMatchObject({ id, status: 'sent' });
      }
      expect(await rows(id)).toMatchObject([{ status: 'sent', rank: 3 }]);
    }
  });

  it('keeps what the service records and answers getStatus from Postgres', async () => {
    const outbox = memorySmsProvider();
    const sms = createSmsService({
      providers: { memory: outbox },
      statusStore: prismaSmsStatusStore({ prisma }),
    });
    const sent = await sms.send(TO, 'hello');
    expect(await rows(sent.id)).toMatchObject([
      { message_id: sent.id, status: 'queued', rank: 1, provider: 'memory', recipient: TO },
    ]);
    expect(await sms.getStatus(sent.id)).toMatchObject({ id: sent.id, status: 'queued', to: TO });
    await sms.close();
    // The service leaves a store it was given open.
    expect(await prismaSmsStatusStore({ prisma }).get(sent.id)).toMatchObject({ status: 'queued' });
  });

  it('purges statuses last updated before a date', async () => {
    const store = prismaSmsStatusStore({ prisma });
    await store.record({ id: 'SMold', status: 'delivered', at: Date.UTC(2001, 0, 1) });
    await store.record({ id: 'SMnew', status: 'delivered', at: Date.UTC(2031, 0, 1) });
    const purged = await store.purgeUpdatedBefore(new Date(Date.UTC(2002, 0, 1)));
    expect(purged).toBeGreaterThanOrEqual(1);
    expect(await rows('SMold')).toEqual([]);
    expect(await rows('SMnew')).toHaveLength(1);
    await expect(store.purgeUpdatedBefore(new Date(Number.NaN))).rejects.toMatchObject({
      code: SmsErrorCode.INVALID_OPTIONS,
    });
  });

  it('rejects an invalid time before any I/O', async () => {
    const store = prismaSmsStatusStore({ prisma });
    const error = await store
      .record({ id: 'SMbadtime', status: 'sent', at: Number.NaN })
      .catch((e: unknown) => e);
    expect(isSmsError(error, SmsErrorCode.INVALID_CALLBACK)).toBe(true);
    expect(await rows('SMbadtime')).toEqual([]);
  });
});

describe('prismaSmsStatusStore options', () => {
  it('rejects a client without the SmsStatus model or $queryRaw at creation', () => {
    for (const prisma of [undefined, {}, { $queryRaw: async () => [] }, { smsStatus: {} }]) {
      const error = (() => {
        try {
          prismaSmsStatusStore({ prisma: prisma as never });
        } catch (e) {
          return e;
        }
      })();
      expect(isSmsError(error, SmsErrorCode.INVALID_OPTIONS)).toBe(true);
    }
    expect(() => prismaSmsStatusStore(undefined as never)).toThrow(/SmsStatus model/);
  });
});
