import { defineErrors } from '@app/core';
import { OTP_ERROR_CODES } from './error-codes.js';

const errors = defineErrors('@app/otp', OTP_ERROR_CODES);

/**
 * Every code an {@link OtpError} can carry. Compare with these constants, not with string literals:
 * `INVALID_OPTIONS`, `INVALID_SECRET` (missing or shorter than 32 bytes), `INVALID_DESTINATION`,
 * `INVALID_PURPOSE`, `INVALID_INPUT`, `CHANNEL_NOT_CONFIGURED`, `DESTINATION_REJECTED` (the
 * `destinationPolicy` hook refused), `RATE_LIMITED` (see {@link RateLimitedError}), `DELIVERY_FAILED` (the
 * challenge was stored and counts against the limits), `CLOSED` (used after `close()`).
 */
export const OtpErrorCode = errors.codes;

/** The union of {@link OtpErrorCode} values. */
export type OtpErrorCode = keyof typeof OtpErrorCode;

/**
 * The one error class of `@app/otp`. Messages are prefixed `[@app/otp]`; recognise it across duplicate
 * installs with {@link isOtpError}.
 *
 * @example
 * ```ts
 * try { await otp.send({ to, channel: 'sms', purpose: 'login' }); }
 * catch (err) { if (err instanceof OtpError && err.code === OtpErrorCode.INVALID_DESTINATION) ... }
 * ```
 */
export class OtpError extends errors.Base {}

/**
 * True for an error of `@app/otp` (from any installed copy of the package), optionally of one code.
 *
 * @example
 * ```ts
 * if (isOtpError(err, OtpErrorCode.RATE_LIMITED)) res.status(429);
 * ```
 */
export const isOtpError = errors.isOf(OtpError);

/** Which send limit refused a {@link RateLimitedError}. */
export type RateLimitReason = 'cooldown' | 'destination' | 'ip' | 'locked';

/**
 * Thrown by `send` when a limit refuses it: the resend cooldown, the per-destination window, the per-IP
 * window, or a challenge locked after too many wrong guesses (until it expires). Map it to HTTP 429 with a
 * `Retry-After` header in whole seconds.
 *
 * @example
 * ```ts
 * catch (err) {
 *   if (err instanceof RateLimitedError) {
 *     res.status(429).set('Retry-After', String(Math.ceil(err.retryAfterMs / 1000))).end();
 *   }
 * }
 * ```
 */
export class RateLimitedError extends OtpError {
  /** Milliseconds until a send can succeed (at least 1). */
  readonly retryAfterMs: number;
  /** Which limit was hit. */
  readonly reason: RateLimitReason;

  constructor(reason: RateLimitReason, retryAfterMs: number) {
    const ms = Math.max(1, Math.ceil(retryAfterMs));
    super(
      OtpErrorCode.RATE_LIMITED,
      `too many codes requested (${reason}); retry after ${Math.ceil(ms / 1000)} s`,
    );
    this.retryAfterMs = ms;
    this.reason = reason;
  }
}
