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
  const plugin = async (app: FastifyInstance) => {
    app.all(handler.basePath || '/', route);
    app.all(`${handler.basePath}/*`, route);
  };
  // Routes registered at the root, not inside an encapsulated prefix (fastify-plugin's skip-override marker).
  Object.assign(plugin, { [Symbol.for('skip-override')]: true });
  return plugin;
}
