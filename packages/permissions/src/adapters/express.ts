import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { type PermissionGuardOptions, type PermissionGuards, permissionGuards } from '../middleware.js';

/** Guards Express routes: `require(action, resourceType, options?)` returns a `RequestHandler`. */
export type ExpressPermissions = PermissionGuards<Request, RequestHandler>;

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
  return permissionGuards(options, (guard) => (req: Request, res: Response, next: NextFunction) => {
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
  });
}
