import type { CanActivate, ExecutionContext, Type } from '@nestjs/common';
import { createParamDecorator, HttpException, Inject, Injectable } from '@nestjs/common';
import {
  createRouteGuard,
  type PermissionGuardOptions,
  type RequireOptions,
  type RouteGuard,
} from '../middleware.js';
import { assertName } from '../model.js';

/**
 * What the guard reads from the HTTP request: the route parameters. Express and Fastify requests (the two Nest
 * HTTP platforms) both have them; `getSubject` receives the full request, typed by the `Req` you choose.
 */
export interface NestHttpRequest {
  params?: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The injection token of the guard options when {@link nestPermissions} is called without them: provide it in
 * the module of the guarded controllers (`useFactory` can read your permission service from DI).
 */
export const NEST_PERMISSIONS_OPTIONS: unique symbol = Symbol.for('@app/permissions/nestjs:options');

/** Guards NestJS routes. */
export interface NestPermissions<Req extends object = NestHttpRequest> {
  /**
   * A guard class for `@UseGuards(...)` allowing the request only when the subject may `action` the
   * `resourceType` (and id). On deny it throws an `HttpException` with the same status (401, 403, 400) and
   * JSON body as every other adapter; a store failure is rethrown (Nest answers 500).
   */
  require(action: string, resourceType: string, options?: RequireOptions<Req>): Type<CanActivate>;
}

const subjects = new WeakMap<object, string>();

/**
 * NestJS guards over the permission service. With options, the guards use them; without, each guard injects
 * them from the {@link NEST_PERMISSIONS_OPTIONS} provider, so the permission service can come from DI. The
 * allowed subject is readable with {@link permissionSubject} or the {@link PermissionSubject} parameter
 * decorator. Needs `@nestjs/common` (an optional peer, loaded only by this subpath).
 *
 * @example
 * ```ts
 * import { NEST_PERMISSIONS_OPTIONS, nestPermissions } from '@app/permissions/nestjs';
 *
 * const guard = nestPermissions<Request>(); // options from the module's provider
 *
 * @Controller('rooms')
 * class RoomsController {
 *   @Delete(':roomId')
 *   @UseGuards(guard.require('delete', 'room', { param: 'roomId' }))
 *   remove(@Param('roomId') roomId: string) {}
 * }
 *
 * @Module({
 *   controllers: [RoomsController],
 *   providers: [{ provide: NEST_PERMISSIONS_OPTIONS, useValue: { permissions, getSubject: (req: Request) => req.user?.id } }],
 * })
 * class AppModule {}
 * ```
 */
export function nestPermissions<Req extends object = NestHttpRequest>(
  options?: PermissionGuardOptions<Req>,
): NestPermissions<Req> {
  return {
    require(action, resourceType, route) {
      // Checked when the route is defined, even when the options only come later from DI.
      assertName(action, 'action');
      assertName(resourceType, 'resource type');
      const authorize = async (guard: RouteGuard<Req>, context: ExecutionContext): Promise<boolean> => {
        const req = context.switchToHttp().getRequest<Req>();
        const outcome = await guard.authorize(req, (name) => {
          const value = (req as NestHttpRequest).params?.[name];
          return typeof value === 'string' ? value : undefined;
        });
        if (!outcome.ok) throw new HttpException(outcome.body, outcome.status);
        subjects.set(req, outcome.subject);
        return true;
      };

      if (options) {
        const guard = createRouteGuard(options, action, resourceType, route);
        class PermissionGuard implements CanActivate {
          canActivate(context: ExecutionContext): Promise<boolean> {
            return authorize(guard, context);
          }
        }
        Injectable()(PermissionGuard);
        return PermissionGuard;
      }

      class InjectedPermissionGuard implements CanActivate {
        private readonly guard: RouteGuard<Req>;
        constructor(injected: PermissionGuardOptions<Req>) {
          this.guard = createRouteGuard(injected, action, resourceType, route);
        }
        canActivate(context: ExecutionContext): Promise<boolean> {
          return authorize(this.guard, context);
        }
      }
      Injectable()(InjectedPermissionGuard);
      Inject(NEST_PERMISSIONS_OPTIONS)(InjectedPermissionGuard, undefined, 0);
      return InjectedPermissionGuard;
    },
  };
}

/**
 * The subject a permission guard allowed for this request, `undefined` when no guard ran.
 *
 * @example
 * ```ts
 * @Post()
 * @UseGuards(guard.require('create', 'room'))
 * create(@Req() req: Request) {
 *   return rooms.create(name, permissionSubject(req)!);
 * }
 * ```
 */
export function permissionSubject(request: object): string | undefined {
  return subjects.get(request);
}

/**
 * Parameter decorator: the subject the permission guard of this route allowed.
 *
 * @example
 * ```ts
 * @Post()
 * @UseGuards(guard.require('create', 'room'))
 * create(@PermissionSubject() userId: string) {}
 * ```
 */
export const PermissionSubject: () => ParameterDecorator = createParamDecorator(
  (_data: unknown, context: ExecutionContext) => subjects.get(context.switchToHttp().getRequest<object>()),
);
