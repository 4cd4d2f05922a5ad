import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import { prismaDialectSuite } from './prisma.fixture.js';
import { prismaOtpStore } from './prisma.js';

const db = await requirePostgres({ migrations: ['otp'] });

// PostgreSQL: a schema of this file's own, created from the shipped prisma/migrations, dropped after.
const prisma = db.available ? createTestPrisma(db) : undefined;

prismaDialectSuite({
  provider: 'postgresql',
  available: db.available,
  prisma: () => prisma as never,
  exec: (sql) => db.query(sql),
});

describe.skipIf(!db.available)('prismaOtpStore on real Postgres: the columns', () => {
  const store = prismaOtpStore({ prisma: prisma as never });

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
});
