import { type AppErrorOptions, defineErrors } from '@app/core';

const errors = defineErrors('@app/config', [
  'INVALID_KEY',
  'INVALID_VALUE',
  'INVALID_OPTIONS',
  'STORE_ERROR',
  'UNAVAILABLE',
  'CLOSED',
] as const);

/**
 * Every code a {@link ConfigError} carries:
 * - `INVALID_KEY`: the key is empty, too long, not a string, or contains a control character.
 * - `INVALID_VALUE`: the value is not JSON, or fails the key's schema. Nothing was written.
 * - `INVALID_OPTIONS`: an option passed to a factory or a call is out of range (or uses a renamed name).
 * - `STORE_ERROR`: the durable store failed; nothing was changed in any cache.
 * - `UNAVAILABLE`: Redis (the shared layer, or a Redis store) did not answer within `commandTimeoutMs`, or is
 *   reconnecting. Nothing was written. The service falls back to its caches where it can.
 * - `CLOSED`: the service was closed.
 */
export const ConfigErrorCode = errors.codes;

/** A {@link ConfigError} code. */
export type ConfigErrorCode = keyof typeof ConfigErrorCode;

/**
 * The one error class of `@app/config`. Check it with `instanceof`, or across duplicate installs with
 * {@link isConfigError}.
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
export class ConfigError extends errors.Base {
  /** For `INVALID_VALUE` from a schema: the issues as `path: message` strings. */
  readonly issues: readonly string[];

  constructor(
    code: ConfigErrorCode,
    message: string,
    options?: AppErrorOptions & { issues?: readonly string[] },
  ) {
    super(code, message, options);
    this.issues = options?.issues ?? [];
  }
}

/**
 * True for an error of `@app/config` (from any installed copy), optionally of one code.
 *
 * @example
 * ```ts
 * if (isConfigError(err, 'UNAVAILABLE')) res.status(503);
 * ```
 */
export const isConfigError = errors.is;

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
