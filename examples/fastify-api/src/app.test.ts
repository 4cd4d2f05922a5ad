import { describeChatApi } from '@app-examples/shared/testing';
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
        ...(body === undefined ? {} : { payload: body as object }),
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return {
        status: res.statusCode,
        headers: new Headers(res.headers as Record<string, string>),
        body: res.body ? JSON.parse(res.body) : {},
      };
    };
  },
  stop: () => app.close(),
});
