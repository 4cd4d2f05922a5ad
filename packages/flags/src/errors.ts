import { defineErrors } from '@app/core';
import { FLAGS_ERROR_CODES } from './error-codes.js';

const errors = defineErrors('@app/flags', FLAGS_ERROR_CODES);

/**
 * The codes a {@link FlagsError} carries: `INVALID_DEFINITION` (nothing was written), `INVALID_FLAG_NAME`,
 * `INVALID_OPTIONS`, `SOURCE_ERROR` (the config source failed while loading) and `INVALID_IMPORT` (not an
 * Unleash features export).
 */
export const FlagsErrorCode = errors.codes;
/** One of {@link FlagsErrorCode}. */
export type FlagsErrorCode = keyof typeof FlagsErrorCode;

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
export class FlagsError extends errors.Base {}

/**
 * Tells whether `value` is a {@link FlagsError} (from any installed copy of `@app/flags`), optionally of one
 * code. Unlike `instanceof`, it holds across duplicate installs.
 *
 * @example
 * ```ts
 * try { await setFlag(config, 'checkout', definition); }
 * catch (err) { if (isFlagsError(err, 'INVALID_DEFINITION')) console.log(err.message); }
 * ```
 */
export const isFlagsError = errors.isOf(FlagsError);
