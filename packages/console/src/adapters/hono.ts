import type { Context } from 'hono';
import type { ConsoleHandler } from '../types.js';

/**
 * A Hono handler for the console: Hono speaks Fetch, so the request goes through as is.
 *
 * @example
 * ```ts
 * import { honoConsole } from '@app/console/hono';
 *
 * const console = honoConsole(createConsole({ basePath: '/console', authorize, flags, permissions }));
 * app.all('/console', console);
 * app.all('/console/*', console);
 * ```
 */
export function honoConsole(handler: ConsoleHandler): (c: Context) => Promise<Response> {
  return (c) => handler(c.req.raw);
}
