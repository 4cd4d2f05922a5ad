import type { Logger } from '@app/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppServices, createServices } from './services.js';

/** The fields of the example API's JSON answers that the scenario reads. */
export interface ApiBody {
  challengeId?: string;
  token?: string;
  id?: string;
  rooms?: unknown[];
  sms?: Array<{ to: string; body: string }>;
  error?: { status?: number; code: string; message?: string };
  flags?: Record<string, { enabled: boolean; reason: string }>;
}

/** A request body sent as it is (`content-type: application/json`), not JSON-encoded: for malformed JSON. */
export class RawBody {
  constructor(readonly text: string) {}
}

/** One answer of the API: the parsed JSON body (`{}` when there is none or it is not JSON) and the raw text. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: ApiBody;
  text: string;
}

/**
 * What a framework's test gives the scenario: one HTTP call, made however the framework does it in process.
 * `body` is sent JSON-encoded, except a {@link RawBody}, sent as it is.
 */
export type ApiCall = (
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  token?: string,
) => Promise<ApiAnswer>;

/** Parses an answer's text: its JSON, or `{}` when it is empty or not JSON (the scenario then fails on it). */
export function answerOf(status: number, headers: Headers, text: string): ApiAnswer {
  let body: ApiBody = {};
  try {
    body = text ? (JSON.parse(text) as ApiBody) : {};
  } catch {}
  return { status, headers, body, text };
}

/** The `Error`s a logger received as `err`, so the scenario can see that an unexpected error was logged. */
function recordingLogger(errors: unknown[]): Logger {
  const ignore = () => {};
  return {
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (obj: unknown) => {
      errors.push((obj as { err?: unknown } | undefined)?.err ?? obj);
    },
  } as Logger;
}

/**
 * Asserts the examples' one error shape: JSON `{ error: { status, code, message } }` with `status` equal to
 * the HTTP status, and nothing of the server's insides (no HTML, no stack trace, no file path).
 */
function expectErrorShape(answer: ApiAnswer, status: number, code: string): void {
  const context = `${answer.status} ${answer.text.slice(0, 300)}`;
  expect(answer.status, context).toBe(status);
  expect(answer.headers.get('content-type') ?? '', context).toMatch(/^application\/json/);
  const parsed: unknown = JSON.parse(answer.text);
  expect(parsed, context).toEqual({ error: { status, code, message: expect.any(String) } });
  expect(answer.text, context).not.toMatch(/<html|<pre|<!doctype/i);
  expect(answer.text, context).not.toMatch(/\bat .+:\d+:\d+|node_modules|\/work\/|\/home\/|\/tmp\/|[A-Z]:\\/);
}

/** How the scenario starts and stops one framework's app over fresh in-memory services. */
export interface ApiUnderTest {
  start(services: AppServices): Promise<ApiCall> | ApiCall;
  stop?(): Promise<void> | void;
}

/**
 * The same small API story, run against every framework example (Express, Fastify, Hono, NestJS), so the apps
 * provably behave alike: sign in by code, rooms guarded by @app/permissions middleware, flags, and one JSON
 * error shape for every error (typed errors, malformed JSON, unknown routes, unexpected errors).
 *
 * @example
 * ```ts
 * describeChatApi('hono-api', { start: (services) => honoCall(createApp(services)) });
 * ```
 */
