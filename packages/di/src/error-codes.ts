/**
 * The codes of {@link DiError}, each with what it means; `errors.ts` builds the error kit from them
 * (`DiErrorCode`, `DiError`, the guard).
 */
export const DI_ERROR_CODES = [
  'NOT_REGISTERED',
  'CIRCULAR_DEPENDENCY',
  'ASYNC_PROVIDER',
  'LIFETIME_MISMATCH',
  'INVALID_PROVIDER',
  'MISSING_METADATA',
  'INVALID_CONFIG',
  'REBUILD_FAILED',
  'DISPOSE_FAILED',
  'DISPOSED',
  'NO_ACTIVE_SCOPE',
] as const;
