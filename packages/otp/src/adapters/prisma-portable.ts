import { retry } from '@app/core';
import {
  type ChallengeRecord,
  decideIssue,
  decideVerify,
  issuedRecord,
  pruneWindow,
  windowWait,
} from '../decide.js';
import type {
  OtpIssueRequest,
  OtpIssueResult,
  OtpVerifyRequest,
  OtpVerifyResult,
  OtpWindowLimit,
} from '../store.js';

/** The raw-query methods the MySQL and SQLite paths use (any generated PrismaClient has them). */
export interface PrismaUnsafeQueryClient {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): Promise<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): Promise<number>;
}

/** A PrismaClient as the MySQL and SQLite paths need it. */
export interface PrismaPortableClient extends PrismaUnsafeQueryClient {
  $transaction<R>(
    fn: (tx: PrismaUnsafeQueryClient) => Promise<R>,
    options?: { maxWait?: number; timeout?: number; isolationLevel?: string },
  ): Promise<R>;
}

/** The databases reached without `RETURNING`-based single statements. */
export type PortableDialect = 'mysql' | 'sqlite';

interface ChallengeRow {
  challenge_id: string;
  code_hash: string;
  attempts: number | bigint;
  max_attempts: number | bigint;
  expires_at: Date | string | number;
  last_sent_at: Date | string | number;
  consumed_at: Date | string | number | null;
}

const ms = (v: Date | string | number): number =>
  v instanceof Date ? v.getTime() : typeof v === 'number' ? v : new Date(v).getTime();
const EPOCH = new Date(0);

function record(row: ChallengeRow | undefined): ChallengeRecord | undefined {
  if (!row) return undefined;
  return {
    challengeId: row.challenge_id,
    codeHash: row.code_hash,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    expiresAt: ms(row.expires_at),
    lastSentAt: ms(row.last_sent_at),
    consumed: row.consumed_at !== null,
  };
}

/** Window hits as stored on MySQL/SQLite: a JSON array of epoch ms (the driver may hand it back parsed). */
function hitsOf(value: unknown): number[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  return Array.isArray(parsed) ? parsed.map(Number) : [];
}

/** MySQL's deadlock and lock-wait errors, SQLite's busy file: the transaction is retried from the start. */
const transient = (error: unknown) =>
  /deadlock|1213|1205|lock wait timeout|SQLITE_BUSY|database is locked/i.test(
    String((error as Error)?.message),
  );

/**
 * The SQL of one dialect. `key` is a reserved word on MySQL (backticks) and quoted on SQLite.
 * MySQL locks with `SELECT ... FOR UPDATE`; SQLite has no row locks and needs none (one writer at a time).
 */
function sqlOf(dialect: PortableDialect) {
  const K = dialect === 'mysql' ? '`key`' : '"key"';
  const lock = dialect === 'mysql' ? ' FOR UPDATE' : '';
  const upsert = (sets: string) =>
    dialect === 'mysql' ? `ON DUPLICATE KEY UPDATE ${sets}` : `ON CONFLICT(${K}) DO UPDATE SET ${sets}`;
  const fresh = (c: string) => (dialect === 'mysql' ? `VALUES(${c})` : `excluded.${c}`);
  const cols = `${K}, challenge_id, code_hash, attempts, max_attempts, expires_at, last_sent_at, consumed_at`;
  return {
    selectChallenge: `SELECT challenge_id, code_hash, attempts, max_attempts, expires_at, last_sent_at, consumed_at FROM app_otp_challenges WHERE ${K} = ?${lock}`,
    /**
     * The one write of every verify: the challenge's own row (counted or consumed) or, when nothing is to be
     * counted, the bucket's decoy row (created on first use, then a counter): always one row, one statement.
     * Params: key, challenge id for a new (decoy) row, attempts (null: +1), consumedAt (null: unchanged).
     */
    verifyWrite: `INSERT INTO app_otp_challenges (${cols}) VALUES (?, ?, '', 1, 0, ?, ?, NULL) ${upsert(
      'attempts = COALESCE(?, app_otp_challenges.attempts + 1), consumed_at = COALESCE(?, app_otp_challenges.consumed_at)',
    )}`,
    ensureWindow:
      dialect === 'mysql'
        ? `INSERT INTO app_otp_send_windows (${K}, hits, expires_at) VALUES (?, '[]', ?) ON DUPLICATE KEY UPDATE ${K} = ${K}`
        : `INSERT INTO app_otp_send_windows (${K}, hits, expires_at) VALUES (?, '[]', ?) ON CONFLICT(${K}) DO NOTHING`,
    selectWindow: `SELECT hits FROM app_otp_send_windows WHERE ${K} = ?${lock}`,
    updateWindow: `UPDATE app_otp_send_windows SET hits = ?, expires_at = ? WHERE ${K} = ?`,
    writeChallenge: `INSERT INTO app_otp_challenges (${cols}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL) ${upsert(
      ['challenge_id', 'code_hash', 'attempts', 'max_attempts', 'expires_at', 'last_sent_at']
        .map((c) => `${c} = ${fresh(c)}`)
        .concat('consumed_at = NULL')
        .join(', '),
    )}`,
    purgeChallenges: 'DELETE FROM app_otp_challenges WHERE consumed_at IS NOT NULL OR expires_at < ?',
    purgeWindows: 'DELETE FROM app_otp_send_windows WHERE expires_at < ?',
  };
}

