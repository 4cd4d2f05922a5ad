import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { otpStoreContract } from '../testing.js';
import { prismaOtpStore } from './prisma.js';

const db = await requirePostgres({ migrations: ['otp'] });

/** Every row of both tables, read with SQL (not through the store), each value as a string. */
async function readTables(): Promise<string[]> {
  const out: string[] = [];
  for (const table of ['app_otp_challenges', 'app_otp_send_windows']) {
    const { rows } = await db.query(`SELECT * FROM ${table}`);
    for (const row of rows) {
      out.push(JSON.stringify(row));
      for (const value of Object.values(row)) {
        if (Array.isArray(value))
          out.push(...value.map((v) => (v instanceof Date ? v.toISOString() : String(v))));
        else out.push(value instanceof Date ? value.toISOString() : String(value));
      }
    }
  }
  return out;
}

describe.skipIf(!db.available)('prismaOtpStore on real Postgres', () => {
  const prisma = createTestPrisma(db);
  const transactionOptions = { maxWait: 30_000, timeout: 30_000 };
  const store = prismaOtpStore({ prisma, transactionOptions });

  otpStoreContract({
    describe,
    it,
    expect,
    name: 'prisma (Postgres)',
    create: () => prismaOtpStore({ prisma, transactionOptions }),
    inspect: readTables,
  });

  it('writes the documented columns: HMACs, counters and timestamps only', async () => {
    const now = Date.UTC(2030, 0, 1);
    await store.issue({
      challengeKey: 'shape-ck',
      destinationKey: 'shape-dk',
      ipKey: 'shape-ik',
      challengeId: 'shape-id',
      codeHash: 'shape-hash',
      now,
      expiresAt: now + 300_000,
      maxAttempts: 5,
      cooldownMs: 30_000,
      destinationLimit: { max: 5, windowMs: 3_600_000 },
      ipLimit: { max: 5, windowMs: 60_000 },
    });
    const { rows } = await db.query("SELECT * FROM app_otp_challenges WHERE key = 'shape-ck'");
    expect(rows).toEqual([
      {
        key: 'shape-ck',
        challenge_id: 'shape-id',
        code_hash: 'shape-hash',
        attempts: 0,
        max_attempts: 5,
        expires_at: new Date(now + 300_000),
        last_sent_at: new Date(now),
        consumed_at: null,
      },
    ]);
    const windows = await db.query(
      "SELECT key, hits, expires_at FROM app_otp_send_windows WHERE key LIKE '%shape-%' ORDER BY key",
    );
    expect(windows.rows).toEqual([
      { key: 'd:shape-dk', hits: [new Date(now)], expires_at: new Date(now + 3_600_000) },
      { key: 'i:shape-ik', hits: [new Date(now)], expires_at: new Date(now + 60_000) },
    ]);
    await store.verify({ challengeKey: 'shape-ck', codeHash: 'shape-hash', now: now + 1 });
    const used = await db.query("SELECT consumed_at FROM app_otp_challenges WHERE key = 'shape-ck'");
    expect(used.rows).toEqual([{ consumed_at: new Date(now + 1) }]);
  });

  it('purgeExpired deletes used and ended rows only', async () => {
    const now = Date.UTC(2031, 0, 1);
    const base = {
      destinationKey: 'purge-dk',
      codeHash: 'h',
      now,
      maxAttempts: 5,
      cooldownMs: 0,
      destinationLimit: { max: 10, windowMs: 60_000 },
    };
    await store.issue({
      ...base,
      challengeKey: 'purge-live',
      challengeId: 'p1',
      expiresAt: now + 10 * 86_400_000,
    });
    await store.issue({
      ...base,
      challengeKey: 'purge-used',
      challengeId: 'p2',
      expiresAt: now + 10 * 86_400_000,
    });
    await store.verify({ challengeKey: 'purge-used', codeHash: 'h', now });
    await store.purgeExpired(new Date(now + 86_400_000));
    const { rows } = await db.query("SELECT key FROM app_otp_challenges WHERE key LIKE 'purge-%'");
    expect(rows).toEqual([{ key: 'purge-live' }]);
    const windows = await db.query("SELECT key FROM app_otp_send_windows WHERE key = 'd:purge-dk'");
    expect(windows.rows).toEqual([]);
  });

  it('rejects a client without $queryRaw before any I/O, and calls after close', async () => {
    expect(() => prismaOtpStore({ prisma: {} as never })).toThrow(/PrismaClient/);
    const closed = prismaOtpStore({ prisma });
    await closed.close();
    await expect(closed.verify({ challengeKey: 'k', codeHash: 'h', now: 0 })).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });
});
