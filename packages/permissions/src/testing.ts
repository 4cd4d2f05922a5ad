import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
import type { PermissionCache } from './cache.js';
import { createPermissionService } from './service.js';
import type { PermissionStore } from './store.js';

export type { ContractTestApi } from '@app/core/testing';

/** What a store holds, read straight from its storage (not through the adapter), as sorted lines. */
export interface PermissionStoreRaw {
  /** `role|effect|resource|action` lines, sorted. */
  rules: string[];
  /** `subject|role|tenant|resourceType|resourceId` lines (empty strings for no scope), sorted. */
  assignments: string[];
  /** `role|parent` lines, sorted. */
  parents: string[];
}

/**
 * The parts of the suite an adapter may switch off with `features: { races: false }`:
 * `races` (concurrent `addParent`, `assign` and `addRule` calls, `concurrency` of them) and `service`
 * (a `createPermissionService` over the store, with `cache` if given).
 */
export type PermissionStoreCapability = 'races' | 'service';

/** Options of {@link permissionStoreContract}: the shared `ContractOptions`, plus the cache the service part uses. */
export interface PermissionStoreContractOptions
  extends ContractOptions<PermissionStore, PermissionStoreRaw, PermissionStoreCapability> {
  /** A cache for the service-level tests, e.g. `redisPermissionCache(...)`. @default memoryPermissionCache() */
  cache?: (() => PermissionCache) | undefined;
}

type Resolved = ResolvedContractOptions<PermissionStore, PermissionStoreRaw, PermissionStoreCapability> &
  PermissionStoreContractOptions;

/** One test of the suite: a fresh store from `create`, the kit's timeout, skipped when its capability is off. */
type StoreTest = (name: string, body: (store: PermissionStore) => Promise<void>) => void;

function storeTest(o: Resolved, capability?: PermissionStoreCapability): StoreTest {
  const it = capability === undefined ? o.it : o.it.skipIf(!o.has(capability));
  return (name, body) => it(name, async () => body(await o.create()), o.timeoutMs);
}

/**
 * The behaviour every {@link PermissionStore} must have, as a test suite. Run it over your adapter to prove it.
 * `create` makes a fresh, empty store per test; `inspect` (optional) reads the storage directly for the
 * at-rest checks.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { permissionStoreContract } from '@app/permissions/testing';
 * import { memoryPermissionStore } from '@app/permissions/memory';
 *
 * permissionStoreContract({ describe, it, expect, name: 'memory', create: () => memoryPermissionStore() });
 * ```
 */
export function permissionStoreContract(options: PermissionStoreContractOptions): void {
  const o: Resolved = { ...options, ...contractOptions(options) };
  o.describe(`PermissionStore contract: ${o.name}`, () => {
    loadingSuite(o);
    rulesSuite(o);
    scopesSuite(o);
    inheritanceSuite(o);
    racesSuite(o);
    serviceSuite(o);
  });
}

/** `loadSubject`: assignments and the closure of their roles. */
function loadingSuite(o: Resolved): void {
  const { expect } = o;
  const test = storeTest(o);
  test('loads a subject: assignments and the closure of their roles, nothing else', async (store) => {
    await store.addRule('viewer', { effect: 'allow', resource: 'room', action: 'read' });
    await store.addRule('editor', { effect: 'allow', resource: 'room', action: 'write' });
    await store.addRule('unrelated', { effect: 'allow', resource: '*', action: '*' });
    expect(await store.addParent('editor', 'viewer')).toBe(true);
    await store.assign({ subject: 'alice', role: 'editor', scope: { tenant: 'acme' } });
    await store.assign({ subject: 'bob', role: 'unrelated', scope: {} });

    const policy = await store.loadSubject('alice');
    expect(policy.assignments).toEqual([{ subject: 'alice', role: 'editor', scope: { tenant: 'acme' } }]);
    const roles = [...policy.roles].sort((a, b) => a.name.localeCompare(b.name));
    expect(roles).toEqual([
      {
        name: 'editor',
        inherits: ['viewer'],
        rules: [{ effect: 'allow', resource: 'room', action: 'write' }],
      },
      { name: 'viewer', inherits: [], rules: [{ effect: 'allow', resource: 'room', action: 'read' }] },
    ]);
    expect(await store.loadSubject('nobody')).toEqual({ assignments: [], roles: [] });
  });
}

