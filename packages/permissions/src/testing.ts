import type { PermissionCache } from './cache.js';
import { createPermissionService } from './service.js';
import type { PermissionStore } from './store.js';

/** The parts of vitest (or jest) the contract suite uses, passed in so this module imports no test runner. */
export interface ContractTestApi {
  /** The test runner's `describe`. */
  describe: (name: string, fn: () => void) => void;
  /** The test runner's `it`. */
  it: (name: string, fn: () => Promise<void>, timeout?: number) => void;
  /** The test runner's `expect`. */
  expect: (value: unknown) => ContractMatchers;
}

/** The matchers the contract suite uses; vitest's and jest's `expect` provide them. */
export interface ContractMatchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toHaveLength(length: number): void;
  toMatchObject(expected: object): void;
}

/** What a store's raw rows look like, read straight from its storage (not through the adapter). */
export interface RawPermissionData {
  /** `role|effect|resource|action` lines, sorted. */
  rules(): Promise<string[]>;
  /** `subject|role|tenant|resourceType|resourceId` lines (empty strings for no scope), sorted. */
  assignments(): Promise<string[]>;
  /** `role|parent` lines, sorted. */
  parents(): Promise<string[]>;
}

/** A fresh, empty store for one test, and optionally a way to read its storage directly. */
export interface ContractStoreFactory {
  store: PermissionStore;
  raw?: RawPermissionData;
}

/** Options of {@link permissionStoreContract}. */
export interface PermissionStoreContractOptions extends ContractTestApi {
  /** Shown in test names, e.g. `memory` or `prisma (Postgres)`. */
  name: string;
  /** Makes a fresh, empty store (and its raw reader) for each test. */
  create: () => Promise<ContractStoreFactory> | ContractStoreFactory;
  /** A cache for the service-level tests, e.g. `redisPermissionCache(...)`. @default memoryPermissionCache() */
  cache?: () => PermissionCache;
  /** Concurrent operations in the race tests. @default 1000 */
  concurrency?: number;
}

/**
 * The behaviour every {@link PermissionStore} must have, as a test suite. Run it over your adapter to prove it.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { permissionStoreContract } from '@app/permissions/testing';
 * import { memoryPermissionStore } from '@app/permissions/memory';
 *
 * permissionStoreContract({ describe, it, expect, name: 'memory', create: () => ({ store: memoryPermissionStore() }) });
 * ```
 */
export function permissionStoreContract(options: PermissionStoreContractOptions): void {
  const { describe, it, expect } = options;
  const concurrency = options.concurrency ?? 1000;

  describe(`PermissionStore contract: ${options.name}`, () => {
    it('loads a subject: assignments and the closure of their roles, nothing else', async () => {
      const { store } = await options.create();
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

    it('keeps rules idempotent and tells whether a removal found something', async () => {
      const { store, raw } = await options.create();
      const rule = { effect: 'deny' as const, resource: 'room', action: '*' };
      await store.addRule('banned', rule);
      await store.addRule('banned', rule);
      expect((await store.getRole('banned'))?.rules).toEqual([rule]);
      if (raw) expect(await raw.rules()).toEqual(['banned|deny|room|*']);
      expect(await store.removeRule('banned', { ...rule, effect: 'allow' })).toBe(false);
      expect(await store.removeRule('banned', rule)).toBe(true);
      expect(await store.removeRule('banned', rule)).toBe(false);
      if (raw) expect(await raw.rules()).toEqual([]);
      expect(await store.listRoles()).toEqual(['banned']);
    });

    it('stores scopes exactly and unassigns only the matching scope', async () => {
      const { store, raw } = await options.create();
      const global = { subject: 'u', role: 'owner', scope: {} };
      const tenant = { subject: 'u', role: 'owner', scope: { tenant: 'acme' } };
      const room = { subject: 'u', role: 'owner', scope: { resource: { type: 'room', id: '42' } } };
      const both = {
        subject: 'u',
        role: 'owner',
        scope: { tenant: 'acme', resource: { type: 'room', id: '42' } },
      };
      for (const a of [global, tenant, room, both, room]) await store.assign(a);
      if (raw) {
        expect([...(await raw.assignments())].sort()).toEqual(
          ['u|owner||room|42', 'u|owner|||', 'u|owner|acme|room|42', 'u|owner|acme||'].sort(),
        );
      }
      expect(await store.unassign({ ...room, scope: { resource: { type: 'room', id: '43' } } })).toBe(false);
      expect(await store.unassign(room)).toBe(true);
      const left = (await store.loadSubject('u')).assignments.map((a) => JSON.stringify(a.scope)).sort();
      expect(left).toEqual([JSON.stringify(both.scope), '{"tenant":"acme"}', '{}'].sort());
    });

    it('refuses inheritance cycles: self, direct and indirect', async () => {
      const { store, raw } = await options.create();
      expect(await store.addParent('a', 'a')).toBe(false);
      expect(await store.addParent('a', 'b')).toBe(true);
      expect(await store.addParent('a', 'b')).toBe(true);
      expect(await store.addParent('b', 'c')).toBe(true);
      expect(await store.addParent('b', 'a')).toBe(false);
      expect(await store.addParent('c', 'a')).toBe(false);
      if (raw) expect(await raw.parents()).toEqual(['a|b', 'b|c']);
      expect(await store.removeParent('a', 'b')).toBe(true);
      expect(await store.removeParent('a', 'b')).toBe(false);
      expect(await store.addParent('c', 'a')).toBe(true);
    });

    it('deletes a role with its rules, edges and assignments', async () => {
      const { store, raw } = await options.create();
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
      if (raw) {
        expect(await raw.rules()).toEqual([]);
        expect(await raw.parents()).toEqual([]);
        expect(await raw.assignments()).toEqual(['s|top|||']);
      }
    });

    it(`lets exactly one of ${concurrency / 2} pairs of opposite concurrent inherit calls win`, async () => {
      const { store, raw } = await options.create();
      const pairs = concurrency / 2;
      const results = await Promise.all(
        Array.from({ length: pairs }, (_, i) => [
          store.addParent(`x${i}`, `y${i}`),
          store.addParent(`y${i}`, `x${i}`),
        ]).flat(),
      );
      for (let i = 0; i < pairs; i++) expect(Number(results[2 * i]) + Number(results[2 * i + 1])).toBe(1);
      if (raw) expect(await raw.parents()).toHaveLength(pairs);
    }, 60_000);

    it(`keeps all of ${concurrency} concurrent assignments and rules`, async () => {
      const { store, raw } = await options.create();
      await Promise.all(
        Array.from({ length: concurrency }, (_, i) =>
          i % 2 === 0
            ? store.assign({ subject: `s${i % 10}`, role: `r${i}`, scope: { tenant: `t${i % 3}` } })
            : store.addRule(`r${i - 1}`, { effect: 'allow', resource: 'doc', action: `a${i}` }),
        ),
      );
      const loaded = await store.loadSubject('s0');
      expect(loaded.assignments).toHaveLength(concurrency / 10);
      expect(loaded.roles.flatMap((r) => r.rules)).toHaveLength(concurrency / 10);
      if (raw) {
        expect(await raw.assignments()).toHaveLength(concurrency / 2);
        expect(await raw.rules()).toHaveLength(concurrency / 2);
      }
    }, 60_000);

    it('backs a service: inheritance, deny beats allow, scoped roles stay on their resource', async () => {
      const { store } = await options.create();
      const permissions = createPermissionService({ store, cache: options.cache?.() });
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
  });
}