export function describeChatApi(name: string, api: ApiUnderTest): void {
  describe(name, () => {
    let services: AppServices;
    let call: ApiCall;

    const logged: unknown[] = [];

    beforeAll(async () => {
      services = await createServices({ logger: recordingLogger(logged) });
      call = await api.start(services);
    });
    afterAll(async () => {
      await api.stop?.();
      await services.close();
    });

    async function signIn(phone: string): Promise<string> {
      const sent = await call('POST', '/auth/code', { phone });
      expect(sent.status).toBe(200);
      const outbox = await call('GET', '/dev/outbox');
      const sms = outbox.body.sms?.find((m) => m.to === phone);
      const code = sms?.body.match(/\b\d{6}\b/)?.[0];
      const verified = await call('POST', '/auth/verify', {
        phone,
        code,
        challengeId: sent.body.challengeId,
      });
      expect(verified.status).toBe(200);
      return verified.body.token as string;
    }

    it('signs in by code, creates a room (its creator owns it) and deletes it', async () => {
      const token = await signIn('+14155550401');
      const created = await call('POST', '/rooms', { name: 'general' }, token);
      expect(created.status).toBe(201);
      expect((await call('GET', '/rooms', undefined, token)).body.rooms).toContainEqual(created.body);
      expect((await call('DELETE', `/rooms/${created.body.id}`, undefined, token)).status).toBe(204);
      expect((await call('GET', '/rooms', undefined, token)).body.rooms).not.toContainEqual(created.body);
      const gone = await call('DELETE', `/rooms/${created.body.id}`, undefined, token);
      expectErrorShape(gone, 404, 'NOT_FOUND');
    });

    it("refuses the delete of someone else's room until made its owner", async () => {
      const alice = await signIn('+14155550404');
      const bob = await signIn('+14155550405');
      const created = await call('POST', '/rooms', { name: 'alices' }, alice);
      expect(created.status).toBe(201);
      const roomId = created.body.id as string;

      const refused = await call('DELETE', `/rooms/${roomId}`, undefined, bob);
      expectErrorShape(refused, 403, 'FORBIDDEN');

      expect((await call('POST', `/rooms/${roomId}/owner`, undefined, bob)).status).toBe(200);
      expect((await call('DELETE', `/rooms/${roomId}`, undefined, bob)).status).toBe(204);
    });

    it('answers 401 without a valid token', async () => {
      expect((await call('GET', '/rooms')).status).toBe(401);
      expect((await call('POST', '/rooms', { name: 'x' })).status).toBe(401);
      expect((await call('DELETE', '/rooms/abc', undefined, 'not-a-token')).status).toBe(401);
      expect((await call('POST', '/rooms/abc/owner')).status).toBe(401);
      expectErrorShape(await call('GET', '/rooms'), 401, 'UNAUTHENTICATED');
    });

    it('answers malformed JSON with the one error shape: 400 INVALID_JSON, nothing of the server', async () => {
      const token = await signIn('+14155550406');
      for (const raw of ['{"phone":', '{phone: 1}', '{"name": "x"} trailing']) {
        expectErrorShape(await call('POST', '/auth/code', new RawBody(raw)), 400, 'INVALID_JSON');
        expectErrorShape(await call('POST', '/auth/verify', new RawBody(raw)), 400, 'INVALID_JSON');
        expectErrorShape(await call('POST', '/rooms', new RawBody(raw), token), 400, 'INVALID_JSON');
      }
    });

    it('answers unknown routes with the one error shape: 404 NOT_FOUND', async () => {
      const token = await signIn('+14155550407');
      for (const [method, path] of [
        ['GET', '/no-such-route'],
        ['POST', '/no/such/route'],
        ['DELETE', '/rooms'],
        ['GET', '/rooms/abc/owner'],
      ] as const) {
        const answer = await call(method, path, method === 'POST' ? {} : undefined, token);
        expectErrorShape(answer, 404, 'NOT_FOUND');
        expect(answer.body.error?.message).toBe(`no route for ${method} ${path}`);
      }
    });

    it('answers an unexpected error with 500 INTERNAL in the one shape, and logs the error', async () => {
      const token = await signIn('+14155550408');
      const evaluateAll = services.flags.evaluateAll;
      const boom = new Error(`boom in ${import.meta.filename}`);
      services.flags.evaluateAll = () => {
        throw boom;
      };
      try {
        const answer = await call('GET', '/flags', undefined, token);
        expectErrorShape(answer, 500, 'INTERNAL');
        expect(answer.text).not.toContain('boom');
      } finally {
        services.flags.evaluateAll = evaluateAll;
      }
      expect(logged).toContain(boom);
    });

    it('maps typed errors: bad phone 400, resend too soon 429 with Retry-After, wrong code 401', async () => {
      expect((await call('POST', '/auth/code', { phone: '555-0101' })).status).toBe(400);
      expect((await call('POST', '/auth/code', { phone: '+14155550402' })).status).toBe(200);
      const again = await call('POST', '/auth/code', { phone: '+14155550402' });
      expect(again.status).toBe(429);
      expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
      const outbox = (await call('GET', '/dev/outbox')).body.sms ?? [];
      const code = Number(outbox.find((m) => m.to === '+14155550402')?.body.match(/\b\d{6}\b/)?.[0]);
      const wrong = String((code + 1) % 1_000_000).padStart(6, '0');
      expect((await call('POST', '/auth/verify', { phone: '+14155550402', code: wrong })).status).toBe(401);
    });

    it('evaluates every flag for the signed-in user', async () => {
      const token = await signIn('+14155550403');
      const { body } = await call('GET', '/flags', undefined, token);
      expect(body.flags?.['new-chat-ui']).toMatchObject({ enabled: false, reason: 'DISABLED' });
      expect(body.flags?.['typing-indicators']?.reason).toBe('SPLIT');
    });
  });
}

/** An {@link ApiCall} over any fetch-style function (a live server's base URL, or Hono's `app.request`). */
export function fetchCall(
  fetchLike: (path: string, init: RequestInit) => Promise<Response> | Response,
): ApiCall {
  return async (method, path, body, token) => {
    const res = await fetchLike(path, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: body instanceof RawBody ? body.text : JSON.stringify(body) }),
    });
    return answerOf(res.status, res.headers, await res.text());
  };
}
