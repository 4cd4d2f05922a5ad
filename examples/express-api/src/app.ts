import { expressConsole } from '@app/console/express';
import { expressPermissions } from '@app/permissions/express';
import {
  type AppServices,
  bearerToken,
  createAppConsole,
  errorAnswer,
  httpError,
  routeNotFound,
} from '@app-examples/shared';
import express, { type ErrorRequestHandler, type Request } from 'express';

/**
 * The example API on Express 5 (async handlers' rejections reach the error handler by themselves). Every error
 * answer has the one JSON shape `{ error: { status, code, message } }`, never Express's HTML page.
 */
export function createApp(services: AppServices): express.Express {
  const { auth, rooms, flags, permissions } = services;
  const app = express();
  // Any JSON value (as the other examples accept); malformed JSON reaches the error handler below.
  app.use(express.json({ strict: false }));

  const userOf = async (req: Request) => auth.session(bearerToken(req.headers.authorization));
  // The subject of every guarded route is the signed-in user of the bearer token (none -> 401).
  const guard = expressPermissions({ permissions, getSubject: async (req) => (await userOf(req))?.userId });
  const subjectOf = (res: express.Response) => res.locals.subject as string;

  app.post('/auth/code', async (req, res) => {
    res.json(await auth.sendCode(String(req.body?.phone ?? ''), req.ip));
  });

  app.post('/auth/verify', async (req, res) => {
    const { phone, code, challengeId } = req.body ?? {};
    const result = await auth.verifyCode(String(phone ?? ''), String(code ?? ''), challengeId);
    if (!result.ok) {
      res
        .status(401)
        .json({ error: { status: 401, code: result.reason, message: 'invalid or expired code' } });
      return;
    }
    res.json({ token: result.token, userId: result.userId });
  });

  app.get('/rooms', guard.require('read', 'room'), async (_req, res) => {
    res.json({ rooms: await rooms.list() });
  });

  app.post('/rooms', guard.require('create', 'room'), async (req, res) => {
    const name = typeof req.body?.name === 'string' ? req.body.name.trim() : '';
    if (!name || name.length > 80) {
      res
        .status(400)
        .json({ error: { status: 400, code: 'INVALID_NAME', message: 'name: 1-80 characters' } });
      return;
    }
    res.status(201).json(await rooms.create(name, subjectOf(res)));
  });

  app.delete('/rooms/:roomId', guard.require('delete', 'room', { param: 'roomId' }), async (req, res) => {
    if (await rooms.delete(String(req.params.roomId))) {
      res.status(204).end();
      return;
    }
    const { status, body } = httpError(404, 'NOT_FOUND', 'no such room');
    res.status(status).json(body);
  });

  // Demo only: lets anyone signed in make themselves owner of a room (someone else's too), to show a scoped
  // role taking effect. Creating a room already makes its creator the owner.
  app.post('/rooms/:roomId/owner', async (req, res) => {
    const user = await userOf(req);
    if (!user) {
      res
        .status(401)
        .json({ error: { status: 401, code: 'UNAUTHENTICATED', message: 'authentication required' } });
      return;
    }
    const room = await rooms.get(String(req.params.roomId));
    if (!room) {
      res.status(404).json({ error: { status: 404, code: 'NOT_FOUND', message: 'no such room' } });
      return;
    }
    await services.grantRoomOwner(user.userId, room.id);
    res.json({ roomId: room.id, owner: user.userId });
  });

  app.get('/flags', async (req, res) => {
    const user = await userOf(req);
    res.json({ flags: flags.evaluateAll(user ? { userId: user.userId } : {}) });
  });

  // The operations console at /console, for the signed-in user (bearer token, or a `session` cookie holding
  // the token, for a browser).
  const opsConsole = createAppConsole(services, {
    getSubject: async (request) => {
      const cookie = /(?:^|;\s*)session=([^;]+)/.exec(request.headers.get('cookie') ?? '')?.[1];
      const token =
        bearerToken(request.headers.get('authorization')) ?? (cookie && decodeURIComponent(cookie));
      return (await auth.session(token))?.userId;
    },
  }).then(expressConsole);
  app.use('/console', (req, res, next) => {
    opsConsole.then((mount) => mount(req, res, next), next);
  });

  app.get('/dev/outbox', (_req, res) => {
    res.json({ sms: services.smsOutbox(), email: services.emailOutbox() });
  });

  // No route matched: the same JSON 404 as the other examples, not Express's HTML page.
  app.use((req, res) => {
    const { status, body } = routeNotFound(req.method, req.path);
    res.status(status).json(body);
  });

  // Typed errors, body-parser errors (malformed JSON -> 400 INVALID_JSON) and anything else (500, logged).
  const onError: ErrorRequestHandler = (error, _req, res, next) => {
    const { status, headers, body, unexpected } = errorAnswer(error);
    if (unexpected) services.logger.error({ err: error }, 'unhandled error');
    if (res.headersSent) return next(error); // too late for an answer: Express closes the connection
    res.status(status).set(headers).json(body);
  };
  app.use(onError);
  return app;
}
