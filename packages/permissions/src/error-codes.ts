/**
 * The codes of {@link PermissionError}, each with what it means; `errors.ts` builds the error kit from them
 * (`PermissionErrorCode`, `PermissionError`, the guard).
 */
export const PERMISSION_ERROR_CODES = [
  'INVALID_RESOURCE',
  'INVALID_ACTION',
  'INVALID_PERMISSION',
  'INVALID_SUBJECT',
  'INVALID_ROLE',
  'ROLE_CYCLE',
  'STORE_FAILED',
  'CLOSED',
  'INVALID_OPTIONS',
] as const;
