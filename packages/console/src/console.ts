import { assetResponse, pageHtml, SECURITY_HEADERS } from './assets.js';
import { ConsoleError } from './errors.js';
import { createAccess, refusal } from './guard.js';
import { configHistory, historyId, memoryHistory } from './history.js';
import {
  errorResponse,
  errorToResponse,
  json,
  matchPath,
  type RouteContext,
  readJsonObject,
  type Section,
} from './http.js';
import { createLiveHub } from './live.js';
import { redact } from './redact.js';
import { configSection } from './sections/config.js';
import { deliverySection } from './sections/delivery.js';
import { eventsSection } from './sections/events.js';
import { flagsSection } from './sections/flags.js';
import { otpSection } from './sections/otp.js';
import { permissionsSection } from './sections/permissions.js';
import {
  type ConsoleEvent,
  type ConsoleHandler,
  type ConsoleOptions,
  SECTIONS,
  type SectionName,
} from './types.js';

const DEFAULT_PREFIXES = ['app.', 'flags.', 'email.', 'sms.'];

function normalizeBase(basePath: unknown): string {
  if (basePath === undefined || basePath === '' || basePath === '/') return '';
  if (typeof basePath !== 'string' || !/^\/[A-Za-z0-9._~\-/]*$/.test(basePath) || basePath.includes('//')) {
    throw new ConsoleError('INVALID_OPTIONS', 'basePath must be a URL path such as "/console"');
  }
  return basePath.replace(/\/+$/, '');
}

/** A redacted, plain-JSON copy (undefined fields dropped) for the change history. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(redact(value)) ?? 'null');

interface Observer {
  observe(event: ConsoleEvent): void;
}

/** Builds the sections the given services allow, and the observers fed by the bus. */
function buildSections(options: ConsoleOptions, now: () => number) {
  const sections: Section[] = [];
  const observers: Observer[] = [];
  if (options.flags) {
    sections.push(flagsSection(options.flags, options.flagStore ?? options.config, options.flagKeyPrefix));
  }
  if (options.config)
    sections.push(configSection(options.config, options.configPrefixes ?? DEFAULT_PREFIXES));
  if (options.events) {
    const events = eventsSection(options.events, now);
    sections.push(events);
    observers.push(events);
  }
  if (options.email || options.sms) {
    const delivery = deliverySection({ email: options.email, sms: options.sms }, options.config, now);
    sections.push(delivery);
    if (options.events) observers.push(delivery);
  }
  if (options.otp && options.events) {
    const bucketMs = typeof options.otp === 'object' ? options.otp.bucketMs : undefined;
    const otp = otpSection(now, bucketMs);
    sections.push(otp);
    observers.push(otp);
  }
  if (options.permissions) sections.push(permissionsSection(options.permissions));
  sections.sort((a, b) => SECTIONS.indexOf(a.name) - SECTIONS.indexOf(b.name));
  return { sections, observers };
}

/**
 * Creates the operations console: a Fetch-style handler (`Request -> Response`) serving the page, its static
 * assets (built into the package) and a JSON API per section, for the services given. Every API route is
 * guarded with `@app/permissions` (`console:read` / `console:write` on `{ type: 'console', id: <section> }`);
 * writes also need the CSRF token and a same-origin request; every write is recorded in the change history.
 * Mount it with `@app/console/express`, `/fastify`, `/hono`, `/next` or `/nestjs`, or call it directly.
 *
 * @example
 * ```ts
 * import { createConsole } from '@app/console';
 *
 * const opsConsole = createConsole({
 *   basePath: '/console',
 *   authorize: { getSubject: (req) => sessionUser(req)?.id },
 *   config, flags, permissions,
 *   events: { bus, subscriptions: ['mailer'] },
 * });
 * const response = await opsConsole(new Request('http://localhost/console/api/flags'));
 * ```
 */
