import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { CASES, expectOutcome, guardFixture } from './__fixtures__/guard-fixture.js';
import { fastifyPermissions } from './fastify.js';

const permissions = await guardFixture();
const guard = fastifyPermissions({
  permissions,
  getSubject: (req) => {
    const user = req.headers['x-user'];
    return typeof user === 'string' ? user : undefined;
  },
});
const app = Fastify();
let ran = 0;
app.delete(
  '/rooms/:roomId',
  { preHandler: guard.require('delete', 'room', { param: 'roomId' }) },
  async () => {
    ran++;
    return { ok: true };
  },
);
const broken = fastifyPermissions({
  permissions: { check: () => Promise.reject(new Error('down')) },
  getSubject: () => 'alice',
});
app.get('/broken/:id', { preHandler: broken.require('read', 'room', { param: 'id' }) }, async () => {
  ran++;
  return { ok: true };
});
afterAll(() => app.close());

describe('@app/permissions/fastify (inject)', () => {
  it.each(CASES)('DELETE %s as %s -> %i %s', async (path, user, status, code) => {
    const before = ran;
    const res = await app.inject({ method: 'DELETE', url: path, headers: user ? { 'x-user': user } : {} });
    expectOutcome(res.statusCode, res.json(), status, code);
    expect(ran - before).toBe(code === undefined ? 1 : 0);
  });

  it('answers 500 when the store fails, never running the handler', async () => {
    const before = ran;
    const res = await app.inject({ method: 'GET', url: '/broken/1' });
    expect(res.statusCode).toBe(500);
    expect(ran).toBe(before);
  });
});
