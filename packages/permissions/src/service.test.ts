import { isAppError } from '@app/core';
import { describe, expect, it, vi } from 'vitest';
import { memoryPermissionStore } from './adapters/memory.js';
import { memoryPermissionCache } from './cache.js';
import { PermissionErrorCode } from './errors.js';
import { createPermissionService } from './service.js';
import type { PermissionStore } from './store.js';

function countingStore(): { store: PermissionStore; loads: () => number } {
  let loads = 0;
  const store = memoryPermissionStore({ onQuery: () => loads++ });
  return { store, loads: () => loads };
}

describe('createPermissionService', () => {
  it('denies by default and allows what a role grants, wildcards included', async () => {
    const p = createPermissionService({ store: memoryPermissionStore() });
    expect(await p.check('alice', 'read', 'room')).toBe(false);
    await p.grant('reader', '*:read');
    await p.grant('roomer', 'room:*');
    await p.assign('alice', 'reader');
    await p.assign('bob', 'roomer');
    expect(await p.check('alice', 'read', 'message')).toBe(true);
    expect(await p.check('alice', 'write', 'message')).toBe(false);
    expect(await p.check('bob', 'delete', 'room:1')).toBe(true);
    expect(await p.check('bob', 'read', 'message')).toBe(false);
    expect(await p.explain('carol', 'read', 'room')).toEqual({
      allowed: false,
      reason: 'no-matching-rule',
      matched: null,
      message: 'denied by default: no rule of any assigned role matches',
    });
  });

  it('explains which role and rule decided, with the inheritance path and scope', async () => {
    const p = createPermissionService({ store: memoryPermissionStore() });
    await p.grant('viewer', 'room:read');
    await p.inherit('editor', 'viewer');
    await p.inherit('admin', 'editor');
    await p.assign('alice', 'admin', { tenant: 'acme' });
    const d = await p.explain('alice', 'read', { type: 'room', id: 7, tenant: 'acme' });
    expect(d).toEqual({
      allowed: true,
      reason: 'allowed',
      matched: {
        role: 'viewer',
        permission: 'room:read',
        effect: 'allow',
        via: ['admin', 'editor', 'viewer'],
        scope: { tenant: 'acme' },
      },
      message:
        'allowed by allow rule "room:read" of role "viewer" (via admin -> editor -> viewer), assigned on tenant acme',
    });
    await p.deny('admin', 'room:read');
    const denied = await p.explain('alice', 'read', { type: 'room', tenant: 'acme' });
    expect(denied.reason).toBe('denied-by-rule');
    expect(denied.matched).toMatchObject({
      role: 'admin',
      permission: 'room:read',
      effect: 'deny',
      via: ['admin'],
    });
  });

  it('lets a deny beat an allow whatever the order, the scope or the wildcard', async () => {
    const p = createPermissionService({ store: memoryPermissionStore() });
    await p.deny('banned', '*:*');
    await p.grant('owner', 'room:*');
    await p.assign('alice', 'banned', { tenant: 'acme' });
    await p.assign('alice', 'owner', { resource: { type: 'room', id: '1' } });
    expect(await p.check('alice', 'read', 'room:1')).toBe(true);
    expect(await p.check('alice', 'read', { type: 'room', id: '1', tenant: 'acme' })).toBe(false);
    expect(await p.check('alice', 'read', { type: 'room', id: '1', tenant: 'other' })).toBe(true);
  });

  it('revokes: rules, assignments, inheritance and roles, seen by the next check', async () => {
    const p = createPermissionService({ store: memoryPermissionStore() });
    await p.grant('viewer', 'doc:read');
    await p.inherit('editor', 'viewer');
    await p.assign('u', 'editor');
    expect(await p.check('u', 'read', 'doc')).toBe(true);
    expect(await p.disinherit('editor', 'viewer')).toBe(true);
    expect(await p.check('u', 'read', 'doc')).toBe(false);
    await p.inherit('editor', 'viewer');
    expect(await p.check('u', 'read', 'doc')).toBe(true);
    expect(await p.revoke('viewer', 'doc:read')).toBe(true);
    expect(await p.check('u', 'read', 'doc')).toBe(false);
    await p.grant('viewer', 'doc:read');
    expect(await p.unassign('u', 'editor')).toBe(true);
    expect(await p.check('u', 'read', 'doc')).toBe(false);
    await p.assign('u', 'viewer');
    expect(await p.deleteRole('viewer')).toBe(true);
    expect(await p.check('u', 'read', 'doc')).toBe(false);
    expect(await p.listRoles()).toEqual(['editor']);
  });

  it('refuses inheritance cycles with a typed error naming both roles', async () => {
    const p = createPermissionService({ store: memoryPermissionStore() });
    await p.inherit('a', 'b');
    await p.inherit('b', 'c');
    await expect(p.inherit('c', 'a')).rejects.toMatchObject({ code: PermissionErrorCode.ROLE_CYCLE });
    await expect(p.inherit('c', 'a')).rejects.toThrow('[@app/permissions] role "c" cannot inherit "a"');
    await expect(p.inherit('a', 'a')).rejects.toMatchObject({ code: PermissionErrorCode.ROLE_CYCLE });
  });

  it('costs one store query for a cold check, shared by 1,000 concurrent cold checks, none when cached', async () => {
    const { store, loads } = countingStore();
    const p = createPermissionService({ store });
    await p.grant('r', 'room:read');
    await p.assign('u', 'r');
    const results = await Promise.all(Array.from({ length: 1000 }, () => p.check('u', 'read', 'room')));
    expect(results.every(Boolean)).toBe(true);
    expect(loads()).toBe(1);
    await p.checkMany('u', [
      { action: 'read', resource: 'room' },
      { action: 'write', resource: 'room:9' },
    ]);
    expect(loads()).toBe(1);
    await p.assign('u', 'other');
    expect(
      await p.checkMany('u', [
        { action: 'read', resource: 'room' },
        { action: 'write', resource: 'room:9' },
      ]),
    ).toEqual([true, false]);
    expect(loads()).toBe(2);
  });

  it('never caches a load that raced with a write', async () => {
    let release: () => void = () => {};
    const base = memoryPermissionStore();
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const store: PermissionStore = {
      ...base,
      async loadSubject(s) {
        const policy = await base.loadSubject(s);
        await gate;
        return policy;
      },
    };
    const p = createPermissionService({ store });
    await p.grant('r', 'doc:read');
    await p.assign('u', 'r');
    const slow = p.check('u', 'read', 'doc');
    await p.revoke('r', 'doc:read');
    release();
    expect(await slow).toBe(true); // decided on what it read before the revoke
    expect(await p.check('u', 'read', 'doc')).toBe(false); // not served from the stale load
  });

  it('a revoke racing 1,000 concurrent checks: every check started after it resolves is denied', async () => {
    // Loads read the store at once but answer a macrotask later, so they are still in flight after the revoke.
    const base = memoryPermissionStore();
    const store: PermissionStore = {
      ...base,
      async loadSubject(s) {
        const policy = await base.loadSubject(s);
        await new Promise((r) => setImmediate(r));
        return policy;
      },
    };
    const p = createPermissionService({ store });
    await p.grant('r', 'doc:read');
    await Promise.all(Array.from({ length: 100 }, (_, i) => p.assign(`u${i}`, 'r')));
    const during = Array.from({ length: 1000 }, (_, i) => p.check(`u${i % 100}`, 'read', 'doc'));
    await p.revoke('r', 'doc:read');
    const after = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => p.check(`u${i % 100}`, 'read', 'doc')),
    );
    await Promise.all(during);
    expect(after.filter(Boolean)).toHaveLength(0);
  });

  it('expires cached sets after the TTL (writes made elsewhere show up)', async () => {
    let now = 0;
    const store = memoryPermissionStore();
    const p = createPermissionService({
      store,
      cache: memoryPermissionCache({ ttlMs: 1000, now: () => now }),
    });
    await p.assign('u', 'r');
    expect(await p.check('u', 'read', 'doc')).toBe(false);
    await store.addRule('r', { effect: 'allow', resource: 'doc', action: 'read' }); // behind the service's back
    now = 999;
    expect(await p.check('u', 'read', 'doc')).toBe(false);
    now = 1000;
    expect(await p.check('u', 'read', 'doc')).toBe(true);
  });

  it('answers synchronously from forSubject and lists permissions for a resource', async () => {
    const p = createPermissionService({ store: memoryPermissionStore() });
    await p.grant('owner', 'room:*');
    await p.grant('member', 'message:read');
    await p.assign('u', 'owner', { resource: { type: 'room', id: '42' } });
    await p.assign('u', 'member');
    const perms = await p.forSubject('u');
    expect(perms.can('delete', 'room:42')).toBe(true);
    expect(perms.can('delete', 'room:41')).toBe(false);
    expect(perms.explain('read', 'message').matched?.role).toBe('member');
    expect((await p.listPermissions('u', 'room:42')).map((e) => e.permission)).toEqual(['room:*']);
    expect((await p.listPermissions('u', 'room:41')).map((e) => e.permission)).toEqual([]);
    expect((await p.listPermissions('u')).map((e) => e.permission).sort()).toEqual([
      'message:read',
      'room:*',
    ]);
  });

  it('wraps store failures in STORE_FAILED with the cause, and logs them', async () => {
    const boom = new Error('db down');
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const store: PermissionStore = {
      ...memoryPermissionStore(),
      loadSubject: () => Promise.reject(boom),
    };
    const p = createPermissionService({ store, logger });
    const err = await p.check('u', 'read', 'doc').catch((e: unknown) => e);
    expect(isAppError(err, '@app/permissions', PermissionErrorCode.STORE_FAILED)).toBe(true);
    expect((err as Error).cause).toBe(boom);
    expect(logger.error).toHaveBeenCalledOnce();
  });

  it('refuses use after close', async () => {
    const p = createPermissionService({ store: memoryPermissionStore() });
    await p[Symbol.asyncDispose]();
    await expect(p.check('u', 'read', 'doc')).rejects.toMatchObject({ code: PermissionErrorCode.CLOSED });
    await expect(p.grant('r', 'doc:read')).rejects.toMatchObject({ code: PermissionErrorCode.CLOSED });
  });
});

