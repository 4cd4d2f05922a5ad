/**
 * The codes of {@link DeliveryError}, each with what it means; `errors.ts` builds the error kit from them
 * (`DeliveryErrorCode`, `DeliveryError`, the guard).
 */
export const DELIVERY_OWN_ERROR_CODES = [
  /** A store factory was given unusable options. */
  'INVALID_OPTIONS',
  /** A key's holder kept committing and freeing it while the store read it: nothing could be answered. */
  'IDEMPOTENCY_IN_PROGRESS',
  /** A status update was malformed (no message or event id, no status, a rank that is not an integer). */
  'INVALID_STATUS_UPDATE',
  /** The store's backend (Redis, the database) did not answer within the store's `timeoutMs`. */
  'STORE_UNAVAILABLE',
] as const;
