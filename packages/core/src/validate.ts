/** Makes the error an option check throws; each package passes its own (`OtpError` with `INVALID_OPTIONS`). */
export type OptionErrorFactory = (message: string) => Error;

/** Option checks bound to one package's error: each returns the value when valid and throws otherwise. */
export interface OptionChecks {
  /** An integer >= 1. */
  positiveInt(name: string, value: unknown): number;
  /** An integer >= 0. */
  nonNegativeInt(name: string, value: unknown): number;
  /** An integer from `min` to `max`, both included. */
  intInRange(name: string, value: unknown, min: number, max: number): number;
  /** A duration in milliseconds: a finite number >= `min` (default 0). */
  durationMs(name: string, value: unknown, min?: number): number;
  /** A string with at least one non-blank character. */
  nonEmptyString(name: string, value: unknown): string;
  /** One of `allowed`. */
  oneOf<const T extends string>(name: string, value: unknown, allowed: readonly T[]): T;
}

const show = (value: unknown) => (typeof value === 'string' ? JSON.stringify(value) : String(value));

/**
 * The one set of option validators: every package checks its options with these, bound to its own error
 * class, so the same mistake reads the same everywhere and fails before any I/O.
 *
 * @example
 * ```ts
 * const check = optionChecks((m) => new OtpError(OtpErrorCode.INVALID_OPTIONS, m));
 * const ttlMs = check.durationMs('ttlMs', options.ttlMs ?? 300_000, 1);
 * ```
 */
export function optionChecks(fail: OptionErrorFactory): OptionChecks {
  return {
    positiveInt(name, value) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
        throw fail(`${name} must be a positive integer, got ${show(value)}`);
      }
      return value;
    },
    nonNegativeInt(name, value) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
        throw fail(`${name} must be a non-negative integer, got ${show(value)}`);
      }
      return value;
    },
    intInRange(name, value, min, max) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw fail(`${name} must be an integer from ${min} to ${max}, got ${show(value)}`);
      }
      return value;
    },
    durationMs(name, value, min = 0) {
      if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
        throw fail(`${name} must be a number of milliseconds >= ${min}, got ${show(value)}`);
      }
      return value;
    },
    nonEmptyString(name, value) {
      if (typeof value !== 'string' || value.trim() === '') {
        throw fail(`${name} must be a non-empty string, got ${show(value)}`);
      }
      return value;
    },
    oneOf(name, value, allowed) {
      if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
        throw fail(`${name} must be one of ${allowed.map(show).join(', ')}, got ${show(value)}`);
      }
      return value as (typeof allowed)[number];
    },
  };
}
