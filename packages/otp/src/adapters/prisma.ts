import { closeable, type PrismaProvider, prismaProvider, sniffPrismaProvider } from '@app/core';
import { type ChallengeRecord, decideIssue, issuedRecord } from '../decide.js';
import { OtpError, OtpErrorCode } from '../errors.js';
import type {
  OtpIssueRequest,
  OtpIssueResult,
  OtpStore,
  OtpVerifyRequest,
  OtpVerifyResult,
  OtpWindowLimit,
} from '../store.js';
import { type PortableDialect, type PrismaUnsafeQueryClient, portableOtpOps } from './prisma-portable.js';

export type { PrismaUnsafeQueryClient } from './prisma-portable.js';

/** The raw-query methods the store uses, inside and outside a transaction. Any generated PrismaClient fits. */
export interface PrismaOtpQueryClient {
  $queryRaw<T = unknown>(query: TemplateStringsArray, ...values: unknown[]): Promise<T>;
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): Promise<number>;
}

/** The databases the Prisma store runs on (Prisma's `provider` names). */
export type PrismaOtpProvider = PrismaProvider;

/**
 * The PrismaClient shape the store needs (structural: this package never imports a generated client).
 * `_activeProvider` is where a generated client says which database it was generated for.
 */
export interface PrismaOtpClient extends PrismaOtpQueryClient, PrismaUnsafeQueryClient {
  $transaction<R>(
    fn: (tx: PrismaOtpQueryClient & PrismaUnsafeQueryClient) => Promise<R>,
    options?: { maxWait?: number; timeout?: number; isolationLevel?: string },
  ): Promise<R>;
  readonly _activeProvider?: string;
}

/** Options of {@link prismaOtpStore}. */
export interface PrismaOtpStoreOptions {
  /**
   * Your PrismaClient on PostgreSQL, MySQL/MariaDB or SQLite, with the `OtpChallenge` and `OtpSendWindow`
   * models migrated (prisma/migrations for PostgreSQL, prisma/mysql and prisma/sqlite for the others).
   */
  prisma: PrismaOtpClient;
  /**
   * The database, when the client does not say (a wrapped or extended client).
   * @default the client's own provider (`postgresql`, `mysql` or `sqlite`)
   */
  provider?: PrismaOtpProvider;
  /**
   * Limits of the interactive transaction `issue` runs in: `maxWait` for a pooled connection, `timeout`
   * for the whole transaction, in ms.
   * @default { maxWait: 10000, timeout: 10000 }
   */
  transactionOptions?: { maxWait?: number; timeout?: number };
}

/** The Prisma store: an {@link OtpStore} plus housekeeping. */
export interface PrismaOtpStore extends OtpStore {
  /**
   * Deletes used challenges and challenges and windows that ended before `before`; run it from a cron job.
   * Resolves to the number of rows deleted.
   */
  purgeExpired(before?: Date): Promise<number>;
}

interface WindowRow {
  count: number | null;
  edge: Date | null;
}

interface ChallengeRow {
  challenge_id: string;
  code_hash: string;
  attempts: number;
  max_attempts: number;
  expires_at: Date;
  last_sent_at: Date;
  consumed_at: Date | null;
}

interface VerifyRow {
  challenge_id: string | null;
  attempts: number | null;
  max_attempts: number | null;
  verified: boolean | null;
  expired: boolean | null;
}

const at = (ms: number) => new Date(ms);

/**
 * Prunes a window and locks its row (created empty if new) until the transaction ends; returns how long
 * until it has room for one more send (0: room now).
 */
async function lockWindow(tx: PrismaOtpQueryClient, key: string, limit: OtpWindowLimit, now: number) {
  const rows = await tx.$queryRaw<WindowRow[]>`
    INSERT INTO app_otp_send_windows AS w (key, hits, expires_at)
    VALUES (${key}, '{}', ${at(now + limit.windowMs)}::timestamptz)
    ON CONFLICT (key) DO UPDATE SET hits = ARRAY(
      SELECT h FROM unnest(w.hits) AS h WHERE h > ${at(now - limit.windowMs)}::timestamptz ORDER BY h
    )
    RETURNING cardinality(w.hits)::int AS count,
      w.hits[GREATEST(cardinality(w.hits) - ${limit.max}::int + 1, 1)] AS edge`;
  const row = rows[0];
  const count = row?.count ?? 0;
  return { wait: count < limit.max ? 0 : Math.max(1, (row?.edge?.getTime() ?? now) + limit.windowMs - now) };
}

async function recordSend(tx: PrismaOtpQueryClient, key: string, limit: OtpWindowLimit, now: number) {
  await tx.$executeRaw`
    UPDATE app_otp_send_windows
    SET hits = array_append(hits, ${at(now)}::timestamptz), expires_at = ${at(now + limit.windowMs)}::timestamptz
    WHERE key = ${key}`;
}

