import { type AppErrorOptions, defineErrors, type FailureKind, type ProviderAttempt } from '@app/core';
import { EMAIL_ERROR_CODES } from './error-codes.js';

const errors = defineErrors('@app/email', EMAIL_ERROR_CODES);

/** Codes of {@link EmailError}. */
export const EmailErrorCode = errors.codes;
export type EmailErrorCode = keyof typeof EmailErrorCode;

/** Options of {@link EmailError}. */
export interface EmailErrorOptions extends AppErrorOptions {
  /** Every failed attempt, for `ALL_PROVIDERS_FAILED`. @default [] */
  attempts?: readonly ProviderAttempt[];
}

/**
 * The error every `@app/email` function throws (router failures included: `ALL_PROVIDERS_FAILED`,
 * `UNKNOWN_PROVIDER`, `NO_PROVIDER`). Check it with {@link isEmailError} (works across duplicate installs).
 *
 * @example
 * ```ts
 * try { await email.send(msg); }
 * catch (err) { if (isAppError(err, '@app/email', EmailErrorCode.INVALID_MESSAGE)) console.log(err.issues); }
 * ```
 */
export class EmailError extends errors.Base {
  /** Every failed attempt (for `ALL_PROVIDERS_FAILED`). */
  readonly attempts: readonly ProviderAttempt[];
  constructor(code: EmailErrorCode, message: string, options: EmailErrorOptions = {}) {
    super(code, message, options);
    this.attempts = options.attempts ?? [];
  }
}

/**
 * True for an {@link EmailError} (from any installed copy of `@app/email`), optionally of one code.
 *
 * @example
 * ```ts
 * if (isEmailError(err, EmailErrorCode.INVALID_MESSAGE)) return badRequest(err.issues);
 * ```
 */
export const isEmailError = errors.isOf(EmailError);

/** Details of an {@link EmailProviderError}. */
export interface EmailProviderErrorOptions extends AppErrorOptions {
  /** The provider's HTTP status, when there was a response. @default undefined */
  statusCode?: number;
  /** How long the provider asked us to wait (Retry-After, X-RateLimit-Reset), in ms. @default undefined */
  retryAfterMs?: number;
}

/**
 * A failed provider call, classified: `transient` (429, 5xx, network, timeout: retried), `provider`
 * (bad credentials, suspended account: failed over) or `permanent` (rejected recipient or payload: thrown).
 *
 * @example
 * ```ts
 * throw new EmailProviderError('myprovider', 'transient', 'HTTP 503', { statusCode: 503 });
 * ```
 */
export class EmailProviderError extends EmailError {
  readonly provider: string;
  readonly kind: FailureKind;
  readonly statusCode: number | undefined;
  readonly retryAfterMs: number | undefined;
  constructor(provider: string, kind: FailureKind, message: string, options: EmailProviderErrorOptions = {}) {
    super(EmailErrorCode.PROVIDER_ERROR, `${provider}: ${message}`, options);
    this.provider = provider;
    this.kind = kind;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}
