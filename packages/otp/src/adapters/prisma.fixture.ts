// The Prisma store's tests, once for every database: each test file (one per database, each with a database
// or schema of its own, from the migration the package ships for it) calls prismaDialectSuite with it.
import { randomUUID } from 'node:crypto';
import type { TestDatabase } from '@app/test-harness/database';
import { describe, expect, it } from 'vitest';
import { otpStoreContract } from '../testing.js';
import { issueRequest, tally } from '../testing-kit.js';
import { type PrismaOtpClient, type PrismaOtpProvider, prismaOtpStore } from './prisma.js';

/** A trigger per write on the challenges table, logging one row per row written, in each dialect. */
const ROW_WRITE_LOG: Record<PrismaOtpProvider, string[]> = {
  postgresql: [
    'CREATE TABLE otp_test_row_writes (op text NOT NULL)',
    `CREATE FUNCTION otp_test_log_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO otp_test_row_writes VALUES (TG_OP); RETURN NULL; END $$`,
    `CREATE TRIGGER otp_test_log_write AFTER INSERT OR UPDATE OR DELETE ON app_otp_challenges
      FOR EACH ROW EXECUTE FUNCTION otp_test_log_write()`,
  ],
  mysql: [
    'CREATE TABLE otp_test_row_writes (op VARCHAR(8) NOT NULL)',
    ...['INSERT', 'UPDATE', 'DELETE'].map(
      (op) =>
        `CREATE TRIGGER otp_test_log_${op} AFTER ${op} ON app_otp_challenges FOR EACH ROW INSERT INTO otp_test_row_writes VALUES ('${op}')`,
    ),
  ],
  sqlite: [
    'CREATE TABLE otp_test_row_writes (op TEXT NOT NULL)',
    ...['INSERT', 'UPDATE', 'DELETE'].map(
      (op) =>
        `CREATE TRIGGER otp_test_log_${op} AFTER ${op} ON app_otp_challenges BEGIN INSERT INTO otp_test_row_writes VALUES ('${op}'); END`,
    ),
  ],
};

/** A client that records every statement the store sends (and each transaction it opens), inside or out. */
function recording(prisma: PrismaOtpClient, log: string[]): PrismaOtpClient {
  const wrap = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(t, prop) {
        const value = Reflect.get(t, prop, t) as unknown;
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (prop === '$transaction') {
          return (body: (tx: object) => unknown, options: unknown) => {
            log.push('transaction');
            return fn.call(t, (tx: object) => body(wrap(tx)), options);
          };
        }
        if (typeof prop === 'string' && /^\$(query|execute)Raw/.test(prop)) {
          return (query: unknown, ...values: unknown[]) => {
            log.push(`${prop}: ${Array.isArray(query) ? query.join('?') : String(query)}`);
            return fn.call(t, query, ...values);
          };
        }
        return fn.bind(t);
      },
    });
  return wrap(prisma);
}

/** Every row of both tables, read with SQL (not through the store), each value as a string. */
async function readTables(prisma: PrismaOtpClient): Promise<string[]> {
  const out: string[] = [];
  for (const table of ['app_otp_challenges', 'app_otp_send_windows']) {
    const rows = await prisma.$queryRawUnsafe<Record<string, unknown>[]>(`SELECT * FROM ${table}`);
    for (const row of rows) {
      for (const value of Object.values(row)) {
        const values = Array.isArray(value) ? value : [value];
        out.push(...values.map((v) => (v instanceof Date ? v.toISOString() : String(v))));
      }
    }
  }
  return out;
}

const T0 = Date.UTC(2032, 0, 1);
const transactionOptions = { maxWait: 60_000, timeout: 60_000 };

/**
 * The contract suite, the 1,000-guess lockout race, equal cost of failed verifies (counted: statements sent
 * and rows written, never timed) and purge, on one database.
 */