/**
 * The PostgreSQL path. `verify` is ONE atomic `UPDATE ... RETURNING` (row-locked by Postgres: concurrent
 * verifies of one challenge queue on the row and each sees the previous one's result); `issue` is an
 * interactive transaction that locks the destination window, the IP window and the challenge row, in that
 * order, before deciding. Codes are compared as HMAC hex strings inside Postgres.
 */
function postgresOtpOps(prisma: PrismaOtpClient, txOptions: { maxWait: number; timeout: number }) {
  return {
    async issue(req: OtpIssueRequest): Promise<OtpIssueResult> {
      const { now } = req;
      return prisma.$transaction(async (tx) => {
        // Lock order (destination, IP, challenge) is the same for every send, so sends cannot deadlock.
        const destKey = `d:${req.destinationKey}`;
        const dest = await lockWindow(tx, destKey, req.destinationLimit, now);
        const ip =
          req.ipKey !== undefined && req.ipLimit
            ? await lockWindow(tx, `i:${req.ipKey}`, req.ipLimit, now)
            : undefined;
        const rows = await tx.$queryRaw<ChallengeRow[]>`
          SELECT challenge_id, code_hash, attempts, max_attempts, expires_at, last_sent_at, consumed_at
          FROM app_otp_challenges WHERE key = ${req.challengeKey} FOR UPDATE`;
        const row = rows[0];
        const current: ChallengeRecord | undefined = row && {
          challengeId: row.challenge_id,
          codeHash: row.code_hash,
          attempts: row.attempts,
          maxAttempts: row.max_attempts,
          expiresAt: row.expires_at.getTime(),
          lastSentAt: row.last_sent_at.getTime(),
          consumed: row.consumed_at !== null,
        };
        const waits: { destination: number; ip?: number } = { destination: dest.wait };
        if (ip) waits.ip = ip.wait;
        const decision = decideIssue(req, current, waits);
        if (decision.status !== 'issued') return decision;

        await recordSend(tx, destKey, req.destinationLimit, now);
        if (ip && req.ipLimit) await recordSend(tx, `i:${req.ipKey}`, req.ipLimit, now);
        const next = issuedRecord(req, decision.attempts);
        await tx.$executeRaw`
          INSERT INTO app_otp_challenges
            (key, challenge_id, code_hash, attempts, max_attempts, expires_at, last_sent_at, consumed_at)
          VALUES (${req.challengeKey}, ${next.challengeId}, ${next.codeHash}, ${next.attempts}::int,
            ${next.maxAttempts}::int, ${at(next.expiresAt)}::timestamptz, ${at(next.lastSentAt)}::timestamptz, NULL)
          ON CONFLICT (key) DO UPDATE SET
            challenge_id = EXCLUDED.challenge_id, code_hash = EXCLUDED.code_hash, attempts = EXCLUDED.attempts,
            max_attempts = EXCLUDED.max_attempts, expires_at = EXCLUDED.expires_at,
            last_sent_at = EXCLUDED.last_sent_at, consumed_at = NULL`;
        return decision;
      }, txOptions);
    },

    async verify(req: OtpVerifyRequest): Promise<OtpVerifyResult> {
      const now = at(req.now);
      const id = req.challengeId ?? null;
      // Equal cost for every answer (issue 15): a verify that neither verifies nor counts (no challenge,
      // expired, locked, used) still writes one row, as a counted wrong guess does, so that neither the
      // statements nor the commit (a WAL flush) tell an attacker whether this destination has a live code.
      // It rewrites the challenge's own row unchanged, or, when there is none, one of 4,096 dead decoy rows
      // (`~decoy:` + the key's first 3 characters: bounded, and spread so that guesses do not queue on one
      // row lock). A statement locks at most one row, so verifies cannot deadlock with each other or a send.
      const decoy = `~decoy:${req.challengeKey.slice(0, 3)}`;
      const rows = await prisma.$queryRaw<VerifyRow[]>`
        WITH upd AS (
          UPDATE app_otp_challenges AS c SET
            attempts = c.attempts + CASE
              WHEN c.code_hash = ${req.codeHash} AND (${id}::text IS NULL OR c.challenge_id = ${id}::text) THEN 0
              ELSE 1 END,
            consumed_at = CASE
              WHEN c.code_hash = ${req.codeHash} AND (${id}::text IS NULL OR c.challenge_id = ${id}::text)
              THEN ${now}::timestamptz ELSE NULL END
          WHERE c.key = ${req.challengeKey} AND c.consumed_at IS NULL
            AND c.expires_at > ${now}::timestamptz AND c.attempts < c.max_attempts
          RETURNING c.challenge_id, c.attempts, c.max_attempts, c.consumed_at IS NOT NULL AS verified
        ), touch AS (
          INSERT INTO app_otp_challenges AS t
            (key, challenge_id, code_hash, attempts, max_attempts, expires_at, last_sent_at, consumed_at)
          SELECT k.key, '~' || k.key, '', 0, 0, to_timestamp(0), to_timestamp(0), to_timestamp(0)
          FROM (SELECT COALESCE(
            (SELECT p.key FROM app_otp_challenges AS p WHERE p.key = ${req.challengeKey}), ${decoy}::text
          ) AS key) AS k
          WHERE NOT EXISTS (SELECT 1 FROM upd)
          ON CONFLICT (key) DO UPDATE SET attempts = t.attempts
        )
        SELECT upd.challenge_id, upd.attempts, upd.max_attempts, upd.verified,
          (SELECT p.consumed_at IS NULL AND p.expires_at <= ${now}::timestamptz
             FROM app_otp_challenges AS p WHERE p.key = ${req.challengeKey}) AS expired
        FROM (SELECT 1) AS one LEFT JOIN upd ON true`;
      const row = rows[0];
      if (!row || row.challenge_id === null || row.attempts === null || row.max_attempts === null) {
        return { status: row?.expired ? 'expired' : 'unavailable' };
      }
      if (row.verified) return { status: 'verified', challengeId: row.challenge_id, attempts: row.attempts };
      return {
        status: row.attempts >= row.max_attempts ? 'locked' : 'mismatch',
        challengeId: row.challenge_id,
        attempts: row.attempts,
      };
    },

    async purgeExpired(before: Date): Promise<number> {
      const challenges = await prisma.$executeRaw`
        DELETE FROM app_otp_challenges WHERE consumed_at IS NOT NULL OR expires_at < ${before}::timestamptz`;
      const windows = await prisma.$executeRaw`
        DELETE FROM app_otp_send_windows WHERE expires_at < ${before}::timestamptz`;
      return challenges + windows;
    },
  };
}

