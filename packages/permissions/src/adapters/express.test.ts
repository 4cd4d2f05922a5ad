import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { afterAll, describe, expect, it } from 'vitest';
import { CASES, expectOutcome, guardFixture } from './__fixtures__/guard-fixture.js';
import { expressPermissions } from './express.js';

const permissions = await guardFixture();
const guard = expressPermissions({ permissions, getSubject: (req) => req.header('x-user') });
const app = express();
let ran = 0;
app.delete('/rooms/:roomId', guard.require('delete', 'room', { param: 'roomId' }), (_req, res) => {
  ran++;
  res.json({ ok: true, subject: res.locals.subject });
});
const broken = expressPermissions({
  permissions: { check: () => Promise.reject(new Error('down')) },
  getSubject: () => 'alice',
});
app.get('/broken/:id', broken.require('read', 'room', { param: 'id' }), (_req, res) => {
  ran++;
  res.json({ ok: true });
});
app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
  res.status(500).json({ failed: true });
});
const server = app.listen(0, '127.0.0.1');
await new Promise<void>((resolve) => server.once('listening', () => resolve()));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('@app/permissions/express (ephemeral port)', () => {
  it.each(CASES)('DELETE %s as %s -> %i %s', async (path, user, status, code) => {
    const before = ran;
    const res = await fetch(base + path, { method: 'DELETE', headers: user ? { 'x-user': user } : {} });
    const body = (await res.json()) as Record<string, unknown>;
    if (code === undefined) expect(body.subject).toBe(user);
    delete body.subject;
    expectOutcome(res.status, body, status, code);
    expect(ran - before).toBe(code === undefined ? 1 : 0);
  });

  it('passes store failures to the error handler (500), never running the route', async () => {
    const before = ran;
    const res = await fetch(`${base}/broken/1`);
    expect(res.status).toBe(500);
    expect(ran).toBe(before);
  });
});
