import { answerOf, describeChatApi, RawBody } from '@app-examples/shared/testing';
import type { FastifyInstance } from 'fastify';
import { createApp } from './app.js';

let app: FastifyInstance;

// In process, through Fastify's `inject` (no socket).
describeChatApi('fastify-api', {
  async start(services) {
    app = createApp(services);
    await app.ready();
    return async (method, path, body, token) => {
      const res = await app.inject({
        method,
        url: path,
        ...(body === undefined ? {} : { payload: body instanceof RawBody ? body.text : (body as object) }),
        headers: {
          ...(body instanceof RawBody ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
      return answerOf(res.statusCode, new Headers(res.headers as Record<string, string>), res.body);
    };
  },
  stop: () => app.close(),
});