describe('hardening: input from users', () => {
  const setup = async () => {
    const { store, loads } = countingStore();
    const p = createPermissionService({ store });
    await p.grant('owner', 'room:*');
    await p.grant('admin', '*:*');
    await p.assign('alice', 'owner', { resource: { type: 'room', id: '42' } });
    await p.assign('alice', 'owner', { resource: { type: 'room', id: 'Café' } });
    return { p, loads };
  };

  it.each([
    ['*'],
    ['4*'],
    ['..'],
    ['42/..'],
    ['.'],
    ['42:1'],
    ['room:42'],
    ['a/b'],
    ['a\\b'],
    ['42?x'],
    ['42#x'],
    ['%2e%2e'],
    [''],
    [' 42'],
    ['4\u200b2'],
    ['42\u0000'],
    ['42\n'],
    ['\u202e24'],
    ['\uFF0A'],
    ['\uFF1A42'],
    ['\uFE55'],
    ['\u2024\u2024'],
    ['x'.repeat(129)],
    ['\ud800'],
    [-1],
    [1.5],
    [Number.NaN],
  ])('rejects resource id %j with INVALID_RESOURCE before any store query', async (id) => {
    const { p, loads } = await setup();
    await expect(p.check('alice', 'delete', { type: 'room', id: id as string })).rejects.toMatchObject({
      code: PermissionErrorCode.INVALID_RESOURCE,
    });
    expect(loads()).toBe(0);
  });

  it.each([['*'], ['room*'], ['ro om'], [''], ['a:b'], ['x'.repeat(65)]])(
    'rejects action or type %j',
    async (name) => {
      const { p } = await setup();
      await expect(p.check('alice', name, 'room')).rejects.toMatchObject({
        code: PermissionErrorCode.INVALID_ACTION,
      });
      await expect(p.check('alice', 'read', { type: name })).rejects.toMatchObject({
        code: PermissionErrorCode.INVALID_ACTION,
      });
    },
  );

  it('NFC-normalises ids, so both spellings of an accented id name the same resource', async () => {
    const { p } = await setup();
    expect(await p.check('alice', 'delete', { type: 'room', id: 'Cafe\u0301' })).toBe(true);
    expect(await p.check('alice', 'delete', { type: 'room', id: 'Caf\u00e9' })).toBe(true);
    expect(await p.check('alice', 'delete', { type: 'room', id: 'cafe' })).toBe(false);
    expect(await p.check('alice', 'delete', 'room:42')).toBe(true);
    expect(await p.check('alice', 'delete', { type: 'room', id: 42 })).toBe(true);
  });

  it('accepts wildcards only in stored policy: grant parses them, checks and scopes refuse them', async () => {
    const { p } = await setup();
    await expect(p.grant('x', 'room')).rejects.toMatchObject({
      code: PermissionErrorCode.INVALID_PERMISSION,
    });
    await expect(p.grant('x', 'room:read:extra')).rejects.toMatchObject({
      code: PermissionErrorCode.INVALID_PERMISSION,
    });
    await expect(p.grant('x', 'ro*m:read')).rejects.toMatchObject({
      code: PermissionErrorCode.INVALID_PERMISSION,
    });
    await expect(p.assign('bob', 'owner', { resource: { type: 'room', id: '*' } })).rejects.toMatchObject({
      code: PermissionErrorCode.INVALID_RESOURCE,
    });
    await expect(p.assign('bob', 'owner', { tenant: '..' })).rejects.toMatchObject({
      code: PermissionErrorCode.INVALID_RESOURCE,
    });
    await expect(p.assign('bob', 'bad role')).rejects.toMatchObject({
      code: PermissionErrorCode.INVALID_ROLE,
    });
    await expect(p.assign('', 'owner')).rejects.toMatchObject({ code: PermissionErrorCode.INVALID_SUBJECT });
    await expect(p.assign('a\u0000b', 'owner')).rejects.toMatchObject({
      code: PermissionErrorCode.INVALID_SUBJECT,
    });
    expect(await p.listRoles()).toEqual(['admin', 'owner']);
  });
});