export function prismaDialectSuite(db: TestDatabase): void {
  const f = {
    provider: db.provider as PrismaOtpProvider,
    available: db.available,
    prisma: () => db.prisma<PrismaOtpClient>(),
    exec: (sql: string) => db.sql(sql),
  };
  describe.skipIf(!f.available)(`prismaOtpStore on ${f.provider}`, () => {
    const create = () => prismaOtpStore({ prisma: f.prisma(), transactionOptions });

    otpStoreContract({
      describe,
      it,
      expect,
      name: `prisma (${f.provider})`,
      create,
      inspect: () => readTables(f.prisma()),
    });

    it('finds the database from the client, and takes `provider` when told', () => {
      expect(f.prisma()._activeProvider).toBe(f.provider);
      expect(() => prismaOtpStore({ prisma: f.prisma(), provider: 'oracle' as never })).toThrow(/provider/);
    });

    it('1,000 concurrent wrong guesses: each counted, the challenge locks at maxAttempts 5', async () => {
      const store = create();
      const req = issueRequest({ maxAttempts: 5 });
      await store.issue(req);
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          store.verify({ challengeKey: req.challengeKey, codeHash: `wrong-${i}`, now: req.now + 1 }),
        ),
      );
      expect(tally(results)).toEqual({ mismatch: 4, locked: 1, unavailable: 995 });
      const counted = results.flatMap((r) => ('attempts' in r ? [r.attempts] : [])).sort();
      expect(counted).toEqual([1, 2, 3, 4, 5]);
    }, 180_000);

    it('a failed verify does the same database work whatever the reason: same statements, one row written', async () => {
      for (const sql of ROW_WRITE_LOG[f.provider]) await f.exec(sql);
      const statements: string[] = [];
      const store = prismaOtpStore({ prisma: recording(f.prisma(), statements), transactionOptions });
      const issue = async (overrides: Parameters<typeof issueRequest>[0] = {}) => {
        const req = issueRequest({
          now: T0,
          expiresAt: T0 + 300_000,
          maxAttempts: 3,
          cooldownMs: 0,
          ...overrides,
        });
        await store.issue(req);
        return req;
      };
      const live = await issue();
      const expired = await issue({ expiresAt: T0 + 1 });
      const locked = await issue({ maxAttempts: 1 });
      await store.verify({ challengeKey: locked.challengeKey, codeHash: 'wrong', now: T0 + 1 });
      const used = await issue();
      await store.verify({ challengeKey: used.challengeKey, codeHash: used.codeHash, now: T0 + 1 });

      const cost = async (challengeKey: string) => {
        await f.exec('DELETE FROM otp_test_row_writes');
        statements.length = 0;
        const { status } = await store.verify({ challengeKey, codeHash: 'wrong', now: T0 + 1 });
        const [row] = await f
          .prisma()
          .$queryRawUnsafe<Array<{ n: unknown }>>('SELECT count(*) AS n FROM otp_test_row_writes');
        return { status, statements: [...statements], rowsWritten: Number(row?.n) };
      };
      const wrong = await cost(live.challengeKey);
      expect(wrong.status).toBe('mismatch');
      expect(wrong.rowsWritten).toBe(1);
      expect(wrong.statements.length).toBeGreaterThan(0);
      // Twice with a fresh unknown key: the first may create the decoy row later ones update; same cost.
      for (const [label, key, status] of [
        ['no challenge', `eq-none-${randomUUID()}`, 'unavailable'],
        ['no challenge again', `eq-none-${randomUUID()}`, 'unavailable'],
        ['expired', expired.challengeKey, 'expired'],
        ['locked', locked.challengeKey, 'unavailable'],
        ['used', used.challengeKey, 'unavailable'],
      ] as const) {
        expect({ label, ...(await cost(key)) }).toEqual({ label, ...wrong, status });
      }
      // The answers are unchanged: the live challenge still verifies, with its one counted guess.
      expect(
        await store.verify({ challengeKey: live.challengeKey, codeHash: live.codeHash, now: T0 + 2 }),
      ).toMatchObject({ status: 'verified', attempts: 1 });
    }, 120_000);

    it('purgeExpired deletes used and ended rows only; calls after close reject with CLOSED', async () => {
      const store = create();
      const now = Date.UTC(2031, 0, 1);
      const base = { now, maxAttempts: 5, cooldownMs: 0, expiresAt: now + 10 * 86_400_000 };
      const live = issueRequest(base);
      const used = issueRequest(base);
      await store.issue(live);
      await store.issue(used);
      await store.verify({ challengeKey: used.challengeKey, codeHash: used.codeHash, now });
      expect(await store.purgeExpired(new Date(now + 86_400_000))).toBeGreaterThanOrEqual(3);
      expect(
        await store.verify({ challengeKey: live.challengeKey, codeHash: live.codeHash, now }),
      ).toMatchObject({
        status: 'verified',
      });
      await store.close();
      await expect(store.verify({ challengeKey: 'k', codeHash: 'h', now })).rejects.toMatchObject({
        code: 'CLOSED',
      });
    });
  });
}
