import { AppError, type AppErrorOptions, type FailureKind } from '@app/core';

/** Codes of {@link EmailError}. */
export const EmailErrorCode = {
  /** The message failed validation; nothing was sent. `issues` lists why. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** A factory was given unusable options. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /**
   * A provider's options in config (`email.providers.<name>`) are missing or invalid, so the provider
   * could not be built. Thrown before any network call; the message names the key, never the values.
   */
  INVALID_PROVIDER_CONFIG: 'INVALID_PROVIDER_CONFIG',
  /** A provider call failed; `kind` says whether it was transient, provider-level or permanent. */
  PROVIDER_ERROR: 'PROVIDER_ERROR',
  /** An idempotency key was reused for a different message. */
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  /** Another call with the same idempotency key is still sending and did not finish in time. */
  IDEMPOTENCY_IN_PROGRESS: 'IDEMPOTENCY_IN_PROGRESS',
  /**
   * A send with an idempotency key was still retrying when half of `lockMs` had passed: it stopped without
   * another attempt and freed the key, so the key never expires while this send could still go out.
   */
  IDEMPOTENCY_TIMEOUT: 'IDEMPOTENCY_TIMEOUT',
  /** The service was closed. */
  CLOSED: 'CLOSED',
} as const;
export type EmailErrorCode = (typeof EmailErrorCode)[keyof typeof EmailErrorCode];

/** Options of {@link EmailError}. */
export interface EmailErrorOptions extends AppErrorOptions {
  /** Validation problems, as `field: problem` strings. @default [] */
  issues?: string[];
}

/**
 * The error every `@app/email` function throws. Check it with `isAppError(err, '@app/email', code)`.
 *
 * @example
 * ```ts
 * try { await email.send(msg); }
 * catch (err) { if (isAppError(err, '@app/email', EmailErrorCode.INVALID_MESSAGE)) console.log(err.issues); }
 * ```
 */
export class EmailError extends AppError<EmailErrorCode> {
  /** Validation problems (for `INVALID_MESSAGE`). */
  readonly issues: readonly string[];
  constructor(code: EmailErrorCode, message: string, options: EmailErrorOptions = {}) {
    super('@app/email', code, message, options);
    this.issues = options.issues ?? [];
  }
}

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

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'FetchError']);

/**
 * True for errors that mean "no answer" (connection refused or reset, DNS failure, timeout), looking
 * through `cause` chains.
 *
 * @example
 * ```ts
 * isNetworkError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })); // true
 * ```
 */
export function isNetworkError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (typeof e.name === 'string' && NETWORK_NAMES.has(e.name)) return true;
  return e.cause !== undefined && e.cause !== error && isNetworkError(e.cause);
}

/**
 * The classification of an HTTP status used by every built-in provider: 429/408/5xx transient,
 * 401/403 provider-level (credentials or account), other 4xx permanent.
 *
 * @example
 * ```ts
 * classifyHttpStatus(503); // 'transient'
 * ```
 */
export function classifyHttpStatus(status: number): FailureKind {
  if (status === 429 || status === 408 || status >= 500) return 'transient';
  if (status === 401 || status === 403) return 'provider';
  return 'permanent';
}

/**
 * Parses a `Retry-After` header (seconds or HTTP date) or an epoch-seconds reset header
 * (`X-RateLimit-Reset`) into a delay in ms. Returns undefined when absent or unparsable.
 *
 * @example
 * ```ts
 * parseRetryAfter('2'); // 2000
 * ```
 */
export function parseRetryAfter(
  retryAfter: unknown,
  resetEpochSeconds?: unknown,
  now: number = Date.now(),
): number | undefined {
  const first = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const ra = first(retryAfter);
  if (typeof ra === 'string' || typeof ra === 'number') {
    const text = String(ra).trim();
    if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
    const date = Date.parse(text);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = first(resetEpochSeconds);
  if (typeof reset === 'string' || typeof reset === 'number') {
    const seconds = Number(reset);
    if (Number.isFinite(seconds) && seconds > 0) return Math.max(0, Math.round(seconds * 1000 - now));
  }
  return undefined;
}
