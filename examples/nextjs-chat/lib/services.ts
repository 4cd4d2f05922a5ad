import { type AppServices, servicesFromEnv } from '@app-examples/shared';
import { cookies } from 'next/headers';

// One set of services per server process. Next.js may evaluate this module more than once (dev reloads,
// separate route bundles), so the promise lives on globalThis: concurrent first requests share it.
const holder = globalThis as typeof globalThis & { __appServices?: Promise<AppServices> };

/**
 * The app's services: in a SQLite file by default (`.data/demo.sqlite`, or APP_SQLITE_FILE; users, rooms,
 * flags, config and the event outbox survive a restart), in memory with APP_STORAGE=memory (or where the
 * SQLite driver cannot load), on Redis and Postgres when REDIS_URL / DATABASE_URL are set.
 */
export function getServices(): Promise<AppServices> {
  holder.__appServices ??= servicesFromEnv({ APP_STORAGE: 'sqlite', ...process.env }).catch(
    (error: unknown) => {
      holder.__appServices = undefined;
      throw error;
    },
  );
  return holder.__appServices;
}

export const SESSION_COOKIE = 'session';

/** Which server process answered: two instances of the demo can run side by side on one Redis/Postgres. */
export const instanceName = process.env.INSTANCE_NAME ?? `pid ${process.pid}`;

/** The signed-in user of this request, if any. */
export async function currentUser(): Promise<{ userId: string; phone: string } | undefined> {
  const token = (await cookies()).get(SESSION_COOKIE)?.value;
  const services = await getServices();
  return services.auth.session(token);
}

/** The session token carried by a route handler's request (cookie, or `Authorization: Bearer`). */
export function tokenOf(req: Request): string | undefined {
  const auth = req.headers.get('authorization');
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length);
  const cookie = req.headers.get('cookie') ?? '';
  const match = cookie.match(/(?:^|;\s*)session=([^;]+)/);
  return match ? decodeURIComponent(match[1] ?? '') : undefined;
}

/**
 * A 303 redirect back into the app. The Location is relative: behind a proxy, or when bound to 127.0.0.1,
 * `req.url` may carry another host than the browser used, and the session cookie belongs to the browser's.
 */
export function redirectTo(_req: Request, path: string): Response {
  return new Response(null, { status: 303, headers: { location: path } });
}
