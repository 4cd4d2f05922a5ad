/**
 * The codes of {@link FlagsError}, each with what it means; `errors.ts` builds the error kit from them
 * (`FlagsErrorCode`, `FlagsError`, the guard).
 */
export const FLAGS_ERROR_CODES = [
  /** A flag definition failed validation; nothing was written. */
  'INVALID_DEFINITION',
  /** A flag name is empty, too long, or uses characters outside `[A-Za-z0-9._:-]`. */
  'INVALID_FLAG_NAME',
  /** An option passed to a factory is missing or wrong. */
  'INVALID_OPTIONS',
  /** The config source failed while loading the flags. */
  'SOURCE_ERROR',
  /** What was given to `importUnleashFeatures` is not an Unleash features export. */
  'INVALID_IMPORT',
] as const;
