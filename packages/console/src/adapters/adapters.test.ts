// Every framework mount serves the same console: the page, a session with its CSRF cookie, a guarded write
// with the token, a refused forged write, a 403 for a reader, and the live stream staying open.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type MiddlewareConsumer, Module, type NestModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryServices, OPERATOR, VIEWER } from '../__fixtures__/services.js';
import { CSRF_COOKIE, CSRF_HEADER } from '../guard.js';
import { expressConsole } from './express.js';
import { fastifyConsole } from './fastify.js';
import { honoConsole } from './hono.js';
import { nestConsole } from './nestjs.js';
import { nextConsole } from './next.js';

type Services = Awaited<ReturnType<typeof memoryServices>>;
type Fetch = (path: string, init?: RequestInit) => Promise<Response>;
let s: Services;

beforeAll(async () => {
  s = await memoryServices();
});
afterAll(async () => {
  await s.close();
});

/** Serves a Node request listener on a free port; `fetch` goes to it. */
async function listen(listener: Parameters<typeof createServer>[1]) {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    fetch: ((path, init) => fetch(`${base}${path}`, init)) as Fetch,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function exercise(call: Fetch, origin: string) {
  const page = await call('/console', { headers: { 'x-user': VIEWER } });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('<div id="app"');
  const session = await call('/console/api/session', { headers: { 'x-user': OPERATOR } });
  expect(session.status).toBe(200);
  const { csrfToken } = (await session.json()) as { csrfToken: string };
  expect(session.headers.get('set-cookie')).toContain(`${CSRF_COOKIE}=${csrfToken}`);
  const headers = {
    'x-user': OPERATOR,
    cookie: `${CSRF_COOKIE}=${csrfToken}`,
    [CSRF_HEADER]: csrfToken,
    origin,
    'content-type': 'application/json',
  };
  const before = s.flags.definition('beta-banner')?.enabled;
  const forged = await call('/console/api/flags/beta-banner/toggle', {
    method: 'POST',
    headers: { ...headers, origin: 'https://evil.example' },
    body: '{}',
  });
  expect(forged.status).toBe(403);
  const ok = await call('/console/api/flags/beta-banner/toggle', {
    method: 'POST',
    headers,
    body: JSON.stringify({ enabled: !before }),
  });
  expect(ok.status).toBe(200);
  expect(((await ok.json()) as { enabled: boolean }).enabled).toBe(!before);
  const reader = await call('/console/api/flags/beta-banner/toggle', {
    method: 'POST',
    headers: { ...headers, 'x-user': VIEWER },
    body: '{}',
  });
  expect(reader.status).toBe(403);
  const deleted = await call('/console/api/config/app.nothing', { method: 'DELETE', headers });
  expect(deleted.status).toBe(200);
  // The live stream answers with its first event and stays open until the client leaves.
  const abort = new AbortController();
  const live = await call('/console/api/live', { headers: { 'x-user': VIEWER }, signal: abort.signal });
  expect(live.headers.get('content-type')).toContain('text/event-stream');
  const reader2 = (live.body as ReadableStream<Uint8Array>).getReader();
  expect(new TextDecoder().decode((await reader2.read()).value)).toContain('event: ready');
  abort.abort();
  await reader2.cancel().catch(() => {});
}

describe('framework mounts', () => {
  it('express', async () => {
    const app = express();
    app.use(express.json());
    app.use('/console', expressConsole(s.handler));
    const server = await listen(app);
    try {
      await exercise(server.fetch, server.base);
    } finally {
      await server.close();
    }
  });

  it('fastify', async () => {
    const app = Fastify();
    await app.register(fastifyConsole(s.handler));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    try {
      await exercise((path, init) => fetch(`${base}${path}`, init), base);
    } finally {
      app.server.closeAllConnections();
      await app.close();
    }
  });

  it('hono', async () => {
    const app = new Hono();
    const route = honoConsole(s.handler);
    app.all('/console', route);
    app.all('/console/*', route);
    await exercise(
      async (path, init) => app.fetch(new Request(`http://hono.test${path}`, init)),
      'http://hono.test',
    );
  });

  it('next (route handlers)', async () => {
    const routes = nextConsole(s.handler);
    await exercise((path, init) => {
      const request = new Request(`http://next.test${path}`, init);
      const method = request.method as keyof typeof routes;
      return routes[method](request);
    }, 'http://next.test');
  });

  it('nestjs (middleware)', async () => {
    const ConsoleMiddleware = nestConsole(s.handler);
    @Module({})
    class AppModule implements NestModule {
      configure(consumer: MiddlewareConsumer) {
        consumer.apply(ConsoleMiddleware).forRoutes('console', 'console/*path');
      }
    }
    const app = await NestFactory.create(AppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    const base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    try {
      await exercise((path, init) => fetch(`${base}${path}`, init), base);
    } finally {
      app.getHttpServer().closeAllConnections();
      await app.close();
    }
  });
});
