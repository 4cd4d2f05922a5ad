import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppServices, createServices } from './services.js';

/** The fields of the example API's JSON answers that the scenario reads. */
export interface ApiBody {
  challengeId?: string;
  token?: string;
  id?: string;
  rooms?: unknown[];
  sms?: Array<{ to: string; body: string }>;
  error?: { code: string; message?: string };
  flags?: Record<string, { enabled: boolean; reason: string }>;
}

/** What a framework's test gives the scenario: one HTTP call, made however the framework does it in process. */
export type ApiCall = (
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  token?: string,
) => Promise<{ status: number; headers: Headers; body: ApiBody }>;

/** How the scenario starts and stops one framework's app over fresh in-memory services. */
export interface ApiUnderTest {
  start(services: AppServices): Promise<ApiCall> | ApiCall;
  stop?(): Promise<void> | void;
}

/**
 * The same small API story, run against every framework example (Express, Fastify, Hono), so the three apps
 * provably behave alike: sign in by code, rooms guarded by @app/permissions middleware, error mapping, flags.
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

    beforeAll(async () => {
      services = await createServices();
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

    it('signs in by code, creates a room, is refused the delete, becomes owner, deletes it', async () => {
      const token = await signIn('+14155550401');
      const created = await call('POST', '/rooms', { name: 'general' }, token);
      expect(created.status).toBe(201);
      const roomId = created.body.id as string;
      expect((await call('GET', '/rooms', undefined, token)).body.rooms).toContainEqual(created.body);

      const refused = await call('DELETE', `/rooms/${roomId}`, undefined, token);
      expect(refused.status).toBe(403);
      expect(refused.body.error?.code).toBe('FORBIDDEN');

      expect((await call('POST', `/rooms/${roomId}/owner`, undefined, token)).status).toBe(200);
      expect((await call('DELETE', `/rooms/${roomId}`, undefined, token)).status).toBe(204);
      expect((await call('GET', '/rooms', undefined, token)).body.rooms).not.toContainEqual(created.body);
    });

    it('answers 401 without a valid token', async () => {
      expect((await call('GET', '/rooms')).status).toBe(401);
      expect((await call('POST', '/rooms', { name: 'x' })).status).toBe(401);
      expect((await call('DELETE', '/rooms/abc', undefined, 'not-a-token')).status).toBe(401);
      expect((await call('POST', '/rooms/abc/owner')).status).toBe(401);
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
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as ApiBody) : {} };
  };
}
