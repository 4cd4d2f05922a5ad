import { defineErrors } from '@app/core';

const errors = defineErrors('@app/console', [
  /** An option passed to `createConsole` is missing or wrong. */
  'INVALID_OPTIONS',
  /** A request body or parameter is malformed (answered with 400). */
  'INVALID_INPUT',
  /** The service a route needs was not given to `createConsole` (answered with 404). */
  'NOT_AVAILABLE',
] as const);

/** The codes a {@link ConsoleError} carries: `INVALID_OPTIONS`, `INVALID_INPUT` and `NOT_AVAILABLE`. */
export const ConsoleErrorCode = errors.codes;
/** One of {@link ConsoleErrorCode}. */
export type ConsoleErrorCode = keyof typeof ConsoleErrorCode;

/**
 * The one error class of `@app/console`; its message starts with `[@app/console]`.
 *
 * @example
 * ```ts
 * try { createConsole({ authorize }); } catch (err) { if (err instanceof ConsoleError) console.log(err.code); }
 * ```
 */
export class ConsoleError extends errors.Base {}

/**
 * Whether `value` is a {@link ConsoleError} (optionally with `code`).
 *
 * @example
 * ```ts
 * if (isConsoleError(err, ConsoleErrorCode.INVALID_OPTIONS)) fixTheOptions();
 * ```
 */
export const isConsoleError = errors.is;
