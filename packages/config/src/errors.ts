import { defineErrors } from '@app/core';
import { CONFIG_ERROR_CODES } from './error-codes.js';

const errors = defineErrors('@app/config', CONFIG_ERROR_CODES);

/**
 * Every code a {@link ConfigError} carries: `INVALID_KEY`, `INVALID_VALUE` (nothing was written; `issues`
 * lists the schema's complaints), `INVALID_OPTIONS`, `STORE_ERROR` (no cache changed), `UNAVAILABLE` (Redis
 * did not answer within `commandTimeoutMs`; nothing was written) and `CLOSED`.
 */
export const ConfigErrorCode = errors.codes;
/** A {@link ConfigError} code. */
export type ConfigErrorCode = keyof typeof ConfigErrorCode;

/**
 * The one error class of `@app/config`; `issues` holds a failed schema's problems as `path: message`
 * strings. Check it with `instanceof`, or across duplicate installs with {@link isConfigError}.
 *
 * @example
 * ```ts
 * try {
 *   await config.set('retries', -1);
 * } catch (err) {
 *   if (err instanceof ConfigError && err.code === ConfigErrorCode.INVALID_VALUE) console.log(err.issues);
 * }
 * ```
 */
export class ConfigError extends errors.Base {}

/** True for an error of `@app/config` (from any installed copy), optionally of one code: `isConfigError(err, 'UNAVAILABLE')`. */
export const isConfigError = errors.isOf(ConfigError);

/** Throws `INVALID_OPTIONS` when an option still uses its pre-`...Ms` name, which would otherwise be ignored. */
export function rejectRenamed(
  options: object | undefined,
  renames: Record<string, string>,
  where: string,
): void {
  if (options === undefined || options === null) return;
  for (const [old, now] of Object.entries(renames)) {
    if (old in options) {
      throw new ConfigError('INVALID_OPTIONS', `${where}: option '${old}' was renamed '${now}'`);
    }
  }
}
