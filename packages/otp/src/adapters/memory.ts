import { closeable } from '@app/core';
import {
  type ChallengeRecord,
  decideIssue,
  decideVerify,
  issuedRecord,
  pruneWindow,
  windowWait,
} from '../decide.js';
import { OtpError, OtpErrorCode } from '../errors.js';
import type {
  OtpIssueRequest,
  OtpIssueResult,
  OtpStore,
  OtpVerifyRequest,
  OtpVerifyResult,
} from '../store.js';

/** Options of {@link memoryOtpStore}. */
export interface MemoryOtpStoreOptions {
  /**
   * Entries kept before expired ones are swept (the sweep runs on `issue`, never on a timer).
   * @default 10000
   */
  sweepThreshold?: number;
}

/** The in-memory store, plus a view of its contents for tests. */
export interface MemoryOtpStore extends OtpStore {
  /** Every key and value the store holds, as strings: what an attacker dumping the process memory would find. */
  dump(): string[];
}

const DECOY = '~decoy';
const DECOY_RECORD: ChallengeRecord = {
  challengeId: '',
  codeHash: '',
  attempts: 0,
  maxAttempts: 0,
  expiresAt: 0,
  lastSentAt: 0,
  consumed: true,
};

interface WindowRecord {
  hits: number[];
  expiresAt: number;
}

/**
 * A store in this process's memory: for tests, development and single-instance apps. Each operation runs
 * synchronously between awaits, so it is atomic. No timers: expired entries are swept as new ones arrive.
 *
 * @example
 * ```ts
 * import { createOtpService } from '@app/otp';
 * import { memoryOtpStore } from '@app/otp/memory';
 * const otp = createOtpService({ store: memoryOtpStore(), secret, channels: { sms } });
 * ```
 */
export function memoryOtpStore(options: MemoryOtpStoreOptions = {}): MemoryOtpStore {
  const sweepThreshold = options.sweepThreshold ?? 10_000;
  if (!Number.isSafeInteger(sweepThreshold) || sweepThreshold < 1) {
    throw new OtpError(OtpErrorCode.INVALID_OPTIONS, '`sweepThreshold` must be a positive integer');
  }
  const challenges = new Map<string, ChallengeRecord>();
  const windows = new Map<string, WindowRecord>();
  const decoys = new Map<string, ChallengeRecord>([[DECOY, DECOY_RECORD]]);
  let decoy = DECOY_RECORD;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new OtpError(OtpErrorCode.CLOSED, 'the memory store is closed');
  };

  const sweep = (now: number) => {
    if (challenges.size + windows.size < sweepThreshold) return;
    for (const [k, c] of challenges) if (c.consumed || c.expiresAt <= now) challenges.delete(k);
    for (const [k, w] of windows) if (w.expiresAt <= now) windows.delete(k);
  };

  const hitsOf = (
    key: string | undefined,
    limit: { max: number; windowMs: number } | undefined,
    now: number,
  ) =>
    key === undefined || limit === undefined
      ? undefined
      : pruneWindow(windows.get(key)?.hits ?? [], limit, now);

  const store = {
    async issue(req: OtpIssueRequest): Promise<OtpIssueResult> {
      assertOpen();
      const { now } = req;
      sweep(now);
      const destKey = `d:${req.destinationKey}`;
      const ipKey = req.ipKey === undefined ? undefined : `i:${req.ipKey}`;
      const destHits = hitsOf(destKey, req.destinationLimit, now) ?? [];
      const ipHits = hitsOf(ipKey, req.ipLimit, now);
      const waits: { destination: number; ip?: number } = {
        destination: windowWait(destHits, req.destinationLimit, now),
      };
      if (ipHits && req.ipLimit) waits.ip = windowWait(ipHits, req.ipLimit, now);
      const decision = decideIssue(req, challenges.get(req.challengeKey), waits);
      if (decision.status === 'issued') {
        windows.set(destKey, { hits: [...destHits, now], expiresAt: now + req.destinationLimit.windowMs });
        if (ipKey !== undefined && ipHits && req.ipLimit) {
          windows.set(ipKey, { hits: [...ipHits, now], expiresAt: now + req.ipLimit.windowMs });
        }
        challenges.set(req.challengeKey, issuedRecord(req, decision.attempts));
      }
      return decision;
    },

    async verify(req: OtpVerifyRequest): Promise<OtpVerifyResult> {
      assertOpen();
      const { result, next } = decideVerify(req, challenges.get(req.challengeKey));
      if (next?.consumed) challenges.delete(req.challengeKey);
      else if (next) challenges.set(req.challengeKey, next);
      // Equal cost (issue 15): a verify that counts nothing (no challenge, expired, locked) copies and writes
      // a record too, as a counted wrong guess does: one map read and one map write either way.
      else {
        decoy = { ...decoy, attempts: decoy.attempts + 1 };
        decoys.set(DECOY, decoy);
      }
      return result;
    },

    dump(): string[] {
      const out: string[] = [];
      for (const [k, c] of challenges) out.push(k, ...Object.values(c).map(String));
      for (const [k, w] of windows) out.push(k, String(w.expiresAt), ...w.hits.map(String));
      return out;
    },
  };
  return closeable(store, () => {
    closed = true;
    challenges.clear();
    windows.clear();
  });
}
