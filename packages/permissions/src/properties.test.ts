import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryPermissionStore } from './adapters/memory.js';
import { placeOf } from './compile.js';
import { type AssignmentScope, isName, NAME, nameHash, type ResourceRef } from './model.js';
import { createPermissionService, type PermissionService } from './service.js';

const ROLES = ['r0', 'r1', 'r2', 'r3', 'r4'];
const TYPES = ['room', 'doc'];
const ACTIONS = ['read', 'write'];
const IDS = ['1', '2'];
const TENANTS = ['t0', 't1'];

const role = fc.constantFrom(...ROLES);
const rule = fc.record({
  role,
  effect: fc.constantFrom('allow' as const, 'deny' as const),
  resource: fc.constantFrom(...TYPES, '*'),
  action: fc.constantFrom(...ACTIONS, '*'),
});
const edge = fc.tuple(role, role);
const scope: fc.Arbitrary<AssignmentScope> = fc.oneof(
  fc.constant({}),
  fc.record({ tenant: fc.constantFrom(...TENANTS) }),
  fc.record({ resource: fc.record({ type: fc.constantFrom(...TYPES), id: fc.constantFrom(...IDS) }) }),
  fc.record({
    tenant: fc.constantFrom(...TENANTS),
    resource: fc.record({ type: fc.constantFrom(...TYPES), id: fc.constantFrom(...IDS) }),
  }),
);
const assignment = fc.record({ role, scope });
const policy = fc.record({
  rules: fc.array(rule, { maxLength: 12 }),
  edges: fc.array(edge, { maxLength: 6 }),
  assignments: fc.array(assignment, { maxLength: 4 }),
});
type Policy = typeof policy extends fc.Arbitrary<infer P> ? P : never;

/** Every query the small universe allows. */
const QUERIES: { action: string; resource: ResourceRef }[] = [];
for (const type of TYPES)
  for (const action of ACTIONS)
    for (const id of [undefined, ...IDS])
      for (const tenant of [undefined, ...TENANTS]) QUERIES.push({ action, resource: { type, id, tenant } });

async function build(p: Policy, subject = 'u'): Promise<PermissionService> {
  const service = createPermissionService({ store: memoryPermissionStore() });
  for (const r of p.rules) await service.grant(r.role, `${r.resource}:${r.action}`, { effect: r.effect });
  for (const [child, parent] of p.edges) await service.inherit(child, parent).catch(() => {}); // cycles refused
  for (const a of p.assignments) await service.assign(subject, a.role, a.scope);
  return service;
}

const decisions = (s: PermissionService, subject = 'u') =>
  Promise.all(QUERIES.map((q) => s.check(subject, q.action, q.resource)));

