import { randomBytes } from 'node:crypto';
import type { OtpIssueRequest, OtpVerifyResult } from './store.js';

/** The clock of every contract test: a fixed epoch-ms instant. */
export const CONTRACT_T0 = 1_000_000_000_000;

/** 32 random bytes as hex: a fresh key or hash, as the service would make one. */
export const hex = (): string => randomBytes(32).toString('hex');

/**
 * An issue request with fresh random keys, at {@link CONTRACT_T0}, 5 attempts, a 30 s cooldown and 5 sends
 * per hour per destination, with `overrides` applied.
 *
 * @example
 * ```ts
 * const req = issueRequest({ maxAttempts: 3 });
 * await store.issue(req);
 * ```
 */
export function issueRequest(overrides: Partial<OtpIssueRequest> = {}): OtpIssueRequest {
  return {
    challengeKey: hex(),
    destinationKey: hex(),
    challengeId: randomBytes(16).toString('base64url'),
    codeHash: hex(),
    now: CONTRACT_T0,
    expiresAt: CONTRACT_T0 + 300_000,
    maxAttempts: 5,
    cooldownMs: 30_000,
    destinationLimit: { max: 5, windowMs: 3_600_000 },
    ...overrides,
  };
}

/**
 * How many results had each status.
 *
 * @example
 * ```ts
 * tally(results); // { verified: 1, unavailable: 999 }
 * ```
 */
export function tally(results: readonly OtpVerifyResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}
