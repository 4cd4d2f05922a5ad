import { fastifyPermissions } from '@app/permissions/fastify';
import { type AppServices, bearerToken, errorAnswer, httpError, routeNotFound } from '@app-examples/shared';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';

type RoomParams = { Params: { roomId: string } };

/** The example API on Fastify 5. Every error answer has the one JSON shape `{ error: { status, code, message } }`. */
export function createApp(services: AppServices): FastifyInstance {
  const { auth, rooms, flags, permissions } = services;
  const app = Fastify();

  const userOf = (req: FastifyRequest) => auth.session(bearerToken(req.headers.authorization));
  // The subject of every guarded route is the signed-in user of the bearer token (none -> 401).
  const guard = fastifyPermissions({ permissions, getSubject: async (req) => (await userOf(req))?.userId });

  // Typed errors, Fastify's own 4xx (malformed JSON -> 400 INVALID_JSON) and anything else (500, logged).
  app.setErrorHandler(async (error, _req, reply) => {
    const { status, headers, body, unexpected } = errorAnswer(error);
    if (unexpected) services.logger.error({ err: error }, 'unhandled error');
    return reply.code(status).headers(headers).send(body);
  });
  // No route matched: the same JSON 404 as the other examples, not Fastify's own body.
  app.setNotFoundHandler(async (req, reply) => {
    const { status, body } = routeNotFound(req.method, req.url);
    return reply.code(status).send(body);
  });

  app.post<{ Body: { phone?: string } }>('/auth/code', async (req) =>
    auth.sendCode(String(req.body?.phone ?? ''), req.ip),
  );

  app.post<{ Body: { phone?: string; code?: string; challengeId?: string } }>(
    '/auth/verify',
    async (req, reply) => {
      const { phone, code, challengeId } = req.body ?? {};
      const result = await auth.verifyCode(String(phone ?? ''), String(code ?? ''), challengeId);
      if (!result.ok) {
        return reply
          .code(401)
          .send({ error: { status: 401, code: result.reason, message: 'invalid or expired code' } });
      }
      return { token: result.token, userId: result.userId };
    },
  );

  app.get('/rooms', { preHandler: guard.require('read', 'room') }, async () => ({
    rooms: await rooms.list(),
  }));

  app.post<{ Body: { name?: unknown } }>(
    '/rooms',
    { preHandler: guard.require('create', 'room') },
    async (req, reply) => {
      const name = typeof req.body?.name === 'string' ? req.body.name.trim() : '';
      if (!name || name.length > 80) {
        return reply
          .code(400)
          .send({ error: { status: 400, code: 'INVALID_NAME', message: 'name: 1-80 characters' } });
      }
      const user = await userOf(req);
      return reply.code(201).send(await rooms.create(name, user!.userId));
    },
  );

  app.delete<RoomParams>(
    '/rooms/:roomId',
    { preHandler: guard.require('delete', 'room', { param: 'roomId' }) },
    async (req, reply) => {
      if (await rooms.delete(req.params.roomId)) return reply.code(204).send();
      const { status, body } = httpError(404, 'NOT_FOUND', 'no such room');
      return reply.code(status).send(body);
    },
  );

  // Demo only: lets anyone signed in make themselves owner of a room (someone else's too), to show a scoped
  // role taking effect. Creating a room already makes its creator the owner.
  app.post<RoomParams>('/rooms/:roomId/owner', async (req, reply) => {
    const user = await userOf(req);
    if (!user) {
      return reply
        .code(401)
        .send({ error: { status: 401, code: 'UNAUTHENTICATED', message: 'authentication required' } });
    }
    const room = await rooms.get(req.params.roomId);
    if (!room)
      return reply.code(404).send({ error: { status: 404, code: 'NOT_FOUND', message: 'no such room' } });
    await services.grantRoomOwner(user.userId, room.id);
    return { roomId: room.id, owner: user.userId };
  });

  app.get('/flags', async (req) => {
    const user = await userOf(req);
    return { flags: flags.evaluateAll(user ? { userId: user.userId } : {}) };
  });

  app.get('/dev/outbox', async () => ({ sms: services.smsOutbox(), email: services.emailOutbox() }));
  return app;
}
