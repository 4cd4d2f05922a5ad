/**
 * The codes of {@link OtpError}, each with what it means; `errors.ts` builds the error kit from them
 * (`OtpErrorCode`, `OtpError`, the guard).
 */
export const OTP_ERROR_CODES = [
  /** An option of `createOtpService` or of a store factory is missing or out of range. */
  'INVALID_OPTIONS',
  /** The HMAC secret is missing or shorter than 32 bytes. */
  'INVALID_SECRET',
  /** `to` is not an E.164 phone number (sms) or an email address (email). */
  'INVALID_DESTINATION',
  /** `purpose` is not 1-64 characters of `[A-Za-z0-9_.:-]` starting with a letter or digit. */
  'INVALID_PURPOSE',
  /** A call argument has the wrong type (e.g. `code` is not a string). */
  'INVALID_INPUT',
  /** `send` asked for a channel that was not given in `channels`. */
  'CHANNEL_NOT_CONFIGURED',
  /** The `destinationPolicy` hook refused the destination (e.g. a country outside the allowlist). */
  'DESTINATION_REJECTED',
  /** A send limit was hit; see {@link RateLimitedError.retryAfterMs}. */
  'RATE_LIMITED',
  /** The channel failed to deliver the code. The challenge was stored and counts against the limits. */
  'DELIVERY_FAILED',
  /** The service or store was used after `close()`. */
  'CLOSED',
  /**
   * The store (Redis, the database) is unreachable or did not answer within its `timeoutMs`: nothing was
   * queued behind a reconnect. Retryable.
   */
  'UNAVAILABLE',
  /**
   * `durability` is on and fewer replicas than asked acknowledged the write within `durability.timeoutMs`:
   * the send or guess may be lost if the master fails now. Retryable.
   */
  'NOT_REPLICATED',
] as const;
