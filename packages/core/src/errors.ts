const BRAND = Symbol.for('@app/core/AppError');

/** Options of {@link AppError}. */
export interface AppErrorOptions {
  /** The error that caused this one; set as the standard `error.cause`. @default undefined (no cause) */
  cause?: unknown;
}

/**
 * The base of every package's error class (`OtpError`, `ConfigError`...). Each carries a stable `code`
 * and a `package` name, and its message is prefixed with the package: `[@app/otp] ...`.
 *
 * `instanceof` fails across duplicate installs of a package; {@link isAppError} does not.
 *
 * @example
 * ```ts
 * export class OtpError extends AppError<OtpErrorCode> {
 *   constructor(code: OtpErrorCode, message: string, options?: AppErrorOptions) {
 *     super('@app/otp', code, message, options);
 *   }
 * }
 * ```
 */
export class AppError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly package: string;
  declare readonly [BRAND]: true;

  constructor(pkg: string, code: Code, message: string, options?: AppErrorOptions) {
    super(`[${pkg}] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.package = pkg;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/**
 * Tells whether `value` is an {@link AppError} (from any copy of any @app package), optionally of one
 * package and one code.
 *
 * @example
 * ```ts
 * if (isAppError(err, '@app/otp', 'RATE_LIMITED')) res.status(429);
 * ```
 */
export function isAppError(value: unknown, pkg?: string, code?: string): value is AppError {
  if (typeof value !== 'object' || value === null || !(value as Record<symbol, unknown>)[BRAND]) {
    return false;
  }
  const err = value as AppError;
  return (pkg === undefined || err.package === pkg) && (code === undefined || err.code === code);
}
