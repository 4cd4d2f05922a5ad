import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { sendFetchResponse, toFetchRequest } from '../node.js';
import type { ConsoleHandler } from '../types.js';

/**
 * Mounts the console in Express. Give the same path as the console's `basePath`; a body already parsed by
 * `express.json()` is passed on.
 *
 * @example
 * ```ts
 * import { expressConsole } from '@app/console/express';
 *
 * const console = createConsole({ basePath: '/console', authorize, config, flags, permissions });
 * app.use('/console', expressConsole(console));
 * ```
 */
export function expressConsole(handler: ConsoleHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    handler(toFetchRequest(req, res))
      .then((response) => sendFetchResponse(response, res))
      .catch(next);
  };
}
