import { type PrismaUnsafeClient, retry } from '@app/core';
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
export type PrismaUnsafeQueryClient = PrismaUnsafeClient;

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

/** SQL written with `:name` placeholders, as positional `?` SQL and its values in order. */
function named(text: string, values: Record<string, unknown>): [string, unknown[]] {
  const args: unknown[] = [];
  const sql = text.replace(/:([a-z]+)\b/g, (_, name: string) => {
    args.push(values[name]);
    return '?';
  });
  return [sql, args];
}

/**
 * SQLite's verify: ONE statement, atomic by itself (SQLite runs a statement under its write lock, so the
 * read of the challenge and the write cannot interleave with another writer). It upserts one row: the
 * challenge's own when it is live (counted, or consumed when the code and id match), else the bucket's decoy
 * row (a counter; its `code_hash` keeps why nothing was counted: `expired` or `unavailable`). Same statement,
 * one row written, whatever the answer.
 */
const SQLITE_VERIFY = `
INSERT INTO app_otp_challenges ("key", challenge_id, code_hash, attempts, max_attempts, expires_at, last_sent_at, consumed_at)
SELECT CASE WHEN l.live THEN :key ELSE :decoy END, '~' || CASE WHEN l.live THEN :key ELSE :decoy END,
  l.reason, 1, 0, :epoch, :epoch, NULL
FROM (SELECT
    c."key" IS NOT NULL AND c.consumed_at IS NULL AND c.expires_at > :now AND c.attempts < c.max_attempts AS live,
    CASE WHEN c."key" IS NULL OR c.consumed_at IS NOT NULL OR c.attempts >= c.max_attempts THEN 'unavailable'
      WHEN c.expires_at <= :now THEN 'expired' ELSE '' END AS reason
  FROM (SELECT 1) AS one LEFT JOIN app_otp_challenges AS c ON c."key" = :key) AS l
WHERE true
ON CONFLICT("key") DO UPDATE SET
  attempts = CASE WHEN app_otp_challenges."key" = :key AND app_otp_challenges.code_hash = :hash
    AND (:id IS NULL OR app_otp_challenges.challenge_id = :id) THEN app_otp_challenges.attempts
    ELSE app_otp_challenges.attempts + 1 END,
  consumed_at = CASE WHEN app_otp_challenges."key" = :key AND app_otp_challenges.code_hash = :hash
    AND (:id IS NULL OR app_otp_challenges.challenge_id = :id) THEN :now ELSE app_otp_challenges.consumed_at END,
  code_hash = CASE WHEN app_otp_challenges."key" = :key THEN app_otp_challenges.code_hash
    ELSE excluded.code_hash END
RETURNING "key" AS k, challenge_id, attempts, max_attempts, consumed_at IS NOT NULL AS used, code_hash`;

interface SqliteVerifyRow {
  k: string;
  challenge_id: string;
  attempts: number | bigint;
  max_attempts: number | bigint;
  used: number | bigint | boolean;
  code_hash: string;
}

async function sqliteVerify(
  prisma: PrismaUnsafeQueryClient,
  req: OtpVerifyRequest,
  decoy: string,
): Promise<OtpVerifyResult> {
  const [sql, args] = named(SQLITE_VERIFY, {
    key: req.challengeKey,
    decoy,
    now: new Date(req.now),
    epoch: EPOCH,
    hash: req.codeHash,
    id: req.challengeId ?? null,
  });
  const rows = await retry(() => prisma.$queryRawUnsafe<SqliteVerifyRow[]>(sql, ...args), {
    maxAttempts: 8,
    baseDelayMs: 5,
    maxDelayMs: 200,
    shouldRetry: transient,
  });
  const row = rows[0];
  if (!row || row.k !== req.challengeKey) {
    return { status: row?.code_hash === 'expired' ? 'expired' : 'unavailable' };
  }
  const attempts = Number(row.attempts);
  if (Number(row.used)) return { status: 'verified', challengeId: row.challenge_id, attempts };
  const locked = attempts >= Number(row.max_attempts);
  return { status: locked ? 'locked' : 'mismatch', challengeId: row.challenge_id, attempts };
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
 * - SQLite: one writer at a time. A verify is one statement (see `SQLITE_VERIFY`): SQLite runs it under
 *   the database's write lock, so its read and its write cannot interleave with another writer, in this
 *   process or another. A send is one transaction; Prisma's better-sqlite3 adapter runs one at a time on its
 *   connection, and across processes the file lock lets one write transaction commit at a time (the loser
 *   gets SQLITE_BUSY, rolls back whole and is retried).
 *
 * Equal cost: every verify runs the same statements (MySQL: a transaction of a select and one upsert;
 * SQLite: one upsert) and writes exactly one row, whatever the answer: see {@link sqlOf}'s `verifyWrite`.
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
      if (dialect === 'sqlite') return sqliteVerify(prisma, req, decoy);
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
