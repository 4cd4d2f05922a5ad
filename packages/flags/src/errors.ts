import { AppError, type AppErrorOptions } from '@app/core';

/** The codes a {@link FlagsError} carries. */
export const FlagsErrorCode = {
  /** A flag definition failed validation; nothing was written. */
  INVALID_DEFINITION: 'INVALID_DEFINITION',
  /** A flag name is empty, too long, or uses characters outside `[A-Za-z0-9._:-]`. */
  INVALID_FLAG_NAME: 'INVALID_FLAG_NAME',
  /** An option passed to a factory is missing or wrong. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** The config source failed while loading the flags. */
  SOURCE_ERROR: 'SOURCE_ERROR',
} as const;

/** One of {@link FlagsErrorCode}. */
export type FlagsErrorCode = (typeof FlagsErrorCode)[keyof typeof FlagsErrorCode];

/**
 * The one error class of `@app/flags`. Its message starts with `[@app/flags]`; `issues` lists every
 * problem found in a rejected definition (`rollout: must be a number from 0 to 100`).
 *
 * @example
 * ```ts
 * try { defineFlag('checkout', { enabled: true, rollout: 120 }); }
 * catch (err) { if (err instanceof FlagsError) console.log(err.code, err.issues); }
 * ```
 */
export class FlagsError extends AppError<FlagsErrorCode> {
  /** Every problem found, as `path: message`. Empty unless the code is INVALID_DEFINITION. */
  readonly issues: readonly string[];

  constructor(
    code: FlagsErrorCode,
    message: string,
    options?: AppErrorOptions & { issues?: readonly string[] },
  ) {
    super('@app/flags', code, message, options);
    this.issues = options?.issues ?? [];
  }
}
