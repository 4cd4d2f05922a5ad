import type { ConsoleHandler } from '../types.js';

/** An App Router route handler. */
export type NextConsoleRoute = (request: Request) => Promise<Response>;

/** The route handlers to export from `app/console/[[...path]]/route.ts`. */
export interface NextConsoleRoutes {
  GET: NextConsoleRoute;
  POST: NextConsoleRoute;
  PUT: NextConsoleRoute;
  DELETE: NextConsoleRoute;
}

/**
 * The Next.js App Router route handlers of the console. Put them in an optional catch-all route whose path
 * is the console's `basePath`, and keep the route dynamic (the page and the live stream are per request).
 * Pass the console, or a function building it (called once, on the first request; again if it failed).
 *
 * @example
 * ```ts
 * // app/console/[[...path]]/route.ts
 * import { nextConsole } from '@app/console/next';
 *
 * export const dynamic = 'force-dynamic';
 * export const { GET, POST, PUT, DELETE } = nextConsole(createConsole({ basePath: '/console', authorize, flags }));
 * ```
 */
export function nextConsole(handler: ConsoleHandler | (() => Promise<ConsoleHandler>)): NextConsoleRoutes {
  // A function with no `basePath` is a factory: route modules can build the console from async services, once.
  let made: Promise<ConsoleHandler> | undefined;
  const resolve = (): Promise<ConsoleHandler> => {
    if ('basePath' in handler) return Promise.resolve(handler);
    made ??= (handler as () => Promise<ConsoleHandler>)().catch((error: unknown) => {
      made = undefined;
      throw error;
    });
    return made;
  };
  const route: NextConsoleRoute = async (request) => (await resolve())(request);
  return { GET: route, POST: route, PUT: route, DELETE: route };
}
