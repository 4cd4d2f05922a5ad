/**
 * The codes of {@link EventsError}, each with what it means; `errors.ts` builds the error kit from them
 * (`EventsErrorCode`, `EventsError`, the guard).
 */
export const EVENTS_ERROR_CODES = [
  'INVALID_OPTIONS',
  'INVALID_ARGUMENT',
  'INVALID_PAYLOAD',
  'CLOSED',
  'CORRUPT_EVENT',
  'ATTEMPTS_EXHAUSTED',
  'UNAVAILABLE',
  'NOT_REPLICATED',
] as const;
