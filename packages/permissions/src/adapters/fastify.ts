import type { FastifyReply, FastifyRequest } from 'fastify';
import { type PermissionGuardOptions, type PermissionGuards, permissionGuards } from '../middleware.js';

/** A Fastify `preHandler` hook. */
export type FastifyPermissionHook = (
  request: FastifyRequest,
  reply: FastifyReply,
) => Promise<FastifyReply | undefined>;

/** Guards Fastify routes: `require(action, resourceType, options?)` returns a `preHandler` hook. */
export type FastifyPermissions = PermissionGuards<FastifyRequest, FastifyPermissionHook>;

/**
 * Fastify `preHandler` hooks over the permission service.
 *
 * @example
 * ```ts
 * import { fastifyPermissions } from '@app/permissions/fastify';
 *
 * const guard = fastifyPermissions({ permissions, getSubject: (req) => req.user?.id });
 * app.delete('/rooms/:roomId', { preHandler: guard.require('delete', 'room', { param: 'roomId' }) }, deleteRoom);
 * ```
 */
export function fastifyPermissions(options: PermissionGuardOptions<FastifyRequest>): FastifyPermissions {
  return permissionGuards<FastifyRequest, FastifyPermissionHook>(
    options,
    (guard) => async (request, reply) => {
      const outcome = await guard.authorize(request, (name) => {
        const params = request.params as Record<string, unknown> | undefined;
        const value = params?.[name];
        return typeof value === 'string' ? value : undefined;
      });
      // Returning the reply after sending is how an async Fastify hook stops the request.
      if (!outcome.ok) return reply.code(outcome.status).send(outcome.body);
      return undefined;
    },
  );
}
