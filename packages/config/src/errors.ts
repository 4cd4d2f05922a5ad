import { defineErrors } from '@app/core';

const errors = defineErrors('@app/config', [
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
] as const);

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