/**
 * The Prisma store's MySQL/MariaDB and SQLite paths: every send and verify is one interactive transaction.
 *
 * Why it is atomic:
 * - MySQL/MariaDB (no `RETURNING`): the transaction (READ COMMITTED) reads the challenge with
 *   `SELECT ... FOR UPDATE`, which takes its row lock; a concurrent verify or send of the same challenge
 *   blocks on that lock until this transaction commits, then reads the committed row. So verifies of one
 *   challenge run one after the other, each seeing the previous count: exactly one right code wins, every
 *   wrong guess is counted. Sends lock the destination window, the IP window, then the challenge (one order
 *   for everyone: no deadlock cycle between sends); verifies lock the challenge, then the decoy row, which
 *   sends never lock. A deadlock or lock timeout InnoDB still reports rolls the transaction back whole, and
 *   it is retried.
 * - SQLite: one writer at a time. Prisma's better-sqlite3 adapter runs one transaction at a time on its
 *   connection, and across processes SQLite's file lock lets one write transaction commit at a time (a
 *   transaction that loses the race gets SQLITE_BUSY, rolls back whole and is retried); the read and the
 *   write of a verify are in one transaction, so nothing happens between them.
 *
 * Equal cost: every verify runs the same three statements (select, one upsert, in one transaction) and
 * writes exactly one row, whatever the answer: see {@link sqlOf}'s `verifyWrite`.
 */
export function portableOtpOps(
  prisma: PrismaPortableClient,
  dialect: PortableDialect,
  txOptions: { maxWait: number; timeout: number },
) {
  const sql = sqlOf(dialect);
  const options = dialect === 'mysql' ? { ...txOptions, isolationLevel: 'ReadCommitted' } : txOptions;
  const transaction = <R>(fn: (tx: PrismaUnsafeQueryClient) => Promise<R>): Promise<R> =>
    retry(() => prisma.$transaction(fn, options), {
      maxAttempts: 8,
      baseDelayMs: 5,
      maxDelayMs: 200,
      shouldRetry: transient,
    });

  const lockWindow = async (tx: PrismaUnsafeQueryClient, key: string, limit: OtpWindowLimit, now: number) => {
    await tx.$executeRawUnsafe(sql.ensureWindow, key, new Date(now + limit.windowMs));
    const rows = await tx.$queryRawUnsafe<Array<{ hits: unknown }>>(sql.selectWindow, key);
    const hits = pruneWindow(hitsOf(rows[0]?.hits), limit, now);
    return { key, limit, hits, wait: windowWait(hits, limit, now) };
  };

  return {
    issue(req: OtpIssueRequest): Promise<OtpIssueResult> {
      const { now } = req;
      return transaction(async (tx) => {
        const dest = await lockWindow(tx, `d:${req.destinationKey}`, req.destinationLimit, now);
        const ip =
          req.ipKey !== undefined && req.ipLimit
            ? await lockWindow(tx, `i:${req.ipKey}`, req.ipLimit, now)
            : undefined;
        const rows = await tx.$queryRawUnsafe<ChallengeRow[]>(sql.selectChallenge, req.challengeKey);
        const waits: { destination: number; ip?: number } = { destination: dest.wait };
        if (ip) waits.ip = ip.wait;
        const decision = decideIssue(req, record(rows[0]), waits);
        if (decision.status !== 'issued') return decision;
        for (const w of ip ? [dest, ip] : [dest]) {
          const hits = JSON.stringify([...w.hits, now]);
          await tx.$executeRawUnsafe(sql.updateWindow, hits, new Date(now + w.limit.windowMs), w.key);
        }
        const next = issuedRecord(req, decision.attempts);
        await tx.$executeRawUnsafe(
          sql.writeChallenge,
          req.challengeKey,
          next.challengeId,
          next.codeHash,
          next.attempts,
          next.maxAttempts,
          new Date(next.expiresAt),
          new Date(next.lastSentAt),
        );
        return decision;
      });
    },

    verify(req: OtpVerifyRequest): Promise<OtpVerifyResult> {
      const decoy = `~decoy:${req.challengeKey.slice(0, 3)}`;
      return transaction(async (tx) => {
        const rows = await tx.$queryRawUnsafe<ChallengeRow[]>(sql.selectChallenge, req.challengeKey);
        const { result, next } = decideVerify(req, record(rows[0]));
        const key = next ? req.challengeKey : decoy;
        const attempts = next ? next.attempts : null;
        const consumedAt = next?.consumed ? new Date(req.now) : null;
        await tx.$executeRawUnsafe(sql.verifyWrite, key, `~${key}`, EPOCH, EPOCH, attempts, consumedAt);
        return result;
      });
    },

    async purgeExpired(before: Date): Promise<number> {
      const challenges = await prisma.$executeRawUnsafe(sql.purgeChallenges, before);
      const windows = await prisma.$executeRawUnsafe(sql.purgeWindows, before);
      return challenges + windows;
    },
  };
}