/**
 * A store on PostgreSQL, MySQL/MariaDB or SQLite through Prisma; the database is found from the client (or
 * the `provider` option). Why each is atomic:
 * - PostgreSQL: `verify` is ONE `UPDATE ... RETURNING` (row-locked: concurrent verifies of one challenge
 *   queue on the row and each sees the previous one's result); `issue` is a transaction that locks the
 *   destination window, the IP window and the challenge row, in that order, before deciding.
 * - MySQL/MariaDB (no `RETURNING`): each call is a READ COMMITTED transaction that takes the challenge's row
 *   lock with `SELECT ... FOR UPDATE` before deciding, so calls on one challenge run one after the other.
 * - SQLite: `verify` is ONE upsert statement (atomic under SQLite's single write lock); `issue` is one
 *   transaction, and SQLite commits one writer at a time.
 * See `prisma-portable.ts` for the details. Every failed verify does the same database work whatever the
 * reason (no challenge, wrong code, expired, locked): the same statements, one row written.
 *
 * @example
 * ```ts
 * import { PrismaClient } from './generated/client';
 * import { prismaOtpStore } from '@app/otp/prisma';
 * const store = prismaOtpStore({ prisma: new PrismaClient({ adapter }) });
 * ```
 */
export function prismaOtpStore(options: PrismaOtpStoreOptions): PrismaOtpStore {
  const prisma = options?.prisma;
  if (typeof prisma?.$queryRaw !== 'function' || typeof prisma.$transaction !== 'function') {
    throw new OtpError(
      OtpErrorCode.INVALID_OPTIONS,
      '`prisma` must be a PrismaClient ($queryRaw, $transaction)',
    );
  }
  const txOptions = { maxWait: 10_000, timeout: 10_000, ...options.transactionOptions };
  const provider = prismaProvider(
    prisma,
    options.provider ?? sniffPrismaProvider(prisma) ?? 'postgresql',
    (named) =>
      new OtpError(
        OtpErrorCode.INVALID_OPTIONS,
        `\`provider\` must be 'postgresql', 'mysql' or 'sqlite' (got ${String(named)})`,
      ),
  );
  const ops =
    provider === 'postgresql'
      ? postgresOtpOps(prisma, txOptions)
      : portableOtpOps(prisma, provider as PortableDialect, txOptions);
  let closed = false;
  const closedError = () => Promise.reject(new OtpError(OtpErrorCode.CLOSED, 'the Prisma store is closed'));

  const store = {
    issue: (req: OtpIssueRequest): Promise<OtpIssueResult> => (closed ? closedError() : ops.issue(req)),
    verify: (req: OtpVerifyRequest): Promise<OtpVerifyResult> => (closed ? closedError() : ops.verify(req)),
    purgeExpired: (before = new Date()): Promise<number> =>
      closed ? closedError() : ops.purgeExpired(before),
  };
  return closeable(store, () => {
    closed = true;
  });
}
