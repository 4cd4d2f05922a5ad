import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createRouteGuard, type PermissionGuardOptions, type RequireOptions } from '../middleware.js';

/** Guards Express routes. */
export interface ExpressPermissions {
  /** Middleware allowing the request only when the subject may `action` the `resourceType` (and id). */
  require(action: string, resourceType: string, options?: RequireOptions<Request>): RequestHandler;
}

/**
 * Express middleware over the permission service. The subject id is left in `res.locals.subject`.
 *
 * @example
 * ```ts
 * import { expressPermissions } from '@app/permissions/express';
 *
 * const guard = expressPermissions({ permissions, getSubject: (req) => req.session?.userId });
 * app.delete('/rooms/:roomId', guard.require('delete', 'room', { param: 'roomId' }), deleteRoom);
 * ```
 */
export function expressPermissions(options: PermissionGuardOptions<Request>): ExpressPermissions {
  return {
    require(action, resourceType, route) {
      const guard = createRouteGuard(options, action, resourceType, route);
      return (req: Request, res: Response, next: NextFunction) => {
        guard
          .authorize(req, (name) => {
            const value = req.params[name];
            return typeof value === 'string' ? value : undefined;
          })
          .then((outcome) => {
            if (!outcome.ok) {
              res.status(outcome.status).json(outcome.body);
              return;
            }
            res.locals.subject = outcome.subject;
            next();
          }, next);
      };
    },
  };
}
