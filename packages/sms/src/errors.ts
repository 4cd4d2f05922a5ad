import { defineErrors, type FailureClassification, type ProviderAttempt } from '@app/core';
import { classifyFailure } from '@app/delivery';
import { SMS_ERROR_CODES } from './error-codes.js';

const errors = defineErrors('@app/sms', SMS_ERROR_CODES);

/** Codes of {@link SmsError}. Compare against these constants, never against message text. */
export const SmsErrorCode = errors.codes;
export type SmsErrorCode = keyof typeof SmsErrorCode;

/** Options of {@link SmsError}. */
export interface SmsErrorOptions {
  /** The error that caused this one (e.g. the SDK's exception). @default undefined */
  cause?: unknown;
  /** The provider that failed, when one did. @default undefined */
  provider?: string;
  /** HTTP status returned by the provider, when there was one. @default undefined */
  status?: number;
  /** The provider's own error code (Twilio's numeric `code`, e.g. 21211). @default undefined */
  providerCode?: number | string;
  /** How long the provider asked us to wait before retrying, in ms. @default undefined */
  retryAfterMs?: number;
  /** Every failed attempt, for `ALL_PROVIDERS_FAILED`. @default undefined */
  attempts?: readonly ProviderAttempt[];
}

/**
 * The one error class of `@app/sms`. Branded by `@app/core` so `isAppError(err, '@app/sms', code)` works
 * across duplicate installs.
 *
 * @example
 * ```ts
 * try { await sms.send(to, body); }
 * catch (err) {
 *   if (err instanceof SmsError && err.code === SmsErrorCode.INVALID_PHONE_NUMBER) return badRequest();
 *   throw err;
 * }
 * ```
 */
export class SmsError extends errors.Base {
  readonly provider?: string;
  readonly status?: number;
  readonly providerCode?: number | string;
  readonly retryAfterMs?: number;
  readonly attempts: readonly ProviderAttempt[];

  constructor(code: SmsErrorCode, message: string, options: SmsErrorOptions = {}) {
    super(code, message, { cause: options.cause });
    this.provider = options.provider;
    this.status = options.status;
    this.providerCode = options.providerCode;
    this.retryAfterMs = options.retryAfterMs;
    this.attempts = options.attempts ?? [];
  }
}

/**
 * Tells whether `value` is an {@link SmsError} (from any copy of `@app/sms`), optionally with one code.
 *
 * @example
 * ```ts
 * if (isSmsError(err, SmsErrorCode.RECIPIENT_REJECTED)) markNumberInvalid(user);
 * ```
 */
export const isSmsError = errors.isOf(SmsError);

/**
 * The default failure classification of the SMS service: `RATE_LIMITED` and `PROVIDER_UNAVAILABLE` are
 * transient (retried, then failed over), `PROVIDER_AUTH_FAILED`, `PROVIDER_MISCONFIGURED` and
 * `PROVIDER_FAILED` are provider-level (failed over at once), every other `SmsError` is permanent. Errors
 * that are not `SmsError`s (from a hand-written provider) are judged by `@app/delivery`'s `classifyFailure`:
 * network errors and 408/429/5xx transient, 401/403 provider-level, other 4xx permanent, anything else
 * provider-level.
 *
 * @example
 * ```ts
 * createSmsService({ providers, classify: (err) => myRule(err) ?? classifySmsError(err) });
 * ```
 */
export function classifySmsError(error: unknown): FailureClassification {
  if (isSmsError(error)) {
    switch (error.code) {
      case SmsErrorCode.RATE_LIMITED:
        return error.retryAfterMs === undefined
          ? { kind: 'transient' }
          : { kind: 'transient', retryAfterMs: error.retryAfterMs };
      case SmsErrorCode.PROVIDER_UNAVAILABLE:
        return { kind: 'transient' };
      case SmsErrorCode.PROVIDER_AUTH_FAILED:
      case SmsErrorCode.PROVIDER_MISCONFIGURED:
      case SmsErrorCode.PROVIDER_FAILED:
        return { kind: 'provider' };
      default:
        return { kind: 'permanent' };
    }
  }
  return classifyFailure(error);
}