/** Rules: idempotent adds, removals that say whether they found something, role deletion. */
function rulesSuite(o: Resolved): void {
  const { expect } = o;
  const test = storeTest(o);
  test('keeps rules idempotent and tells whether a removal found something', async (store) => {
    const rule = { effect: 'deny' as const, resource: 'room', action: '*' };
    await store.addRule('banned', rule);
    await store.addRule('banned', rule);
    expect((await store.getRole('banned'))?.rules).toEqual([rule]);
    if (o.inspect) expect((await o.inspect()).rules).toEqual(['banned|deny|room|*']);
    expect(await store.removeRule('banned', { ...rule, effect: 'allow' })).toBe(false);
    expect(await store.removeRule('banned', rule)).toBe(true);
    expect(await store.removeRule('banned', rule)).toBe(false);
    if (o.inspect) expect((await o.inspect()).rules).toEqual([]);
    expect(await store.listRoles()).toEqual(['banned']);
  });

  test('deletes a role with its rules, edges and assignments', async (store) => {
    await store.addRule('mid', { effect: 'allow', resource: 'doc', action: 'read' });
    await store.addParent('top', 'mid');
    await store.addParent('mid', 'base');
    await store.assign({ subject: 's', role: 'mid', scope: {} });
    await store.assign({ subject: 's', role: 'top', scope: {} });
    expect(await store.deleteRole('mid')).toBe(true);
    expect(await store.deleteRole('mid')).toBe(false);
    expect(await store.listRoles()).toEqual(['base', 'top']);
    expect((await store.getRole('top'))?.inherits).toEqual([]);
    expect((await store.loadSubject('s')).assignments.map((a) => a.role)).toEqual(['top']);
    if (o.inspect) {
      const raw = await o.inspect();
      expect(raw.rules).toEqual([]);
      expect(raw.parents).toEqual([]);
      expect(raw.assignments).toEqual(['s|top|||']);
    }
  });
}

/** Assignment scopes: stored exactly, removed only when the scope matches. */
function scopesSuite(o: Resolved): void {
  const { expect } = o;
  const test = storeTest(o);
  test('stores scopes exactly and unassigns only the matching scope', async (store) => {
    const global = { subject: 'u', role: 'owner', scope: {} };
    const tenant = { subject: 'u', role: 'owner', scope: { tenant: 'acme' } };
    const room = { subject: 'u', role: 'owner', scope: { resource: { type: 'room', id: '42' } } };
    const both = {
      subject: 'u',
      role: 'owner',
      scope: { tenant: 'acme', resource: { type: 'room', id: '42' } },
    };
    for (const a of [global, tenant, room, both, room]) await store.assign(a);
    if (o.inspect) {
      expect([...(await o.inspect()).assignments].sort()).toEqual(
        ['u|owner||room|42', 'u|owner|||', 'u|owner|acme|room|42', 'u|owner|acme||'].sort(),
      );
    }
    expect(await store.unassign({ ...room, scope: { resource: { type: 'room', id: '43' } } })).toBe(false);
    expect(await store.unassign(room)).toBe(true);
    const left = (await store.loadSubject('u')).assignments.map((a) => JSON.stringify(a.scope)).sort();
    expect(left).toEqual([JSON.stringify(both.scope), '{"tenant":"acme"}', '{}'].sort());
  });
}

