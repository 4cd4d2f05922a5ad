import { requirePostgres } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import { describe, expect, it } from 'vitest';
import type { OtpIssueRequest } from '../store.js';
import { type PrismaOtpClient, prismaOtpStore } from './prisma.js';

// Issue 15: every verify that fails must do the same database work whatever the reason (wrong code on a live
// challenge, no challenge at all, expired, locked, used), so that its cost does not tell an attacker whether
// someone is signing in right now. Counted, never timed: the SQL statements the store sends (through a
// client that records them) and the rows they write (a trigger on the table logs each one).
const db = await requirePostgres({ migrations: ['otp'] });

describe.skipIf(!db.available)('prismaOtpStore: a failed verify costs the same whatever the reason', () => {
  const prisma = createTestPrisma(db);
  const statements: string[] = [];
  const record =
    (name: string, fn: (...args: unknown[]) => unknown) =>
    (query: TemplateStringsArray, ...values: unknown[]) => {
      statements.push(`${name}: ${query.join('?')}`);
      return fn(query, ...values);
    };
  const counted: PrismaOtpClient = {
    $queryRaw: record('query', prisma.$queryRaw.bind(prisma) as never) as never,
    $executeRaw: record('execute', prisma.$executeRaw.bind(prisma) as never) as never,
    $transaction: ((fn: never, options: never) => {
      statements.push('transaction');
      return prisma.$transaction(fn, options);
    }) as never,
  };
  const store = prismaOtpStore({ prisma: counted });

  const T0 = Date.UTC(2032, 0, 1);
  let n = 0;
  const issue = async (overrides: Partial<OtpIssueRequest> = {}) => {
    n++;
    const req: OtpIssueRequest = {
      challengeKey: `eq-${n}-${Math.random().toString(16).slice(2)}`,
      destinationKey: `eq-d-${n}`,
      challengeId: `eq-id-${n}-${Math.random().toString(16).slice(2)}`,
      codeHash: 'right',
      now: T0,
      expiresAt: T0 + 300_000,
      maxAttempts: 3,
      cooldownMs: 0,
      destinationLimit: { max: 100, windowMs: 60_000 },
      ...overrides,
    };
    await store.issue(req);
    return req;
  };

  /** What one verify did: the statements it sent and the rows it wrote. */
  const cost = async (challengeKey: string, now = T0 + 1) => {
    await db.query('TRUNCATE otp_test_row_writes');
    statements.length = 0;
    const result = await store.verify({ challengeKey, codeHash: 'wrong', now });
    const writes = await db.query<{ n: string }>('SELECT count(*) AS n FROM otp_test_row_writes');
    return { result: result.status, statements: [...statements], rowsWritten: Number(writes.rows[0]!.n) };
  };

  it('wrong code, no challenge, expired, locked and used: one statement, one row written, each time', async () => {
    await db.query(`
      CREATE TABLE otp_test_row_writes (op text NOT NULL);
      CREATE FUNCTION otp_test_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO otp_test_row_writes VALUES (TG_OP); RETURN NULL; END $$;
      CREATE TRIGGER otp_test_log_write AFTER INSERT OR UPDATE OR DELETE ON app_otp_challenges
        FOR EACH ROW EXECUTE FUNCTION otp_test_log_write();`);

    const live = await issue();
    const expired = await issue({ expiresAt: T0 + 1 });
    const locked = await issue({ maxAttempts: 1 });
    await store.verify({ challengeKey: locked.challengeKey, codeHash: 'wrong', now: T0 + 1 });
    const used = await issue();
    await store.verify({ challengeKey: used.challengeKey, codeHash: 'right', now: T0 + 1 });

    const wrong = await cost(live.challengeKey);
    expect(wrong.result).toBe('mismatch');
    expect(wrong.rowsWritten).toBe(1);
    expect(wrong.statements).toHaveLength(1);
    // Twice for an unknown key: the first may create what later ones reuse; both must cost the same.
    for (const [label, key] of [
      ['no challenge', `eq-none-${Math.random()}`],
      ['no challenge again', `eq-none-${Math.random()}`],
      ['expired', expired.challengeKey],
      ['locked', locked.challengeKey],
      ['used', used.challengeKey],
    ] as const) {
      const other = await cost(key);
      expect({ label, ...other, result: undefined }).toEqual({ label, ...wrong, result: undefined });
      expect(other.result, label).not.toBe('mismatch');
    }

    // The answers are what they were: the live challenge still verifies, the others do not.
    const right = await store.verify({ challengeKey: live.challengeKey, codeHash: 'right', now: T0 + 2 });
    expect(right).toMatchObject({ status: 'verified', attempts: 1 });
    expect(
      await store.verify({ challengeKey: expired.challengeKey, codeHash: 'right', now: T0 + 2 }),
    ).toEqual({
      status: 'expired',
    });
    for (const key of [locked.challengeKey, used.challengeKey]) {
      expect(await store.verify({ challengeKey: key, codeHash: 'right', now: T0 + 2 })).toEqual({
        status: 'unavailable',
      });
    }
  });
});
