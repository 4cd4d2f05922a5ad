import type { FailureClassification, FailureKind } from '@app/core';

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
]);
const NETWORK_NAMES = new Set(['TimeoutError', 'AbortError', 'RequestTimeout', 'FetchError']);

/**
 * True for errors that mean "no answer" (connection refused or reset, DNS failure, timeout) from Node,
 * undici, axios or an SDK, by their string `code` or `name`, looking through `cause` chains (an SDK's
 * wrapper around the socket error counts). The one network test of every channel.
 *
 * @example
 * ```ts
 * isNetworkError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })); // true
 * isNetworkError(new Error('wrapped', { cause: Object.assign(new Error(), { code: 'ETIMEDOUT' }) })); // true
 * ```
 */
export function isNetworkError(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 8) return false;
  const e = error as { code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (typeof e.name === 'string' && NETWORK_NAMES.has(e.name)) return true;
  return e.cause !== undefined && e.cause !== error && isNetworkError(e.cause, depth + 1);
}

/**
 * The classification of an HTTP status used by every built-in provider: 429, 408 (request timeout) and 5xx
 * are transient, 401/403 provider-level (credentials or account), any other status permanent.
 *
 * @example
 * ```ts
 * classifyHttpStatus(503); // 'transient'
 * classifyHttpStatus(401); // 'provider'
 * ```
 */
export function classifyHttpStatus(status: number): FailureKind {
  if (status === 429 || status === 408 || status >= 500) return 'transient';
  if (status === 401 || status === 403) return 'provider';
  return 'permanent';
}

/**
 * The HTTP status an error carries, wherever the SDK put it: `statusCode`, `status` or AWS's
 * `$metadata.httpStatusCode`. Undefined when it has none.
 *
 * @example
 * ```ts
 * httpStatusOf({ $metadata: { httpStatusCode: 429 } }); // 429
 * ```
 */
export function httpStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { statusCode?: unknown; status?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = [e.statusCode, e.status, e.$metadata?.httpStatusCode].find((s) => typeof s === 'number');
  return status as number | undefined;
}

/**
 * Classifies an error no channel-specific rule recognised: network errors are transient, an HTTP status is
 * mapped by {@link classifyHttpStatus} (a `retryAfterMs` on the error is kept), anything else counts as a
 * provider-level failure (fail over, do not retry). `classifyEmailError` and `classifySmsError` end in it.
 *
 * @example
 * ```ts
 * classifyFailure(Object.assign(new Error('busy'), { status: 429, retryAfterMs: 2000 }));
 * // { kind: 'transient', retryAfterMs: 2000 }
 * ```
 */
export function classifyFailure(error: unknown): FailureClassification {
  if (isNetworkError(error)) return { kind: 'transient' };
  const status = httpStatusOf(error);
  if (status === undefined) return { kind: 'provider' };
  const kind = classifyHttpStatus(status);
  const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
  return typeof retryAfterMs === 'number' && kind === 'transient' ? { kind, retryAfterMs } : { kind };
}

/**
 * Parses a `Retry-After` header (seconds, or an HTTP date) or, failing that, an epoch-seconds rate-limit
 * reset header (`X-RateLimit-Reset`) into a delay in ms. Header arrays use their first value. Returns
 * undefined when both are absent or unparsable.
 *
 * @example
 * ```ts
 * parseRetryAfter('2'); // 2000
 * parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT'); // ms until then (0 when past)
 * parseRetryAfter(undefined, String(Date.now() / 1000 + 5)); // ~5000
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
    if (text !== '' && !Number.isNaN(date)) return Math.max(0, date - now);
  }
  const reset = first(resetEpochSeconds);
  if (typeof reset === 'string' || typeof reset === 'number') {
    const seconds = Number(reset);
    if (Number.isFinite(seconds) && seconds > 0) return Math.max(0, Math.round(seconds * 1000 - now));
  }
  return undefined;
}
