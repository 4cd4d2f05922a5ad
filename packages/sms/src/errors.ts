import { defineErrors, type FailureClassification, type ProviderAttempt } from '@app/core';
import { classifyFailure, DELIVERY_ERROR_CODES } from '@app/delivery';

const errors = defineErrors('@app/sms', [
  /** `to` (or `from`) is not an E.164 number such as `+14155550123`. Thrown before any I/O. */
  'INVALID_PHONE_NUMBER',
  /** The body is empty, not a string, or longer than the configured bound. Thrown before any I/O. */
  'INVALID_BODY',
  /** Neither a `from` number nor a messaging service was given to a provider that needs one. */
  'MISSING_SENDER',
  /** The provider asked us to slow down (HTTP 429, Twilio 20429). Retried, honouring `retryAfterMs`. */
  'RATE_LIMITED',
  /** The provider failed in a way worth retrying: 5xx, network error, timeout. */
  'PROVIDER_UNAVAILABLE',
  /** The provider refused our credentials (Twilio 20003, HTTP 401). Not retried; the next provider is tried. */
  'PROVIDER_AUTH_FAILED',
  /** This provider's account or sender is unusable (invalid `from`, suspended account). Fails over. */
  'PROVIDER_MISCONFIGURED',
  /** The provider failed in an unclassified way. Fails over without retrying. */
  'PROVIDER_FAILED',
  /** The provider rejected the recipient (Twilio 21211, 21614, 21610...). Permanent: never retried. */
  'RECIPIENT_REJECTED',
  /** The provider rejected the message itself (other 4xx). Permanent: never retried. */
  'MESSAGE_REJECTED',
  /** Another call with the same idempotency key is still sending. */
  'IDEMPOTENCY_IN_PROGRESS',
  /** The idempotency key was already used for a different recipient, sender or body. */
  'IDEMPOTENCY_KEY_REUSED',
  /**
   * A send with an idempotency key was still retrying when half of `idempotency.lockMs` had passed: it
   * stopped without another attempt and freed the key, so the key never expires while this send could
   * still go out. Permanent for this call; calling again later is safe.
   */
  'IDEMPOTENCY_TIMEOUT',
  /** A status callback's signature is missing or does not match. */
  'INVALID_SIGNATURE',
  /** A status callback is malformed (no message id, unknown status). */
  'INVALID_CALLBACK',
  // INVALID_OPTIONS, INVALID_PROVIDER_CONFIG, ALL_PROVIDERS_FAILED, UNKNOWN_PROVIDER, NO_PROVIDER, CLOSED:
  ...DELIVERY_ERROR_CODES,
] as const);

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
