import { describe, expect, it } from 'vitest';
import { CASES, expectOutcome, guardFixture } from './__fixtures__/guard-fixture.js';
import { nextPermissions } from './next.js';

const permissions = await guardFixture();
const guard = nextPermissions({ permissions, getSubject: (req) => req.headers.get('x-user') });
let ran = 0;
const DELETE = guard.require('delete', 'room', { param: 'roomId' })(
  async (_req, _ctx: { params: Promise<{ roomId: string }> }) => {
    ran++;
    return Response.json({ ok: true });
  },
);

describe('@app/permissions/next (route handler called with a Request)', () => {
  it.each(CASES)('DELETE %s as %s -> %i %s', async (path, user, status, code) => {
    const before = ran;
    const url = new URL(path, 'http://localhost');
    // Next decodes dynamic segments before handing them to the route handler.
    const roomId = decodeURIComponent(url.pathname.split('/')[2]!);
    const req = new Request(url, { method: 'DELETE', headers: user ? { 'x-user': user } : {} });
    const res = await DELETE(req, { params: Promise.resolve({ roomId }) });
    expectOutcome(res.status, await res.json(), status, code);
    expect(ran - before).toBe(code === undefined ? 1 : 0);
  });

  it('accepts Next 13/14 plain params and reads the id through resourceId', async () => {
    const GET = guard.require('delete', 'room', {
      resourceId: (req) => new URL(req.url).searchParams.get('id') ?? undefined,
    })(() => Response.json({ ok: true }));
    const ok = await GET(new Request('http://localhost/?id=42', { headers: { 'x-user': 'alice' } }), {
      params: {},
    });
    expect(ok.status).toBe(200);
    const denied = await GET(new Request('http://localhost/?id=7', { headers: { 'x-user': 'alice' } }), {
      params: {},
    });
    expect(denied.status).toBe(403);
  });

  it('refuses a request whose resourceId reader finds no id with 400, so a resource-scoped deny cannot be skipped', async () => {
    // dave may read every room, except room 42 (a deny assigned on that room only).
    await permissions.grant('reader', 'room:read');
    await permissions.deny('blocked', 'room:read');
    await permissions.assign('dave', 'reader');
    await permissions.assign('dave', 'blocked', { resource: { type: 'room', id: '42' } });
    let ran = 0;
    const GET = guard.require('read', 'room', {
      resourceId: (req) => new URL(req.url).searchParams.get('id') ?? undefined,
    })(() => {
      ran++;
      return Response.json({ ok: true });
    });
    const as = (query: string) =>
      GET(new Request(`http://localhost/${query}`, { headers: { 'x-user': 'dave' } }), { params: {} });
    expect((await as('?id=7')).status).toBe(200);
    expect((await as('?id=42')).status).toBe(403);
    // Without an id the request must not fall back to the type-level check (which dave passes).
    const missing = await as('');
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ error: { code: 'INVALID_RESOURCE' } });
    expect(ran).toBe(1);
  });

  it('refuses a missing route parameter with 400 instead of checking the type alone', async () => {
    const res = await DELETE(new Request('http://localhost/rooms', { headers: { 'x-user': 'alice' } }), {
      params: Promise.resolve({} as { roomId: string }),
    });
    expect(res.status).toBe(400);
  });

  it('keeps the handler context type and passes the context through, as in the README example', async () => {
    const alice = nextPermissions({ permissions, getSubject: () => 'alice' });
    const handler = alice.require('delete', 'room', { param: 'roomId' })(
      async (_req: Request, { params }: { params: Promise<{ roomId: string }> }) => {
        const { roomId } = await params;
        return Response.json({ roomId });
      },
    );
    const res = await handler(new Request('http://localhost/rooms/42'), {
      params: Promise.resolve({ roomId: '42' }),
    });
    expect(await res.json()).toEqual({ roomId: '42' });
  });

  it('rejects a malformed action at definition time', () => {
    expect(() => guard.require('de*lete', 'room')).toThrow('[@app/permissions]');
  });
});
