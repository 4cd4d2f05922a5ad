import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppServices, createServices } from '@app-examples/shared';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createApp } from './app.js';

// The operations console mounted at /console: the signed-in user is its operator.
let services: AppServices;
let server: Server;
let base: string;

beforeAll(async () => {
  services = await createServices();
  server = createApp(services).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await services.close();
});

async function signIn(phone: string): Promise<string> {
  const post = (path: string, body: unknown) =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const sent = (await (await post('/auth/code', { phone })).json()) as { challengeId: string };
  const code = services
    .smsOutbox()
    .find((m) => m.to === phone)
    ?.body.match(/\b\d{6}\b/)?.[0];
  const verified = (await (
    await post('/auth/verify', { phone, code, challengeId: sent.challengeId })
  ).json()) as {
    token: string;
  };
  return verified.token;
}

it('serves the console to the signed-in user and switches the email provider', async () => {
  // Anonymous: 401 (this first call also waits for the console's subscriptions to be up).
  expect((await fetch(`${base}/console/api/session`)).status).toBe(401);
  const token = await signIn('+14155550901');
  const page = await fetch(`${base}/console`, { headers: { cookie: `session=${token}` } });
  expect(page.status).toBe(200);
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  const session = await fetch(`${base}/console/api/session`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const { csrfToken, sections } = (await session.json()) as {
    csrfToken: string;
    sections: { name: string; write: boolean }[];
  };
  expect(sections.map((s) => s.name)).toEqual([
    'flags',
    'config',
    'events',
    'delivery',
    'otp',
    'permissions',
  ]);
  expect(sections.every((s) => s.write)).toBe(true);
  const switched = await fetch(`${base}/console/api/delivery/email/provider`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      cookie: `app_console_csrf=${csrfToken}`,
      'x-console-csrf': csrfToken,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ provider: 'sendgrid' }),
  });
  expect(switched.status).toBe(200);
  expect(await services.config.get('email.provider')).toBe('sendgrid');
  // The OTP section counted the sign-in without keeping the phone number or the code.
  const otp = await (
    await fetch(`${base}/console/api/otp`, { headers: { authorization: `Bearer ${token}` } })
  ).text();
  expect(otp).not.toContain('+14155550901');
  expect(JSON.parse(otp).purposes).toEqual([
    expect.objectContaining({ purpose: 'login', totals: { sent: 1, verified: 1, failed: 0, locked: 0 } }),
  ]);
});
