const BRAND = Symbol.for('@app/core/AppError');

/** Options of {@link AppError}. */
export interface AppErrorOptions {
  /** The error that caused this one; set as the standard `error.cause`. @default undefined (no cause) */
  cause?: unknown;
  /** Every problem found in rejected input, as `path: message` strings (validation codes). @default [] */
  issues?: readonly string[];
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
  /** Every problem found in rejected input, as `path: message` strings; empty unless a validation code says. */
  readonly issues: readonly string[];
  declare readonly [BRAND]: true;

  constructor(pkg: string, code: Code, message: string, options?: AppErrorOptions) {
    super(`[${pkg}] ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.package = pkg;
    this.issues = options?.issues ?? [];
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

/** The class {@link defineErrors} makes: an {@link AppError} bound to one package and its code union. */
export interface PackageErrorClass<Code extends string> {
  new (code: Code, message: string, options?: AppErrorOptions): AppError<Code>;
  readonly prototype: AppError<Code>;
}

/** What {@link defineErrors} returns. */
export interface DefinedErrors<Code extends string> {
  /** The package's base error class; extend it (`class OtpError extends errors.Base {}`) to give it its name. */
  readonly Base: PackageErrorClass<Code>;
  /** Every code, frozen: `OtpErrorCode.RATE_LIMITED`. */
  readonly codes: Readonly<Record<Code, Code>>;
  /** True for an error of this package (from any installed copy), optionally of one code. */
  readonly is: (value: unknown, code?: Code) => value is AppError<Code>;
  /**
   * {@link DefinedErrors.is} narrowed to the package's named class (`isDiError = errors.isOf(DiError)`), so a
   * checked error shows the class's own fields. Same test as `is`: holds across duplicate installs.
   */
  readonly isOf: <E extends AppError<Code>>(
    cls: abstract new (...args: never[]) => E,
  ) => (value: unknown, code?: Code) => value is E;
}

/**
 * One package's error kit from one line: a base class whose messages are prefixed `[pkg]`, a frozen code
 * map, and an `isXError` guard that works across duplicate installs.
 *
 * @example
 * ```ts
 * const errors = defineErrors('@app/otp', ['INVALID_OPTIONS', 'RATE_LIMITED'] as const);
 * export const OtpErrorCode = errors.codes;
 * export type OtpErrorCode = keyof typeof OtpErrorCode;
 * export class OtpError extends errors.Base {}
 * export const isOtpError = errors.isOf(OtpError);
 * ```
 */
export function defineErrors<const Code extends string>(
  pkg: string,
  codes: readonly Code[],
): DefinedErrors<Code> {
  class Base extends AppError<Code> {
    constructor(code: Code, message: string, options?: AppErrorOptions) {
      super(pkg, code, message, options);
    }
  }
  const map = Object.freeze(Object.fromEntries(codes.map((c) => [c, c]))) as Readonly<Record<Code, Code>>;
  const is = (value: unknown, code?: Code): value is AppError<Code> => isAppError(value, pkg, code);
  const isOf = <E extends AppError<Code>>(_cls: abstract new (...args: never[]) => E) =>
    is as (value: unknown, code?: Code) => value is E;
  return Object.freeze({ Base, codes: map, is, isOf });
}
