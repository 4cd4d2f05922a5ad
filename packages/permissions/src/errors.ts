import { defineErrors } from '@app/core';
import { PERMISSION_ERROR_CODES } from './error-codes.js';

const errors = defineErrors('@app/permissions', PERMISSION_ERROR_CODES);

/**
 * The stable codes a {@link PermissionError} carries:
 * - `INVALID_RESOURCE`: a resource id (or tenant id) from the caller failed validation (README, "Resource ids");
 * - `INVALID_ACTION`: an action or resource type is not a plain name (`[A-Za-z][A-Za-z0-9_-]*`, at most 64 characters);
 * - `INVALID_PERMISSION`: a permission pattern is not `resource:action` where each side is a name or `*`;
 * - `INVALID_SUBJECT`: a subject id is empty, too long, or holds control characters;
 * - `INVALID_ROLE`: a role name is not a plain name;
 * - `ROLE_CYCLE`: making a role inherit another would create a cycle;
 * - `STORE_FAILED`: the store or cache failed (the `cause` holds the underlying error);
 * - `CLOSED`: the service or an adapter was used after `close()`;
 * - `INVALID_OPTIONS`: an adapter's options are wrong (a Prisma client whose database cannot be told, say).
 */
export const PermissionErrorCode = errors.codes;

/** One of {@link PermissionErrorCode}'s values. */
export type PermissionErrorCode = keyof typeof PermissionErrorCode;

/**
 * The one error class of @app/permissions. Bad input is rejected with it before any I/O.
 *
 * @example
 * ```ts
 * try {
 *   await permissions.check('u1', 'read', { type: 'room', id: req.params.id });
 * } catch (err) {
 *   if (isPermissionsError(err, PermissionErrorCode.INVALID_RESOURCE)) return res.status(400);
 *   throw err;
 * }
 * ```
 */
export class PermissionError extends errors.Base {}

/**
 * True when `value` is a {@link PermissionError} (from any installed copy of @app/permissions), optionally
 * of one code.
 *
 * @example
 * ```ts
 * if (isPermissionsError(err, 'INVALID_RESOURCE')) res.status(400);
 * ```
 */
export const isPermissionsError = errors.isOf(PermissionError);
