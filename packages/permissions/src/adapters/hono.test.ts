import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { CASES, expectOutcome, guardFixture } from './__fixtures__/guard-fixture.js';
import { honoPermissions } from './hono.js';

const permissions = await guardFixture();
const guard = honoPermissions({ permissions, getSubject: (c) => c.req.header('x-user') });
const app = new Hono();
let ran = 0;
app.delete('/rooms/:roomId', guard.require('delete', 'room', { param: 'roomId' }), (c) => {
  ran++;
  return c.json({ ok: true });
});
app.onError((_err, c) => c.json({ failed: true }, 500));

describe('@app/permissions/hono (app.request)', () => {
  it.each(CASES)('DELETE %s as %s -> %i %s', async (path, user, status, code) => {
    const before = ran;
    const res = await app.request(path, { method: 'DELETE', headers: user ? { 'x-user': user } : {} });
    expectOutcome(res.status, await res.json(), status, code);
    expect(ran - before).toBe(code === undefined ? 1 : 0);
  });

  it('scopes by the tenant getTenant reads, and refuses a malformed tenant with 400', async () => {
    await permissions.grant('member', 'doc:read');
    await permissions.assign('carol', 'member', { tenant: 'acme' });
    const tenanted = honoPermissions({
      permissions,
      getSubject: (c) => c.req.header('x-user'),
      getTenant: (c) => c.req.header('x-tenant'),
    });
    const app3 = new Hono();
    app3.get('/docs', tenanted.require('read', 'doc'), (c) => c.json({ ok: true }));
    const as = (tenant: string) =>
      app3.request('/docs', { headers: { 'x-user': 'carol', 'x-tenant': tenant } });
    expect((await as('acme')).status).toBe(200);
    expect((await as('other')).status).toBe(403);
    const bad = await as('*');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'INVALID_RESOURCE' } });
  });

  it('answers 500 through the framework when the store fails, never running the handler', async () => {
    const broken = honoPermissions({
      permissions: { check: () => Promise.reject(new Error('down')) },
      getSubject: () => 'alice',
    });
    const app2 = new Hono();
    app2.get('/rooms/:id', broken.require('read', 'room', { param: 'id' }), (c) => c.json({ ok: true }));
    app2.onError((_e, c) => c.json({ failed: true }, 500));
    const res = await app2.request('/rooms/1');
    expect(res.status).toBe(500);
  });
});
