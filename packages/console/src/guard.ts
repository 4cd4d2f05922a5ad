import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createRouteGuard, type GuardOutcome, type PermissionService } from '@app/permissions';
import { ConsoleError } from './errors.js';
import { errorResponse } from './http.js';
import type { ConsoleAuthorize, SectionName } from './types.js';

/** The cookie holding the CSRF token (double submit). */
export const CSRF_COOKIE = 'app_console_csrf';
/** The header every write must carry, equal to the cookie. */
export const CSRF_HEADER = 'x-console-csrf';

interface Asking {
  request: Request;
  section: SectionName;
}

/** Who may read and write which section, and the CSRF check of writes. */
export interface Access {
  /** 401/403 as `@app/permissions`' guards answer, or the subject. */
  authorize(request: Request, section: SectionName, write: boolean): Promise<GuardOutcome>;
  /** The subject, or undefined for anonymous. */
  subject(request: Request): Promise<string | undefined>;
  /** Whether `subject` may read / write each section (for the UI). */
  rights(
    subject: string,
    request: Request,
    sections: readonly SectionName[],
  ): Promise<Record<string, { read: boolean; write: boolean }>>;
  /** A 403 response when the write is cross-site or its token does not match the cookie, else undefined. */
  refuseForgery(request: Request, url: URL): Response | undefined;
  /** The session's CSRF token, and the Set-Cookie header when a new one was issued. */
  csrfToken(request: Request, url: URL, basePath: string): { token: string; setCookie?: string };
}

function cookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether an `Origin` names this server: the request URL's host, or the Host (or X-Forwarded-Host) header
 * the browser sent, since frameworks may rebuild the URL with another host (Next.js bound to 127.0.0.1).
 */
function sameHost(origin: string, request: Request, url: URL): boolean {
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const forwarded = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
  return host === url.host || host === request.headers.get('host') || host === forwarded;
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length >= 32 && timingSafeEqual(x, y);
}

/**
 * Builds the console's access rules: every route is checked with `@app/permissions`' route guard for
 * `console:read` or `console:write` on `{ type: 'console', id: <section> }`.
 */
export function createAccess(
  authorize: ConsoleAuthorize,
  fallback: Pick<PermissionService, 'check'> | undefined,
): Access {
  if (!authorize || typeof authorize.getSubject !== 'function') {
    throw new ConsoleError('INVALID_OPTIONS', 'createConsole needs `authorize.getSubject(request)`');
  }
  const permissions = authorize.permissions ?? fallback;
  if (!permissions || typeof permissions.check !== 'function') {
    throw new ConsoleError(
      'INVALID_OPTIONS',
      'createConsole needs a permission service (`authorize.permissions` or `permissions`) to guard its routes',
    );
  }
  const guardOptions = {
    permissions,
    getSubject: (asking: Asking) => authorize.getSubject(asking.request),
    getTenant: (asking: Asking) => authorize.getTenant?.(asking.request),
  };
  const route = { resourceId: (asking: Asking) => asking.section };
  const readGuard = createRouteGuard(guardOptions, 'read', 'console', route);
  const writeGuard = createRouteGuard(guardOptions, 'write', 'console', route);
  const none = () => undefined;

  return {
    authorize(request, section, write) {
      return (write ? writeGuard : readGuard).authorize({ request, section }, none);
    },
    async subject(request) {
      const subject = await authorize.getSubject(request);
      return subject ? subject : undefined;
    },
    async rights(subject, request, sections) {
      const tenant = await authorize.getTenant?.(request);
      const entries = await Promise.all(
        sections.map(async (section) => {
          const resource = { type: 'console', id: section, tenant };
          const [read, write] = await Promise.all([
            permissions.check(subject, 'read', resource),
            permissions.check(subject, 'write', resource),
          ]);
          return [section, { read, write }] as const;
        }),
      );
      return Object.fromEntries(entries);
    },
    refuseForgery(request, url) {
      const site = request.headers.get('sec-fetch-site');
      if (site !== null && site !== 'same-origin') {
        return errorResponse(403, 'CSRF', `cross-site write refused (Sec-Fetch-Site: ${site})`);
      }
      const origin = request.headers.get('origin');
      if (origin !== null && !sameHost(origin, request, url)) {
        return errorResponse(403, 'CSRF', 'cross-origin write refused');
      }
      const fromCookie = cookie(request, CSRF_COOKIE);
      const fromHeader = request.headers.get(CSRF_HEADER);
      if (!fromCookie || !fromHeader || !sameToken(fromCookie, fromHeader)) {
        return errorResponse(403, 'CSRF', 'missing or wrong CSRF token');
      }
      return undefined;
    },
    csrfToken(request, url, basePath) {
      const existing = cookie(request, CSRF_COOKIE);
      if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return { token: existing };
      const token = randomBytes(32).toString('base64url');
      const secure = url.protocol === 'https:' ? '; Secure' : '';
      return {
        token,
        setCookie: `${CSRF_COOKIE}=${token}; Path=${basePath || '/'}; HttpOnly; SameSite=Strict${secure}`,
      };
    },
  };
}

/** The 401/403 of a refused guard outcome, in the console's error shape. */
export function refusal(outcome: Extract<GuardOutcome, { ok: false }>): Response {
  return errorResponse(outcome.status, outcome.body.error.code, outcome.body.error.message);
}
