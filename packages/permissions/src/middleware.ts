import { isPermissionsError, PermissionErrorCode } from './errors.js';
import { assertName } from './model.js';
import type { PermissionService } from './service.js';

type MaybePromise<T> = T | Promise<T>;

/** The status codes the middleware answers with. */
export type GuardStatus = 400 | 401 | 403;

/** The JSON body of every 400, 401 and 403 the middleware sends, in every framework. */
export interface PermissionErrorBody {
  error: {
    status: GuardStatus;
    /** `UNAUTHENTICATED` (401), `FORBIDDEN` (403) or `INVALID_RESOURCE` (400). */
    code: 'UNAUTHENTICATED' | 'FORBIDDEN' | 'INVALID_RESOURCE';
    message: string;
  };
}

/** Options shared by every framework adapter. `Req` is the framework's request type. */
export interface PermissionGuardOptions<Req> {
  /** The permission service (anything with its `check`). */
  permissions: Pick<PermissionService, 'check'>;
  /** Who is asking: the subject id from your session or JWT, or `null`/`undefined` for anonymous (-> 401). */
  getSubject: (req: Req) => MaybePromise<string | null | undefined>;
  /** The tenant the request is about, if your app has tenants. @default () => undefined */
  getTenant?: (req: Req) => MaybePromise<string | undefined>;
}

/** Options of one guarded route. */
export interface RequireOptions<Req> {
  /**
   * The route parameter holding the resource id, e.g. `roomId` for `/rooms/:roomId`. A request without it
   * gets 400. Without `param` and `resourceId` the check is on the resource type alone.
   * @default undefined
   */
  param?: string;
  /**
   * Reads the resource id from the request (instead of `param`). When it finds none (`undefined` or `null`)
   * the request gets 400, never the type-level check. @default undefined
   */
  resourceId?: (req: Req) => MaybePromise<string | number | null | undefined>;
}

/** What the core decided for one request. */
export type GuardOutcome =
  | { ok: true; subject: string }
  | { ok: false; status: GuardStatus; body: PermissionErrorBody };

/** One guarded route, framework-agnostic: the adapters only read the request and write the response. */
export interface RouteGuard<Req> {
  authorize(req: Req, readParam: (name: string) => MaybePromise<string | undefined>): Promise<GuardOutcome>;
}

const refuse = (
  status: GuardStatus,
  code: PermissionErrorBody['error']['code'],
  message: string,
): GuardOutcome => ({
  ok: false,
  status,
  body: { error: { status, code, message } },
});

/**
 * The core behind every framework adapter: 401 without a subject, 400 for a missing or malformed resource id,
 * 403 when the check denies, otherwise ok. Store failures are thrown (your framework answers 500): a
 * failure never allows. Action and resource type are checked when the route is defined.
 *
 * @example
 * ```ts
 * const guard = createRouteGuard({ permissions, getSubject: (req) => req.userId }, 'delete', 'room', { param: 'roomId' });
 * const outcome = await guard.authorize(req, (name) => req.params[name]);
 * if (!outcome.ok) return respond(outcome.status, outcome.body);
 * ```
 */
export function createRouteGuard<Req>(
  options: PermissionGuardOptions<Req>,
  action: string,
  resourceType: string,
  route: RequireOptions<Req> = {},
): RouteGuard<Req> {
  assertName(action, 'action');
  assertName(resourceType, 'resource type');
  const { permissions, getSubject, getTenant } = options;
  return {
    async authorize(req, readParam) {
      const subject = await getSubject(req);
      if (subject === null || subject === undefined || subject === '') {
        return refuse(401, 'UNAUTHENTICATED', 'authentication required');
      }
      let id: string | number | undefined;
      // A route guarded per resource never falls back to the type-level check when the id is missing: that
      // check skips every deny assigned on single resources.
      if (route.resourceId) {
        id = (await route.resourceId(req)) ?? undefined;
        if (id === undefined) return refuse(400, 'INVALID_RESOURCE', 'missing resource id');
      } else if (route.param !== undefined) {
        id = await readParam(route.param);
        if (id === undefined)
          return refuse(400, 'INVALID_RESOURCE', `missing resource id (route parameter "${route.param}")`);
      }
      const tenant = await getTenant?.(req);
      try {
        const allowed = await permissions.check(subject, action, { type: resourceType, id, tenant });
        return allowed
          ? { ok: true, subject }
          : refuse(403, 'FORBIDDEN', `not allowed to ${action} this ${resourceType}`);
      } catch (error) {
        if (isPermissionsError(error, PermissionErrorCode.INVALID_RESOURCE)) {
          return refuse(400, 'INVALID_RESOURCE', 'malformed resource id');
        }
        throw error;
      }
    },
  };
}

/**
 * What the Express, Fastify and Hono adapters return: `require(...)` making one framework handler per
 * guarded route.
 */
export interface PermissionGuards<Req, Handler> {
  /** A handler allowing the request only when the subject may `action` the `resourceType` (and id). */
  require(action: string, resourceType: string, options?: RequireOptions<Req>): Handler;
}

/**
 * The part every framework adapter shares: `require` validates the route once ({@link createRouteGuard})
 * and hands the guard to `toHandler`, which only reads the framework's request and writes its response.
 *
 * @example
 * ```ts
 * const guards = permissionGuards(options, (guard) => async (c, next) => {
 *   const outcome = await guard.authorize(c, (name) => c.req.param(name));
 *   if (!outcome.ok) return c.json(outcome.body, outcome.status);
 *   await next();
 * });
 * ```
 */
export function permissionGuards<Req, Handler>(
  options: PermissionGuardOptions<Req>,
  toHandler: (guard: RouteGuard<Req>) => Handler,
): PermissionGuards<Req, Handler> {
  return {
    require(action, resourceType, route) {
      return toHandler(createRouteGuard(options, action, resourceType, route));
    },
  };
}