export function createConsole(options: ConsoleOptions): ConsoleHandler {
  if (!options || typeof options !== 'object') {
    throw new ConsoleError('INVALID_OPTIONS', 'createConsole needs options');
  }
  const basePath = normalizeBase(options.basePath);
  const now = options.now ?? Date.now;
  const title = options.title ?? 'Operations console';
  const access = createAccess(options.authorize, options.permissions);
  const history = options.history ?? (options.config ? configHistory(options.config) : memoryHistory());
  const live = createLiveHub();
  const { sections, observers } = buildSections(options, now);
  const byName = new Map(sections.map((s) => [s.name, s]));
  const names = sections.map((s) => s.name);
  let tap: { close(): Promise<void> } | undefined;
  let closed = false;

  const sectionsStarted = Promise.all(
    sections.map((s) => s.start?.((data) => live.publish(s.name, data))),
  ).then(() => undefined);
  // The bus feed of the events, delivery and OTP sections. When subscribing fails (the bus unreachable),
  // the console still answers, and the next request tries again.
  let tapping: Promise<void> | undefined;
  const ensureTap = (): Promise<void> => {
    const bus = options.events?.bus;
    if (!bus || observers.length === 0 || closed) return Promise.resolve();
    tapping ??= bus
      .subscribePattern('*', (event) => {
        for (const observer of observers) observer.observe(event);
      })
      .then(
        async (subscription) => {
          tap = subscription;
          if (closed) await subscription.close();
        },
        (error: unknown) => {
          tapping = undefined;
          throw error;
        },
      );
    return tapping;
  };
  const started = sectionsStarted.then(ensureTap);
  started.catch(() => {});

  const api = async (request: Request, url: URL, rest: string): Promise<Response> => {
    await sectionsStarted.catch(() => {});
    await ensureTap().catch(() => {});
    if (rest === '/session') return session(request, url);
    if (rest === '/live' && request.method === 'GET') {
      const subject = await access.subject(request);
      if (!subject) return errorResponse(401, 'UNAUTHENTICATED', 'authentication required');
      const rights = await access.rights(subject, request, names);
      const topics = names.filter((n) => rights[n]?.read);
      return live.stream(request, topics.length > 0 ? [...topics, 'history'] : []);
    }
    if (rest === '/history' && request.method === 'GET') {
      const subject = await access.subject(request);
      if (!subject) return errorResponse(401, 'UNAUTHENTICATED', 'authentication required');
      const rights = await access.rights(subject, request, names);
      const readable = new Set(names.filter((n) => rights[n]?.read));
      if (readable.size === 0) return errorResponse(403, 'FORBIDDEN', 'not allowed to read this console');
      const section = url.searchParams.get('section');
      const records = (await history.list(500)).filter(
        (r) => readable.has(r.section) && (!section || r.section === section),
      );
      return json({ records: records.slice(0, 100) });
    }
    const match = /^\/([a-z]+)(\/.*)?$/.exec(rest);
    const section = match ? byName.get(match[1] as SectionName) : undefined;
    if (!section || !match) return errorResponse(404, 'NOT_FOUND', 'no such console route');
    const sub = match[2] ?? '';
    let allowedMethods = 0;
    for (const route of section.routes) {
      const params = matchPath(route.path, sub);
      if (!params) continue;
      allowedMethods++;
      if (route.method !== request.method) continue;
      const outcome = await access.authorize(request, section.name, route.write === true);
      if (!outcome.ok) return refusal(outcome);
      if (route.write || request.method !== 'GET') {
        const forged = access.refuseForgery(request, url);
        if (forged) return forged;
      }
      const ctx: RouteContext = {
        request,
        url,
        params,
        subject: outcome.subject,
        body: () => readJsonObject(request),
        async record(change) {
          const at = now();
          await history.append({
            id: historyId(at),
            at,
            subject: outcome.subject,
            section: section.name,
            action: change.action,
            target: change.target,
            ...(change.before === undefined ? {} : { before: plain(change.before) }),
            ...(change.after === undefined ? {} : { after: plain(change.after) }),
          });
          live.publish('history', { section: section.name });
        },
      };
      return json(await route.handle(ctx));
    }
    return allowedMethods > 0
      ? errorResponse(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed here`)
      : errorResponse(404, 'NOT_FOUND', 'no such console route');
  };

  const session = async (request: Request, url: URL): Promise<Response> => {
    const subject = await access.subject(request);
    if (!subject) return errorResponse(401, 'UNAUTHENTICATED', 'authentication required');
    const rights = await access.rights(subject, request, names);
    const { token, setCookie } = access.csrfToken(request, url, basePath);
    return json(
      { subject, title, sections: names.map((name) => ({ name, ...rights[name] })), csrfToken: token },
      200,
      setCookie ? { 'set-cookie': setCookie } : {},
    );
  };

  const handler = async (request: Request): Promise<Response> => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(400, 'INVALID_INPUT', 'bad request URL');
    }
    const path = url.pathname;
    if (path !== basePath && !path.startsWith(`${basePath}/`)) {
      return errorResponse(404, 'NOT_FOUND', 'not a console path');
    }
    const rest = path.slice(basePath.length);
    try {
      if (rest.startsWith('/api/')) return await api(request, url, rest.slice(4));
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return errorResponse(405, 'METHOD_NOT_ALLOWED', `${request.method} is not allowed here`);
      }
      if (rest.startsWith('/assets/')) {
        return assetResponse(rest.slice(8)) ?? errorResponse(404, 'NOT_FOUND', 'no such asset');
      }
      if (rest === '' || rest === '/') {
        const subject = await access.subject(request);
        if (!subject) return errorResponse(401, 'UNAUTHENTICATED', 'authentication required');
        const { setCookie } = access.csrfToken(request, url, basePath);
        return new Response(pageHtml(basePath, title), {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'cache-control': 'no-store',
            ...SECURITY_HEADERS,
            ...(setCookie ? { 'set-cookie': setCookie } : {}),
          },
        });
      }
      return errorResponse(404, 'NOT_FOUND', 'no such console page');
    } catch (error) {
      return errorToResponse(error);
    }
  };

  const close = async () => {
    if (closed) return;
    closed = true;
    live.close();
    await started.catch(() => {});
    await Promise.all([tap?.close(), ...sections.map((s) => s.close?.())]);
  };
  return Object.assign(handler, {
    basePath,
    ready: () => started,
    close,
    [Symbol.asyncDispose]: close,
  });
}
