import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sendFetchResponse, toFetchRequest } from '../node.js';
import type { ConsoleHandler } from '../types.js';

/**
 * A Fastify plugin routing `<basePath>` and everything under it to the console (the reply is hijacked so
 * the live stream can stay open).
 *
 * @example
 * ```ts
 * import { fastifyConsole } from '@app/console/fastify';
 *
 * await app.register(fastifyConsole(createConsole({ basePath: '/console', authorize, flags, permissions })));
 * ```
 */
export function fastifyConsole(handler: ConsoleHandler): (app: FastifyInstance) => Promise<void> {
  const route = async (request: FastifyRequest, reply: FastifyReply) => {
    reply.hijack();
    const raw = Object.assign(request.raw, { body: request.body });
    const response = await handler(toFetchRequest(raw, reply.raw));
    await sendFetchResponse(response, reply.raw);
  };
  // An encapsulated plugin: its body parsing (every body kept as text, the console parses and bounds it)
  // applies to the console's routes only.
  return async (app: FastifyInstance) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
    app.all(handler.basePath || '/', route);
    app.all(`${handler.basePath}/*`, route);
  };
}
