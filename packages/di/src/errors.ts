import { type AppErrorOptions, defineErrors } from '@app/core';
import { DI_ERROR_CODES } from './error-codes.js';

const errors = defineErrors('@app/di', DI_ERROR_CODES);

/**
 * The codes a {@link DiError} carries:
 * - `NOT_REGISTERED`: nothing is registered for a token (the message names it and the chain that asked for it).
 * - `CIRCULAR_DEPENDENCY`: a dependency cycle; the message prints the path, e.g. `a -> b -> a`.
 * - `ASYNC_PROVIDER`: `resolve()` (sync) reached an async provider: use `resolveAsync()`.
 * - `LIFETIME_MISMATCH`: a singleton would capture a scoped instance.
 * - `INVALID_PROVIDER`: a registration is malformed (no or several `use*` keys, bad lifetime, bad token).
 * - `MISSING_METADATA`: a class cannot be constructed because its constructor parameters are unknown.
 * - `INVALID_CONFIG`: a config-bound provider's value failed its schema.
 * - `REBUILD_FAILED`: rebuilding a singleton (config change or `invalidate`) failed; the old instance is kept.
 * - `DISPOSE_FAILED`: a dispose hook threw; collected in the `AggregateError` thrown by `dispose()`.
 * - `DISPOSED`: the container (or scope) was disposed.
 * - `NO_ACTIVE_SCOPE`: `currentScope()` was called outside `runInScope()`.
 */
export const DiErrorCode = errors.codes;

/** One of {@link DiErrorCode}. */
export type DiErrorCode = keyof typeof DiErrorCode;

/**
 * The error every @app/di failure throws, with a stable `code`. When the failure happened while
 * resolving, `path` lists the token names from the outermost request to the failing one.
 *
 * @example
 * ```ts
 * try {
 *   container.resolve(MAILER);
 * } catch (err) {
 *   if (err instanceof DiError && err.code === DiErrorCode.ASYNC_PROVIDER) {
 *     await container.resolveAsync(MAILER);
 *   }
 * }
 * ```
 */
export class DiError extends errors.Base {
  /** Token names from the outermost request to the failing one, when the error arose while resolving. */
  readonly path: readonly string[];

  constructor(code: DiErrorCode, message: string, options?: DiErrorOptions) {
    super(code, message, options);
    this.path = options?.path ?? [];
  }
}

/** Options of a {@link DiError}. */
export interface DiErrorOptions extends AppErrorOptions {
  /** Token names from the outermost request to the failing one. @default [] */
  path?: readonly string[];
}

/**
 * Tells whether `value` is a {@link DiError} (from any installed copy of @app/di), optionally of one code.
 *
 * @example
 * ```ts
 * try {
 *   container.resolve(MAILER);
 * } catch (err) {
 *   if (isDiError(err, 'NOT_REGISTERED')) console.warn(err.message);
 * }
 * ```
 */
export const isDiError = errors.isOf(DiError);
