import { constantTimeEqual } from './hashing.js';
import type {
  OtpIssueRequest,
  OtpIssueResult,
  OtpVerifyRequest,
  OtpVerifyResult,
  OtpWindowLimit,
} from './store.js';

/**
 * The storage-agnostic rules of a store, for stores that read state, decide in JS and write back inside
 * one atomic step (the memory store; the Prisma store's send). The Redis store runs the same rules in Lua.
 */

/** One challenge as a store keeps it. */
export interface ChallengeRecord {
  challengeId: string;
  codeHash: string;
  attempts: number;
  maxAttempts: number;
  expiresAt: number;
  lastSentAt: number;
  consumed: boolean;
}

function isLive(c: ChallengeRecord | undefined, now: number): c is ChallengeRecord {
  return c !== undefined && !c.consumed && c.expiresAt > now;
}

/** Send timestamps still inside the window, oldest first. */
export function pruneWindow(hits: readonly number[], limit: OtpWindowLimit, now: number): number[] {
  const cutoff = now - limit.windowMs;
  return hits.filter((t) => t > cutoff).sort((a, b) => a - b);
}

/** How long until a full window admits one more send, or 0 when it has room now. */
export function windowWait(hits: readonly number[], limit: OtpWindowLimit, now: number): number {
  if (hits.length < limit.max) return 0;
  const oldestThatMustLeave = hits[hits.length - limit.max] ?? now;
  return Math.max(1, oldestThatMustLeave + limit.windowMs - now);
}

/**
 * The send decision, given the current challenge and how long each window needs before it has room
 * (0: room now; see {@link windowWait}).
 */
export function decideIssue(
  req: OtpIssueRequest,
  current: ChallengeRecord | undefined,
  waits: { destination: number; ip?: number },
): OtpIssueResult {
  const { now } = req;
  let attempts = 0;
  if (isLive(current, now)) {
    if (current.attempts >= current.maxAttempts) {
      return { status: 'limited', reason: 'locked', retryAfterMs: current.expiresAt - now };
    }
    if (now - current.lastSentAt < req.cooldownMs) {
      return {
        status: 'limited',
        reason: 'cooldown',
        retryAfterMs: current.lastSentAt + req.cooldownMs - now,
      };
    }
    attempts = current.attempts;
  }
  if (waits.destination > 0)
    return { status: 'limited', reason: 'destination', retryAfterMs: waits.destination };
  if (waits.ip !== undefined && waits.ip > 0)
    return { status: 'limited', reason: 'ip', retryAfterMs: waits.ip };
  return { status: 'issued', attempts };
}

/** The record `issue` writes once {@link decideIssue} said `issued`. */
export function issuedRecord(req: OtpIssueRequest, attempts: number): ChallengeRecord {
  return {
    challengeId: req.challengeId,
    codeHash: req.codeHash,
    attempts,
    maxAttempts: req.maxAttempts,
    expiresAt: req.expiresAt,
    lastSentAt: req.now,
    consumed: false,
  };
}

/** The verify decision and the record to write back (`undefined`: leave it as it is). */
export function decideVerify(
  req: OtpVerifyRequest,
  current: ChallengeRecord | undefined,
): { result: OtpVerifyResult; next?: ChallengeRecord } {
  if (current === undefined || current.consumed) return { result: { status: 'unavailable' } };
  if (current.expiresAt <= req.now) return { result: { status: 'expired' } };
  if (current.attempts >= current.maxAttempts) return { result: { status: 'unavailable' } };
  // Both comparisons always run, so timing says nothing about which part was wrong.
  const codeOk = constantTimeEqual(current.codeHash, req.codeHash);
  const idOk = req.challengeId === undefined || constantTimeEqual(current.challengeId, req.challengeId);
  if (codeOk && idOk) {
    return {
      result: { status: 'verified', challengeId: current.challengeId, attempts: current.attempts },
      next: { ...current, consumed: true },
    };
  }
  const attempts = current.attempts + 1;
  return {
    result: {
      status: attempts >= current.maxAttempts ? 'locked' : 'mismatch',
      challengeId: current.challengeId,
      attempts,
    },
    next: { ...current, attempts },
  };
}
