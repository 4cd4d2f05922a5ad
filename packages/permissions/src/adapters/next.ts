import { createRouteGuard, type PermissionGuardOptions, type RequireOptions } from '../middleware.js';

/** Route parameters as Next.js passes them: a promise (Next 15+) or a plain object (Next 13/14). */
export type NextRouteParams = Record<string, string | string[] | undefined>;

/** The second argument of an App Router route handler. */
export interface NextRouteContext {
  params?: NextRouteParams | Promise<NextRouteParams>;
}

/** An App Router route handler (`export const DELETE = ...`). */
export type NextRouteHandler<Ctx extends NextRouteContext = NextRouteContext> = (
  req: Request,
  ctx: Ctx,
) => Response | Promise<Response>;

/** Guards Next.js App Router route handlers. */
export interface NextPermissions {
  /** Wraps a route handler: it runs only when the subject may `action` the `resourceType` (and id). */
  require(
    action: string,
    resourceType: string,
    options?: RequireOptions<Request>,
  ): <Ctx extends NextRouteContext>(handler: NextRouteHandler<Ctx>) => NextRouteHandler<Ctx>;
}

/**
 * Next.js App Router guards over the permission service, typed with the web `Request`/`Response`.
 *
 * @example
 * ```ts
 * // app/rooms/[roomId]/route.ts
 * import { nextPermissions } from '@app/permissions/next';
 *
 * const guard = nextPermissions({ permissions, getSubject: async () => (await auth())?.user?.id });
 * export const DELETE = guard.require('delete', 'room', { param: 'roomId' })(
 *   async (req: Request, { params }: { params: Promise<{ roomId: string }> }) => {
 *     const { roomId } = await params;
 *     return new Response(null, { status: 204 });
 *   },
 * );
 * ```
 */
export function nextPermissions(options: PermissionGuardOptions<Request>): NextPermissions {
  return {
    require(action, resourceType, route) {
      const guard = createRouteGuard(options, action, resourceType, route);
      return (handler) => async (req, ctx) => {
        const outcome = await guard.authorize(req, async (name) => {
          const params = await ctx?.params;
          const value = params?.[name];
          return typeof value === 'string' ? value : undefined;
        });
        if (!outcome.ok) return Response.json(outcome.body, { status: outcome.status });
        return handler(req, ctx);
      };
    },
  };
}
