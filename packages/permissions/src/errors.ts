import { AppError, type AppErrorOptions } from '@app/core';

/** The stable codes a {@link PermissionError} carries. */
export const PermissionErrorCode = {
  /** A resource id (or tenant id) from the caller failed validation: see "Resource ids" in the README. */
  INVALID_RESOURCE: 'INVALID_RESOURCE',
  /** An action or resource type is not a plain name (`[A-Za-z][A-Za-z0-9_-]*`, at most 64 characters). */
  INVALID_ACTION: 'INVALID_ACTION',
  /** A permission pattern is not `resource:action` where each side is a name or `*`. */
  INVALID_PERMISSION: 'INVALID_PERMISSION',
  /** A subject id is empty, too long, or holds control characters. */
  INVALID_SUBJECT: 'INVALID_SUBJECT',
  /** A role name is not a plain name. */
  INVALID_ROLE: 'INVALID_ROLE',
  /** Making a role inherit another would create a cycle. */
  ROLE_CYCLE: 'ROLE_CYCLE',
  /** The store or cache failed. The `cause` holds the underlying error. */
  STORE_FAILED: 'STORE_FAILED',
  /** The service or an adapter was used after `close()`. */
  CLOSED: 'CLOSED',
} as const;

/** One of {@link PermissionErrorCode}'s values. */
export type PermissionErrorCode = (typeof PermissionErrorCode)[keyof typeof PermissionErrorCode];

/**
 * The one error class of @app/permissions. Bad input is rejected with it before any I/O.
 *
 * @example
 * ```ts
 * try {
 *   await permissions.check('u1', 'read', { type: 'room', id: req.params.id });
 * } catch (err) {
 *   if (isAppError(err, '@app/permissions', PermissionErrorCode.INVALID_RESOURCE)) return res.status(400);
 *   throw err;
 * }
 * ```
 */
export class PermissionError extends AppError<PermissionErrorCode> {
  constructor(code: PermissionErrorCode, message: string, options?: AppErrorOptions) {
    super('@app/permissions', code, message, options);
  }
}
