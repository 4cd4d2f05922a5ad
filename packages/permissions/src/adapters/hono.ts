import type { Context, MiddlewareHandler } from 'hono';
import { createRouteGuard, type PermissionGuardOptions, type RequireOptions } from '../middleware.js';

/** Guards Hono routes. */
export interface HonoPermissions {
  /** Middleware allowing the request only when the subject may `action` the `resourceType` (and id). */
  require(action: string, resourceType: string, options?: RequireOptions<Context>): MiddlewareHandler;
}

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
  return {
    require(action, resourceType, route) {
      const guard = createRouteGuard(options, action, resourceType, route);
      return async (c, next) => {
        const outcome = await guard.authorize(c, (name) => c.req.param(name));
        if (!outcome.ok) return c.json(outcome.body, outcome.status);
        await next();
      };
    },
  };
}
