import { honoPermissions } from '@app/permissions/hono';
import {
  type AppServices,
  bearerToken,
  errorAnswer,
  malformedJson,
  routeNotFound,
} from '@app-examples/shared';
import { type Context, Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * The example API on Hono (any runtime: `app.fetch`; Node through @hono/node-server in server.ts). Every error
 * answer has the one JSON shape `{ error: { status, code, message } }`.
 */
export function createApp(services: AppServices): Hono {
  const { auth, rooms, flags, permissions } = services;
  const app = new Hono();

  const userOf = (c: Context) => auth.session(bearerToken(c.req.header('authorization')));
  // The subject of every guarded route is the signed-in user of the bearer token (none -> 401).
  const guard = honoPermissions({ permissions, getSubject: async (c) => (await userOf(c))?.userId });
  const fail = (c: Context, status: ContentfulStatusCode, code: string, message: string) =>
    c.json({ error: { status, code, message } }, status);
  // The JSON body as an object (`{}` when empty or not an object); malformed JSON is 400 INVALID_JSON, not an
  // empty body that would fail later with a misleading error.
  const body = async (c: Context): Promise<Record<string, unknown>> => {
    const text = await c.req.text();
    if (text.trim() === '') return {};
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw malformedJson();
    }
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  };

  // Typed errors, malformed JSON, Hono's HTTPException and anything else (500, logged).
  app.onError((error, c) => {
    const { status, headers, body, unexpected } = errorAnswer(error);
    if (unexpected) services.logger.error({ err: error }, 'unhandled error');
    return c.json(body, status as ContentfulStatusCode, headers);
  });
  // No route matched: the same JSON 404 as the other examples, not Hono's text/plain one.
  app.notFound((c) => {
    const { status, body } = routeNotFound(c.req.method, c.req.path);
    return c.json(body, status as ContentfulStatusCode);
  });

  app.post('/auth/code', async (c) => {
    const { phone } = await body(c);
    return c.json(await auth.sendCode(String(phone ?? ''), c.req.header('x-forwarded-for')));
  });

  app.post('/auth/verify', async (c) => {
    const { phone, code, challengeId } = await body(c);
    const result = await auth.verifyCode(
      String(phone ?? ''),
      String(code ?? ''),
      typeof challengeId === 'string' ? challengeId : undefined,
    );
    if (!result.ok) return fail(c, 401, result.reason, 'invalid or expired code');
    return c.json({ token: result.token, userId: result.userId });
  });

  app.get('/rooms', guard.require('read', 'room'), async (c) => c.json({ rooms: await rooms.list() }));

  app.post('/rooms', guard.require('create', 'room'), async (c) => {
    const { name } = await body(c);
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (!trimmed || trimmed.length > 80) return fail(c, 400, 'INVALID_NAME', 'name: 1-80 characters');
    const user = await userOf(c);
    return c.json(await rooms.create(trimmed, user!.userId), 201);
  });

  app.delete('/rooms/:roomId', guard.require('delete', 'room', { param: 'roomId' }), async (c) =>
    (await rooms.delete(c.req.param('roomId')))
      ? c.body(null, 204)
      : fail(c, 404, 'NOT_FOUND', 'no such room'),
  );

  // Demo only: lets anyone signed in make themselves owner of a room (someone else's too), to show a scoped
  // role taking effect. Creating a room already makes its creator the owner.
  app.post('/rooms/:roomId/owner', async (c) => {
    const user = await userOf(c);
    if (!user) return fail(c, 401, 'UNAUTHENTICATED', 'authentication required');
    const room = await rooms.get(c.req.param('roomId'));
    if (!room) return fail(c, 404, 'NOT_FOUND', 'no such room');
    await services.grantRoomOwner(user.userId, room.id);
    return c.json({ roomId: room.id, owner: user.userId });
  });

  app.get('/flags', async (c) => {
    const user = await userOf(c);
    return c.json({ flags: flags.evaluateAll(user ? { userId: user.userId } : {}) });
  });

  app.get('/dev/outbox', (c) => c.json({ sms: services.smsOutbox(), email: services.emailOutbox() }));
  return app;
}
