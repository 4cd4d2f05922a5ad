import { AppError, type AppErrorOptions } from '@app/core';

/** Every code an {@link OtpError} can carry. Compare with these constants, not with string literals. */
export const OtpErrorCode = {
  /** An option of `createOtpService` or of a store factory is missing or out of range. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** The HMAC secret is missing or shorter than 32 bytes. */
  INVALID_SECRET: 'INVALID_SECRET',
  /** `to` is not an E.164 phone number (sms) or an email address (email). */
  INVALID_DESTINATION: 'INVALID_DESTINATION',
  /** `purpose` is not 1-64 characters of `[A-Za-z0-9_.:-]` starting with a letter or digit. */
  INVALID_PURPOSE: 'INVALID_PURPOSE',
  /** A call argument has the wrong type (e.g. `code` is not a string). */
  INVALID_INPUT: 'INVALID_INPUT',
  /** `send` asked for a channel that was not given in `channels`. */
  CHANNEL_NOT_CONFIGURED: 'CHANNEL_NOT_CONFIGURED',
  /** The `destinationPolicy` hook refused the destination (e.g. a country outside the allowlist). */
  DESTINATION_REJECTED: 'DESTINATION_REJECTED',
  /** A send limit was hit; see {@link RateLimitedError.retryAfter}. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The channel failed to deliver the code. The challenge was stored and counts against the limits. */
  DELIVERY_FAILED: 'DELIVERY_FAILED',
  /** The service or store was used after `close()`. */
  CLOSED: 'CLOSED',
} as const;

/** The union of {@link OtpErrorCode} values. */
export type OtpErrorCode = (typeof OtpErrorCode)[keyof typeof OtpErrorCode];

/**
 * The one error class of `@app/otp`. Messages are prefixed `[@app/otp]`; recognise it across duplicate
 * installs with `isAppError(err, '@app/otp', OtpErrorCode.RATE_LIMITED)` from `@app/core`.
 *
 * @example
 * ```ts
 * try { await otp.send({ to, channel: 'sms', purpose: 'login' }); }
 * catch (err) { if (err instanceof OtpError && err.code === OtpErrorCode.INVALID_DESTINATION) ... }
 * ```
 */
export class OtpError extends AppError<OtpErrorCode> {
  constructor(code: OtpErrorCode, message: string, options?: AppErrorOptions) {
    super('@app/otp', code, message, options);
  }
}

/** Which send limit refused a {@link RateLimitedError}. */
export type RateLimitReason = 'cooldown' | 'destination' | 'ip' | 'locked';

/**
 * Thrown by `send` when a limit refuses it: the resend cooldown, the per-destination window, the per-IP
 * window, or a challenge locked after too many wrong guesses (until it expires). Map it to HTTP 429 with a
 * `Retry-After: ${err.retryAfter}` header.
 *
 * @example
 * ```ts
 * catch (err) {
 *   if (err instanceof RateLimitedError) res.status(429).set('Retry-After', String(err.retryAfter)).end();
 * }
 * ```
 */
export class RateLimitedError extends OtpError {
  /** Whole seconds until a send can succeed (at least 1). */
  readonly retryAfter: number;
  /** Which limit was hit. */
  readonly reason: RateLimitReason;

  constructor(reason: RateLimitReason, retryAfterMs: number) {
    const retryAfter = Math.max(1, Math.ceil(retryAfterMs / 1000));
    super(OtpErrorCode.RATE_LIMITED, `too many codes requested (${reason}); retry after ${retryAfter} s`);
    this.retryAfter = retryAfter;
    this.reason = reason;
  }
}