/** Inheritance: cycles refused, edges removable. */
function inheritanceSuite(o: Resolved): void {
  const { expect } = o;
  const test = storeTest(o);
  test('refuses inheritance cycles: self, direct and indirect', async (store) => {
    expect(await store.addParent('a', 'a')).toBe(false);
    expect(await store.addParent('a', 'b')).toBe(true);
    expect(await store.addParent('a', 'b')).toBe(true);
    expect(await store.addParent('b', 'c')).toBe(true);
    expect(await store.addParent('b', 'a')).toBe(false);
    expect(await store.addParent('c', 'a')).toBe(false);
    if (o.inspect) expect((await o.inspect()).parents).toEqual(['a|b', 'b|c']);
    expect(await store.removeParent('a', 'b')).toBe(true);
    expect(await store.removeParent('a', 'b')).toBe(false);
    expect(await store.addParent('c', 'a')).toBe(true);
  });
}

/** Concurrent writes: no lost write, no cycle closed by two racing `addParent` calls. */
function racesSuite(o: Resolved): void {
  const { expect } = o;
  const test = storeTest(o, 'races');
  const pairs = Math.max(1, Math.floor(o.concurrency / 2));
  const writes = pairs * 2;
  test(`lets exactly one of ${pairs} pairs of opposite concurrent inherit calls win`, async (store) => {
    const results = await Promise.all(
      Array.from({ length: pairs }, (_, i) => [
        store.addParent(`x${i}`, `y${i}`),
        store.addParent(`y${i}`, `x${i}`),
      ]).flat(),
    );
    for (let i = 0; i < pairs; i++) expect(Number(results[2 * i]) + Number(results[2 * i + 1])).toBe(1);
    if (o.inspect) expect((await o.inspect()).parents).toHaveLength(pairs);
  });

  test(`keeps all of ${writes} concurrent assignments and rules`, async (store) => {
    await Promise.all(
      Array.from({ length: writes }, (_, i) =>
        i % 2 === 0
          ? store.assign({ subject: `s${i % 10}`, role: `r${i}`, scope: { tenant: `t${i % 3}` } })
          : store.addRule(`r${i - 1}`, { effect: 'allow', resource: 'doc', action: `a${i}` }),
      ),
    );
    // Subject s0 gets the assignments i = 0, 10, 20...: one in ten of the writes, each with one rule.
    const expected = Math.ceil(writes / 10);
    const loaded = await store.loadSubject('s0');
    expect(loaded.assignments).toHaveLength(expected);
    expect(loaded.roles.flatMap((r) => r.rules)).toHaveLength(expected);
    if (o.inspect) {
      const raw = await o.inspect();
      expect(raw.assignments).toHaveLength(pairs);
      expect(raw.rules).toHaveLength(pairs);
    }
  });
}

/** The store behind a real service: inheritance, deny-overrides, scoped roles. */
function serviceSuite(o: Resolved): void {
  const { expect } = o;
  const test = storeTest(o, 'service');
  test('backs a service: inheritance, deny beats allow, scoped roles stay on their resource', async (store) => {
    const permissions = createPermissionService({ store, cache: o.cache?.() });
    await permissions.grant('viewer', 'room:read');
    await permissions.grant('owner', 'room:*');
    await permissions.inherit('owner', 'viewer');
    await permissions.deny('muted', 'message:send');
    await permissions.grant('member', '*:*');
    await permissions.assign('u', 'owner', { resource: { type: 'room', id: '42' } });
    await permissions.assign('u', 'member', { tenant: 'acme' });
    await permissions.assign('u', 'muted');
    expect(await permissions.check('u', 'delete', 'room:42')).toBe(true);
    expect(await permissions.check('u', 'delete', 'room:43')).toBe(false);
    expect(await permissions.check('u', 'read', 'room')).toBe(false);
    expect(await permissions.check('u', 'send', { type: 'message', tenant: 'acme' })).toBe(false);
    expect(await permissions.check('u', 'read', { type: 'message', tenant: 'acme' })).toBe(true);
    const why = await permissions.explain('u', 'send', { type: 'message', tenant: 'acme' });
    expect(why.matched).toMatchObject({ role: 'muted', permission: 'message:send', effect: 'deny' });
    await permissions.close();
  });
}
