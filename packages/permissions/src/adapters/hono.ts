import type { Context, MiddlewareHandler } from 'hono';
import { type PermissionGuardOptions, type PermissionGuards, permissionGuards } from '../middleware.js';

/** Guards Hono routes: `require(action, resourceType, options?)` returns a `MiddlewareHandler`. */
export type HonoPermissions = PermissionGuards<Context, MiddlewareHandler>;

/**
 * Hono middleware over the permission service. `getSubject` receives the Hono `Context`.
 *
 * @example
 * ```ts
 * import { honoPermissions } from '@app/permissions/hono';
 *
 * const guard = honoPermissions({ permissions, getSubject: (c) => c.get('userId') });
 * app.delete('/rooms/:roomId', guard.require('delete', 'room', { param: 'roomId' }), (c) => c.body(null, 204));
 * ```
 */
export function honoPermissions(options: PermissionGuardOptions<Context>): HonoPermissions {
  return permissionGuards<Context, MiddlewareHandler>(options, (guard) => async (c, next) => {
    const outcome = await guard.authorize(c, (name) => c.req.param(name));
    if (!outcome.ok) return c.json(outcome.body, outcome.status);
    await next();
  });
}
