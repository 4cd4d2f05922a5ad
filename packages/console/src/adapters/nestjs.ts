import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NestMiddleware, Type } from '@nestjs/common';
import { Injectable } from '@nestjs/common';
import { sendFetchResponse, toFetchRequest } from '../node.js';
import type { ConsoleHandler } from '../types.js';

/**
 * A NestJS middleware class serving the console, on the Express or the Fastify platform (Nest hands
 * middleware the Node request and response). Apply it to the console's `basePath`.
 *
 * @example
 * ```ts
 * import { nestConsole } from '@app/console/nestjs';
 *
 * const ConsoleMiddleware = nestConsole(createConsole({ basePath: '/console', authorize, flags, permissions }));
 *
 * @Module({})
 * class AppModule implements NestModule {
 *   configure(consumer: MiddlewareConsumer) {
 *     consumer.apply(ConsoleMiddleware).forRoutes('console', 'console/*path');
 *   }
 * }
 * ```
 */
export function nestConsole(handler: ConsoleHandler): Type<NestMiddleware> {
  class ConsoleMiddleware implements NestMiddleware {
    use(
      req: IncomingMessage & { body?: unknown; originalUrl?: string },
      res: ServerResponse,
      next: (error?: unknown) => void,
    ) {
      handler(toFetchRequest(req, res))
        .then((response) => sendFetchResponse(response, res))
        .catch(next);
    }
  }
  Injectable()(ConsoleMiddleware);
  return ConsoleMiddleware;
}
