import type { Closeable } from '@app/core';

/**
 * The storage contract of `@app/otp`. A store never sees a code or a destination: only HMACs computed by
 * the service. Both methods must be atomic per challenge key: two concurrent calls behave as if one ran
 * after the other. `@app/otp/testing` checks an implementation against this contract.
 */

/** A sliding-window limit: at most `max` sends in any `windowMs` milliseconds. */
export interface OtpWindowLimit {
  /** Sends allowed in one window. */
  max: number;
  /** The window length in milliseconds. */
  windowMs: number;
}

/** What the service asks a store to record when it sends a code. All times are epoch milliseconds. */
export interface OtpIssueRequest {
  /** HMAC of (destination, purpose): identifies the one live challenge for that pair. */
  challengeKey: string;
  /** HMAC of the destination alone: the per-destination send window is counted under it. */
  destinationKey: string;
  /** HMAC of the client IP, when the caller passed one and an IP limit is configured. */
  ipKey?: string;
  /** The new challenge's random, opaque id. */
  challengeId: string;
  /** HMAC of the new code. */
  codeHash: string;
  /** The service clock's current time. */
  now: number;
  /** When the new code stops being accepted. */
  expiresAt: number;
  /** Wrong guesses after which the challenge is dead. */
  maxAttempts: number;
  /** Minimum time between two sends for the same challenge key. */
  cooldownMs: number;
  /** The per-destination window. */
  destinationLimit: OtpWindowLimit;
  /** The per-IP window; only applied with `ipKey`. */
  ipLimit?: OtpWindowLimit;
}

/**
 * The outcome of {@link OtpStore.issue}. `issued` replaced any previous challenge for the key, keeping its
 * attempt count when it was still live; `limited` wrote nothing.
 */
export type OtpIssueResult =
  | { status: 'issued'; attempts: number }
  | { status: 'limited'; reason: 'cooldown' | 'destination' | 'ip' | 'locked'; retryAfterMs: number };

/** What the service asks a store to check. */
export interface OtpVerifyRequest {
  /** HMAC of (destination, purpose). */
  challengeKey: string;
  /** HMAC of the code the user typed. */
  codeHash: string;
  /** When given, the live challenge must also have this id. */
  challengeId?: string;
  /** The service clock's current time. */
  now: number;
}

/**
 * The outcome of {@link OtpStore.verify}:
 * - `verified`: the code matched; the challenge is consumed.
 * - `mismatch`: wrong code (or challenge id); the attempt was counted and the challenge lives on.
 * - `locked`: wrong code, and this attempt reached `maxAttempts`: the challenge is dead.
 * - `expired`: the challenge exists but its time is up; nothing counted.
 * - `unavailable`: no live challenge (never sent, already used, or already locked); nothing counted.
 */
export type OtpVerifyResult =
  | { status: 'verified'; challengeId: string; attempts: number }
  | { status: 'mismatch' | 'locked'; challengeId: string; attempts: number }
  | { status: 'expired' | 'unavailable' };

/**
 * Storage for challenges and send limits. Implement it to add a backend, and prove it with
 * `otpStoreContract` from `@app/otp/testing`. `close()` (from `Closeable`) releases what the store itself
 * holds, never the client you passed in; later calls reject with `CLOSED`.
 */
export interface OtpStore extends Closeable {
  /**
   * Atomically: if a live challenge for `challengeKey` is locked, refuse (`locked`); if it was sent less
   * than `cooldownMs` ago, refuse (`cooldown`); if the destination or IP window is full, refuse; otherwise
   * record the send in the windows and replace the challenge, carrying over the attempts of a live one.
   */
  issue(request: OtpIssueRequest): Promise<OtpIssueResult>;
  /**
   * Atomically compares the code hash (and challenge id when given) with the live challenge; on success
   * consumes it; on failure counts the attempt. A dead, used or expired challenge is never counted.
   */
  verify(request: OtpVerifyRequest): Promise<OtpVerifyResult>;
}