describe('properties (fast-check)', () => {
  it('a deny always wins: adding a matching deny anywhere the subject reaches makes the check false', async () => {
    await fc.assert(
      fc.asyncProperty(policy, fc.nat(QUERIES.length - 1), fc.boolean(), async (p, qi, first) => {
        fc.pre(p.assignments.length > 0);
        const q = QUERIES[qi]!;
        const applicable = p.assignments.find(
          (a) =>
            (a.scope.tenant === undefined || a.scope.tenant === q.resource.tenant) &&
            (a.scope.resource === undefined ||
              (a.scope.resource.type === q.resource.type && a.scope.resource.id === q.resource.id)),
        );
        fc.pre(applicable !== undefined);
        const deny = { role: applicable!.role, effect: 'deny' as const, resource: '*', action: q.action };
        // Whether the deny is written first or last, and whatever allows exist, it wins.
        const rules = first ? [deny, ...p.rules] : [...p.rules, deny];
        const s = await build({ ...p, rules });
        expect(await s.check('u', q.action, q.resource)).toBe(false);
        expect((await s.explain('u', q.action, q.resource)).reason).toBe('denied-by-rule');
      }),
      { numRuns: 150 },
    );
  });

  it('revoking a role revokes what it gave: unassign restores every earlier decision', async () => {
    await fc.assert(
      fc.asyncProperty(policy, assignment, async (p, extra) => {
        fc.pre(
          !p.assignments.some(
            (a) => a.role === extra.role && JSON.stringify(a.scope) === JSON.stringify(extra.scope),
          ),
        );
        const s = await build(p);
        const before = await decisions(s);
        await s.assign('u', extra.role, extra.scope);
        await decisions(s); // warm the cache with the extra role
        await s.unassign('u', extra.role, extra.scope);
        expect(await decisions(s)).toEqual(before);
      }),
      { numRuns: 100 },
    );
  });

  it('revoking a rule revokes what it gave: the decisions match a store that never had it', async () => {
    await fc.assert(
      fc.asyncProperty(policy, rule, async (p, extra) => {
        fc.pre(!p.rules.some((r) => JSON.stringify(r) === JSON.stringify(extra)));
        const s = await build({ ...p, rules: [...p.rules, extra] });
        await decisions(s);
        await s.revoke(extra.role, `${extra.resource}:${extra.action}`, { effect: extra.effect });
        expect(await decisions(s)).toEqual(await decisions(await build(p)));
      }),
      { numRuns: 100 },
    );
  });

  it('scoped roles never leak: a resource-scoped assignment changes nothing outside its resource', async () => {
    await fc.assert(
      fc.asyncProperty(
        policy,
        role,
        fc.constantFrom(...TYPES),
        fc.constantFrom(...IDS),
        fc.option(fc.constantFrom(...TENANTS), { nil: undefined }),
        async (p, r, type, id, tenant) => {
          const without = await decisions(await build(p));
          const withScoped = await decisions(
            await build({
              ...p,
              assignments: [...p.assignments, { role: r, scope: { tenant, resource: { type, id } } }],
            }),
          );
          QUERIES.forEach((q, i) => {
            const inside =
              q.resource.type === type &&
              q.resource.id === id &&
              (tenant === undefined || q.resource.tenant === tenant);
            if (!inside) expect(withScoped[i], JSON.stringify(q)).toBe(without[i]);
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  it('agrees with a naive reference model on every query', async () => {
    await fc.assert(
      fc.asyncProperty(policy, async (p) => {
        const s = await build(p);
        // Reference: inheritance edges that the service accepted, then a plain scan.
        const parents = new Map<string, string[]>();
        const reaches = (a: string, b: string): boolean =>
          a === b || (parents.get(a) ?? []).some((x) => reaches(x, b));
        for (const [c, par] of p.edges)
          if (!reaches(par, c)) parents.set(c, [...new Set([...(parents.get(c) ?? []), par])]);
        const closure = (r: string): string[] => [r, ...(parents.get(r) ?? []).flatMap(closure)];
        const expected = QUERIES.map((q) => {
          const rules = p.assignments
            .filter(
              (a) =>
                (a.scope.tenant === undefined || a.scope.tenant === q.resource.tenant) &&
                (a.scope.resource === undefined ||
                  (a.scope.resource.type === q.resource.type && a.scope.resource.id === q.resource.id)),
            )
            .flatMap((a) => closure(a.role))
            .flatMap((r) => p.rules.filter((x) => x.role === r))
            .filter(
              (x) =>
                (x.resource === '*' || x.resource === q.resource.type) &&
                (x.action === '*' || x.action === q.action),
            );
          return rules.some((x) => x.effect === 'allow') && !rules.some((x) => x.effect === 'deny');
        });
        expect(await decisions(s)).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });

  it('the fast paths (plain strings, forSubject().can) decide exactly as the full path does', async () => {
    // Types whose mask place is another type's: a set bit that is not theirs must still decide correctly.
    const sharing = (type: string) => {
      const place = placeOf(nameHash(type));
      for (let i = 0; ; i++) if (placeOf(nameHash(`x${i}`)) === place) return `x${i}`;
    };
    const types = [...TYPES, 'note', ...TYPES.map(sharing)];
    await fc.assert(
      fc.asyncProperty(policy, async (p) => {
        const s = await build(p);
        const snapshot = await s.forSubject('u');
        for (const type of types)
          for (const action of [...ACTIONS, 'other'])
            for (const id of [undefined, ...IDS]) {
              const full = await s.check('u', action, { type, id });
              const text = id === undefined ? type : `${type}:${id}`;
              expect(await s.check('u', action, text)).toBe(full);
              expect(snapshot.can(action, text)).toBe(full);
              expect(snapshot.explain(action, text).allowed).toBe(full);
            }
        // Invalid input is refused on every path, whatever the table holds.
        for (const type of types) {
          await expect(s.check('u', '*', type)).rejects.toMatchObject({ code: 'INVALID_ACTION' });
          expect(() => snapshot.can('*', type)).toThrow(/action/);
        }
        await expect(s.check('u', 'read', 'room:*')).rejects.toMatchObject({ code: 'INVALID_RESOURCE' });
      }),
      { numRuns: 100 },
    );
  });

  it("nameHash's memo answers as its characters do: fresh copies, names of Object.prototype, past its bound", () => {
    // FNV-1a folded to 16 bits, written plainly: what nameHash computes from the characters.
    const reference = (value: string) => {
      let h = 0x811c9dc5;
      for (const c of value) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
      return (h ^ (h >>> 16)) & 0xffff;
    };
    const names = ['constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
    for (let i = 0; i < 10_000; i++) names.push(`n${i.toString(36)}`);
    // Twice over: the second pass finds some names in the memo and others dropped when it started over.
    for (let pass = 0; pass < 2; pass++)
      for (const name of names) {
        expect(nameHash(name)).toBe(reference(name));
        // A copy built at run time is another string object with the same characters.
        expect(nameHash([...name].join(''))).toBe(reference(name));
      }
    for (const value of ['__proto__', '__defineGetter__', '0', '1e3', 'a.b', 'a:b'])
      expect([nameHash(value), nameHash(value)]).toEqual([-1, -1]);
  });

  it('names are checked exactly as NAME says, by isName and by nameHash, whatever the characters', () => {
    const chars = fc.oneof(
      fc.constantFrom('a', 'Z', 'q', '0', '9', '_', '-', ':', '*', ' ', '@', '[', '`', '{', '/', '.', '\n'),
      fc.constantFrom('\u00e9', '\u0130', '\u212a', '\u0000', '\u007f', '\u0080', '\ud83d', '\u{1f600}'),
      fc.string({ minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(
        fc.array(chars, { maxLength: 70 }).map((a) => a.join('')),
        (value) => {
          expect(isName(value)).toBe(NAME.test(value));
          expect(nameHash(value) >= 0).toBe(NAME.test(value));
        },
      ),
      { numRuns: 5000 },
    );
    for (const value of ['a', 'A'.repeat(64), `a${'-'.repeat(63)}`])
      expect([isName(value), nameHash(value) >= 0]).toEqual([true, true]);
    for (const value of ['', 'a'.repeat(65), '1a', '_a', '-a', 'a b', 'a\n', 'K\u212a'])
      expect([isName(value), nameHash(value) >= 0]).toEqual([false, false]);
  });
});
