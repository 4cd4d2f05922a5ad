import { requireDatabase } from '@app/test-harness/database';
import { describe, expect, it } from 'vitest';
import { issueRequest } from '../testing-kit.js';
import { prismaDialectSuite } from './prisma.fixture.js';
import { type PrismaOtpClient, prismaOtpStore } from './prisma.js';

// PostgreSQL: a schema of this file's own, created from the shipped prisma/migrations, dropped after.
const db = await requireDatabase('postgresql', { shipped: ['otp'] });
prismaDialectSuite(db);

describe.skipIf(!db.available)('prismaOtpStore on real Postgres: the columns', () => {
  it('writes the documented columns: HMACs, counters and timestamps only', async () => {
    const store = prismaOtpStore({ prisma: db.prisma<PrismaOtpClient>() });
    const now = Date.UTC(2030, 0, 1);
    await store.issue(
      issueRequest({
        challengeKey: 'shape-ck',
        destinationKey: 'shape-dk',
        ipKey: 'shape-ik',
        challengeId: 'shape-id',
        codeHash: 'shape-hash',
        now,
        expiresAt: now + 300_000,
        ipLimit: { max: 5, windowMs: 60_000 },
      }),
    );
    const rows = await db.sql("SELECT * FROM app_otp_challenges WHERE key = 'shape-ck'");
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
    const windows = await db.sql(
      "SELECT key, hits, expires_at FROM app_otp_send_windows WHERE key LIKE '%shape-%' ORDER BY key",
    );
    expect(windows).toEqual([
      { key: 'd:shape-dk', hits: [new Date(now)], expires_at: new Date(now + 3_600_000) },
      { key: 'i:shape-ik', hits: [new Date(now)], expires_at: new Date(now + 60_000) },
    ]);
    await store.verify({ challengeKey: 'shape-ck', codeHash: 'shape-hash', now: now + 1 });
    const used = await db.sql("SELECT consumed_at FROM app_otp_challenges WHERE key = 'shape-ck'");
    expect(used).toEqual([{ consumed_at: new Date(now + 1) }]);
  });
});
