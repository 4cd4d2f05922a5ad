import { AppError, type AppErrorOptions } from '@app/core';

/** The codes a {@link DiError} carries. */
export const DiErrorCode = {
  /** Nothing is registered for a token (the message names it and the chain that asked for it). */
  NOT_REGISTERED: 'NOT_REGISTERED',
  /** A dependency cycle; the message prints the path, e.g. `a -> b -> a`. */
  CIRCULAR_DEPENDENCY: 'CIRCULAR_DEPENDENCY',
  /** `resolve()` (sync) reached an async provider: use `resolveAsync()`. */
  ASYNC_PROVIDER: 'ASYNC_PROVIDER',
  /** A singleton would capture a scoped instance. */
  LIFETIME_MISMATCH: 'LIFETIME_MISMATCH',
  /** A registration is malformed (no or several `use*` keys, bad lifetime, bad token). */
  INVALID_PROVIDER: 'INVALID_PROVIDER',
  /** A class cannot be constructed because its constructor parameters are unknown. */
  MISSING_METADATA: 'MISSING_METADATA',
  /** A config-bound provider's value failed its schema. */
  INVALID_CONFIG: 'INVALID_CONFIG',
  /** Rebuilding a singleton (config change or `invalidate`) failed; the old instance is kept. */
  REBUILD_FAILED: 'REBUILD_FAILED',
  /** A dispose hook threw; collected in the `AggregateError` thrown by `dispose()`. */
  DISPOSE_FAILED: 'DISPOSE_FAILED',
  /** The container (or scope) was disposed. */
  DISPOSED: 'DISPOSED',
  /** `currentScope()` was called outside `runInScope()`. */
  NO_ACTIVE_SCOPE: 'NO_ACTIVE_SCOPE',
} as const;

/** One of {@link DiErrorCode}. */
export type DiErrorCode = (typeof DiErrorCode)[keyof typeof DiErrorCode];

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
export class DiError extends AppError<DiErrorCode> {
  /** Token names from the outermost request to the failing one, when the error arose while resolving. */
  readonly path: readonly string[];

  constructor(code: DiErrorCode, message: string, options?: AppErrorOptions & { path?: readonly string[] }) {
    super('@app/di', code, message, options);
    this.path = options?.path ?? [];
  }
}
