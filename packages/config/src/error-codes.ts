/**
 * The codes of {@link ConfigError}, each with what it means; `errors.ts` builds the error kit from them
 * (`ConfigErrorCode`, `ConfigError`, the guard).
 */
export const CONFIG_ERROR_CODES = [
  /** The key is empty, too long, not a string, or contains a control character. */
  'INVALID_KEY',
  /** The value is not JSON, or fails the key's schema (`issues` says why). Nothing was written. */
  'INVALID_VALUE',
  /** An option passed to a factory or a call is out of range (or uses a renamed name). */
  'INVALID_OPTIONS',
  /** The durable store failed; nothing was changed in any cache. */
  'STORE_ERROR',
  /**
   * Redis (the shared layer, or a Redis store) did not answer within `commandTimeoutMs`, or is reconnecting.
   * Nothing was written. The service falls back to its caches where it can.
   */
  'UNAVAILABLE',
  /** The service was closed. */
  'CLOSED',
] as const;
