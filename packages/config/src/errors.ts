import { AppError, type AppErrorOptions } from '@app/core';

/** Every code a {@link ConfigError} carries. */
export const ConfigErrorCode = {
  /** The key is empty, too long, not a string, or contains a control character. */
  INVALID_KEY: 'INVALID_KEY',
  /** The value is not JSON, or fails the key's schema. Nothing was written. */
  INVALID_VALUE: 'INVALID_VALUE',
  /** An option passed to a factory or a call is out of range. */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** The durable store failed; nothing was changed in any cache. */
  STORE_ERROR: 'STORE_ERROR',
  /** The shared layer (Redis) is unreachable. The service handles it; adapters throw it. */
  UNAVAILABLE: 'UNAVAILABLE',
  /** The service was closed. */
  CLOSED: 'CLOSED',
} as const;

/** A {@link ConfigError} code. */
export type ConfigErrorCode = (typeof ConfigErrorCode)[keyof typeof ConfigErrorCode];

/**
 * The one error class of `@app/config`. Check it with `instanceof`, or across duplicate installs with
 * `isAppError(err, '@app/config', 'INVALID_VALUE')`.
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
export class ConfigError extends AppError<ConfigErrorCode> {
  /** For `INVALID_VALUE` from a schema: the issues as `path: message` strings. */
  readonly issues: readonly string[];

  constructor(
    code: ConfigErrorCode,
    message: string,
    options?: AppErrorOptions & { issues?: readonly string[] },
  ) {
    super('@app/config', code, message, options);
    this.issues = options?.issues ?? [];
  }
}
