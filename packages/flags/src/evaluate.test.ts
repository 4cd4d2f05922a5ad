import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileFlag, evaluateFlag, isFlagEnabled } from './evaluate.js';
import { compareSemver, parseSemver } from './semver.js';
import type { Condition, FlagContext, FlagDefinition } from './types.js';
import { defineFlag } from './validate.js';

const require = createRequire(import.meta.url);
const FlexibleRollout = require('unleash-client/lib/strategy/flexible-rollout-strategy.js')
  .default as new () => {
  isEnabled(parameters: Record<string, unknown>, context: Record<string, unknown>): boolean;
};
const { selectVariantDefinition } = require('unleash-client/lib/variant.js') as {
  selectVariantDefinition(
    groupId: string,
    stickiness: string | undefined,
    variants: { name: string; weight: number }[],
    context: Record<string, unknown>,
  ): { name: string } | null;
};

const NOW = Date.parse('2025-06-01T12:00:00Z');
const clock = () => NOW;
// The custom context fields these tests stick on, declared as a writer declares them.
const contextFields = ['tenantId', 'org', 'constructor'];
const ev = (def: FlagDefinition, ctx: FlagContext = {}, name = 'f') =>
  evaluateFlag(compileFlag(name, defineFlag(name, def, { contextFields })), ctx, clock);
const cond = (c: Condition, ctx: FlagContext) =>
  ev({ enabled: true, rollout: 0, rules: [{ conditions: [c] }] }, ctx).reason === 'TARGETING_MATCH';

describe('evaluation order', () => {
  it('the kill switch wins over overrides and rules', () => {
    const r = ev({ enabled: false, overrides: { u1: true }, rules: [{ conditions: [] }] }, { userId: 'u1' });
    expect(r).toEqual({ flag: 'f', enabled: false, reason: 'DISABLED' });
  });

  it('per-user overrides beat rules and rollout, and may pick a variant', () => {
    const def: FlagDefinition = {
      enabled: true,
      rollout: 0,
      overrides: { on: true, off: false, blue: 'blue' },
      rules: [{ conditions: [], serve: true }],
      variants: [
        { name: 'red', weight: 1, payload: 'r' },
        { name: 'blue', weight: 0, payload: 'b' },
      ],
    };
    expect(ev(def, { userId: 'off' })).toEqual({ flag: 'f', enabled: false, reason: 'TARGETING_MATCH' });
    expect(ev(def, { userId: 'on' })).toMatchObject({
      enabled: true,
      reason: 'TARGETING_MATCH',
      variant: { name: 'red' },
    });
    expect(ev(def, { userId: 'blue' }).variant).toEqual({ name: 'blue', enabled: true, payload: 'b' });
    expect(ev(def, { userId: 'someone' })).toMatchObject({
      enabled: true,
      reason: 'TARGETING_MATCH',
      ruleIndex: 0,
    });
  });

  it('rules run in order: the first match decides, serve:false turns the flag off', () => {
    const def: FlagDefinition = {
      enabled: true,
      rules: [
        {
          name: 'banned',
          conditions: [{ attribute: 'country', operator: 'IN', values: ['XX'] }],
          serve: false,
        },
        {
          name: 'staff',
          conditions: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@acme.com'] }],
        },
      ],
      rollout: 0,
    };
    expect(ev(def, { userId: 'a', country: 'XX', email: 'x@acme.com' })).toEqual({
      flag: 'f',
      enabled: false,
      reason: 'TARGETING_MATCH',
      ruleIndex: 0,
      ruleName: 'banned',
    });
    expect(ev(def, { userId: 'a', country: 'FR', email: 'x@acme.com' })).toMatchObject({
      enabled: true,
      ruleName: 'staff',
    });
    expect(ev(def, { userId: 'a', country: 'FR', email: 'x@gmail.com' })).toEqual({
      flag: 'f',
      enabled: false,
      reason: 'SPLIT',
    });
  });

  it('a rule with a rollout applies to that share of matching users; the others fall through', () => {
    const def: FlagDefinition = {
      enabled: true,
      rollout: 0,
      rules: [{ conditions: [{ attribute: 'plan', operator: 'IN', values: ['pro'] }], rollout: 30 }],
    };
    let matched = 0;
    for (let i = 0; i < 2000; i++) {
      const r = ev(def, { userId: `u${i}`, plan: 'pro' });
      if (r.enabled) {
        matched++;
        expect(r.reason).toBe('TARGETING_MATCH');
      } else expect(r.reason).toBe('SPLIT');
    }
    expect(matched).toBeGreaterThan(2000 * 0.25);
    expect(matched).toBeLessThan(2000 * 0.35);
  });

  it('reports DEFAULT at 100%, SPLIT for a partial rollout, and off without a stickiness value', () => {
    expect(ev({ enabled: true }, {})).toEqual({ flag: 'f', enabled: true, reason: 'DEFAULT' });
    expect(ev({ enabled: true, rollout: 50 }, {})).toEqual({ flag: 'f', enabled: false, reason: 'DEFAULT' });
    expect(ev({ enabled: true, rollout: 50 }, { userId: 'u' }).reason).toBe('SPLIT');
    expect(ev({ enabled: true, rollout: 0 }, { userId: 'u' }).enabled).toBe(false);
  });

  it('a field that is not a context value (an inherited member such as `constructor`, an object) counts as missing', () => {
    // Without a value of its own, `ctx.constructor` is Object itself: it must not become one bucket for everyone.
    const byCtor: FlagDefinition = { enabled: true, rollout: 50, stickiness: 'constructor' };
    for (const userId of ['u1', 'u2', 'u3']) {
      expect(ev(byCtor, { userId })).toEqual({ flag: 'f', enabled: false, reason: 'DEFAULT' });
      expect(
        isFlagEnabled(compileFlag('f', defineFlag('f', byCtor, { contextFields })), { userId }, clock),
      ).toBe(false);
    }
    // A JS caller passing an object: not '[object Object]' for everyone either.
    const byOrg: FlagDefinition = { enabled: true, rollout: 50, stickiness: 'org' };
    const org = { org: { id: 1 } } as unknown as FlagContext;
    expect(ev(byOrg, org)).toEqual({ flag: 'f', enabled: false, reason: 'DEFAULT' });
    // "A missing attribute never matches (NOT_IN included)": inherited members are missing too.
    for (const attribute of ['constructor', 'toString', 'hasOwnProperty', '__proto__']) {
      expect(cond({ attribute, operator: 'NOT_IN', values: ['x'] }, {})).toBe(false);
      expect(cond({ attribute, operator: 'REGEX', value: '.' }, {})).toBe(false);
      expect(cond({ attribute, operator: 'NUM_GTE', value: 0 }, {})).toBe(false);
    }
    expect(
      cond({ attribute: 'n', operator: 'NUM_GTE', value: 0 }, { n: [5] } as unknown as FlagContext),
    ).toBe(false);
    // Own values still count, whatever the field is called.
    expect(cond({ attribute: 'constructor', operator: 'IN', values: ['x'] }, { constructor: 'x' })).toBe(
      true,
    );
  });

  it('sticks on any context field, and groupId moves everyone to another bucket set', () => {
    const byTenant = { enabled: true, rollout: 50, stickiness: 'tenantId' };
    const a = ev(byTenant, { userId: 'u1', tenantId: 't-7' }).enabled;
    for (let i = 0; i < 20; i++) expect(ev(byTenant, { userId: `u${i}`, tenantId: 't-7' }).enabled).toBe(a);
    const ids = Array.from({ length: 500 }, (_, i) => `u${i}`);
    const plain = ids.map((userId) => ev({ enabled: true, rollout: 50 }, { userId }).enabled);
    const grouped = ids.map(
      (userId) => ev({ enabled: true, rollout: 50, groupId: 'other' }, { userId }).enabled,
    );
    expect(plain).not.toEqual(grouped);
  });
});

describe('matches unleash-client', () => {
  it('flexibleRollout: same users in and out for any group, stickiness field and percentage', () => {
    const unleash = new FlexibleRollout();
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        fc.stringMatching(/^[A-Za-z0-9@._-]{1,30}$/),
        fc.integer({ min: 0, max: 100 }),
        fc.boolean(),
        (flag, id, rollout, byTenant) => {
          const ctx = byTenant ? { userId: 'x', tenantId: id } : { userId: id };
          const ours = ev(
            { enabled: true, rollout, ...(byTenant ? { stickiness: 'tenantId' } : {}) },
            ctx,
            flag,
          ).enabled;
          const theirs = unleash.isEnabled(
            { rollout: String(rollout), stickiness: byTenant ? 'tenantId' : 'userId', groupId: flag },
            { ...ctx, properties: ctx, featureToggle: flag },
          );
          expect(ours).toBe(theirs);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('variants: the same variant for the same user and weights', () => {
    const variants = [
      { name: 'a', weight: 333 },
      { name: 'b', weight: 0 },
      { name: 'c', weight: 333 },
      { name: 'd', weight: 334 },
    ];
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
        fc.stringMatching(/^[A-Za-z0-9._-]{1,30}$/),
        (flag, userId) => {
          const ours = ev({ enabled: true, variants }, { userId }, flag).variant?.name;
          expect(ours).toBe(selectVariantDefinition(flag, 'userId', variants, { userId })?.name);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('splits variants by weight', () => {
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 10_000; i++) {
      const v = ev(
        {
          enabled: true,
          variants: [
            { name: 'a', weight: 200 },
            { name: 'b', weight: 800 },
          ],
        },
        { userId: `u${i}` },
      );
      counts[v.variant!.name]!++;
      expect(v.reason).toBe('SPLIT');
    }
    expect(counts.a! / 10_000).toBeGreaterThan(0.18);
    expect(counts.a! / 10_000).toBeLessThan(0.22);
  });
});

describe('operators', () => {
  it('IN, NOT_IN, STR_EQ and the string operators, with case folding', () => {
    expect(cond({ attribute: 'c', operator: 'IN', values: ['FR', 'DE'] }, { c: 'DE' })).toBe(true);
    expect(cond({ attribute: 'c', operator: 'IN', values: ['FR'] }, { c: 'fr' })).toBe(false);
    expect(cond({ attribute: 'c', operator: 'IN', values: ['FR'], caseInsensitive: true }, { c: 'fr' })).toBe(
      true,
    );
    expect(cond({ attribute: 'c', operator: 'NOT_IN', values: ['FR'] }, { c: 'DE' })).toBe(true);
    expect(cond({ attribute: 'c', operator: 'NOT_IN', values: ['FR'] }, {})).toBe(false);
    expect(cond({ attribute: 'c', operator: 'NOT_IN', values: ['FR'], inverted: true }, { c: 'FR' })).toBe(
      true,
    );
    expect(cond({ attribute: 'n', operator: 'STR_EQ', values: ['42'] }, { n: 42 })).toBe(true);
    expect(cond({ attribute: 'e', operator: 'STR_STARTS_WITH', values: ['adm'] }, { e: 'admin' })).toBe(true);
    expect(
      cond(
        { attribute: 'e', operator: 'STR_CONTAINS', values: ['MI'], caseInsensitive: true },
        { e: 'admin' },
      ),
    ).toBe(true);
    expect(cond({ attribute: 'e', operator: 'STR_ENDS_WITH', values: ['x'] }, { e: 'admin' })).toBe(false);
  });

  it('numbers: numeric strings count, non-numbers never match', () => {
    expect(cond({ attribute: 'age', operator: 'NUM_GTE', value: 18 }, { age: 18 })).toBe(true);
    expect(cond({ attribute: 'age', operator: 'NUM_GT', value: 18 }, { age: '19' })).toBe(true);
    expect(cond({ attribute: 'age', operator: 'NUM_LT', value: 18 }, { age: 'old' })).toBe(false);
    expect(cond({ attribute: 'age', operator: 'NUM_LTE', value: 18 }, { age: '' })).toBe(false);
    expect(cond({ attribute: 'age', operator: 'NUM_EQ', value: 1.5 }, { age: 1.5 })).toBe(true);
  });

  it('dates compare the attribute, and currentTime defaults to the injected clock', () => {
    expect(
      cond({ attribute: 'currentTime', operator: 'DATE_AFTER', value: '2025-01-01T00:00:00Z' }, {}),
    ).toBe(true);
    expect(
      cond({ attribute: 'currentTime', operator: 'DATE_BEFORE', value: '2025-01-01T00:00:00Z' }, {}),
    ).toBe(false);
    expect(
      cond(
        { attribute: 'currentTime', operator: 'DATE_BEFORE', value: '2025-01-01T00:00:00Z' },
        { currentTime: '2024-12-31T00:00:00Z' },
      ),
    ).toBe(true);
    expect(
      cond(
        { attribute: 'signup', operator: 'DATE_AFTER', value: '2024-01-01' },
        { signup: new Date('2024-06-01') },
      ),
    ).toBe(true);
    expect(
      cond({ attribute: 'signup', operator: 'DATE_AFTER', value: '2024-01-01' }, { signup: 'not a date' }),
    ).toBe(false);
  });

  it('semver follows SemVer 2.0 precedence, prereleases included', () => {
    expect(cond({ attribute: 'v', operator: 'SEMVER_GTE', value: '2.0.0' }, { v: '2.0.0' })).toBe(true);
    expect(cond({ attribute: 'v', operator: 'SEMVER_GT', value: '2.0.0' }, { v: '2.0.0-rc.1' })).toBe(false);
    expect(cond({ attribute: 'v', operator: 'SEMVER_LT', value: '2.0.0' }, { v: '2.0.0-rc.1' })).toBe(true);
    expect(cond({ attribute: 'v', operator: 'SEMVER_EQ', value: '1.2.3' }, { v: '1.2.3+build.5' })).toBe(
      true,
    );
    expect(cond({ attribute: 'v', operator: 'SEMVER_LTE', value: '1.10.0' }, { v: '1.9.9' })).toBe(true);
    expect(cond({ attribute: 'v', operator: 'SEMVER_GT', value: '1.0.0' }, { v: 'v2.0.0' })).toBe(false);
    const order = [
      '1.0.0-alpha',
      '1.0.0-alpha.1',
      '1.0.0-alpha.beta',
      '1.0.0-beta',
      '1.0.0-beta.2',
      '1.0.0-beta.11',
      '1.0.0-rc.1',
      '1.0.0',
    ];
    for (let i = 1; i < order.length; i++) {
      expect(compareSemver(parseSemver(order[i - 1]!)!, parseSemver(order[i]!)!)).toBeLessThan(0);
    }
  });

  it('regex, optionally case-insensitive', () => {
    expect(
      cond(
        { attribute: 'email', operator: 'REGEX', value: '^[^@]+@acme\\.(com|io)$' },
        { email: 'a@acme.io' },
      ),
    ).toBe(true);
    expect(cond({ attribute: 'email', operator: 'REGEX', value: '^A@' }, { email: 'a@acme.io' })).toBe(false);
    expect(
      cond(
        { attribute: 'email', operator: 'REGEX', value: '^A@', caseInsensitive: true },
        { email: 'a@acme.io' },
      ),
    ).toBe(true);
  });
});

describe('isEnabled fast path', () => {
  it('always agrees with evaluate().enabled', () => {
    const def = fc.record({
      enabled: fc.boolean(),
      rollout: fc.integer({ min: 0, max: 100 }),
      overrides: fc.dictionary(fc.constantFrom('u1', 'u2', 'u3'), fc.boolean()),
      rules: fc.array(
        fc.record({
          conditions: fc.array(
            fc.record({
              attribute: fc.constant('plan'),
              operator: fc.constantFrom('IN' as const, 'NOT_IN' as const),
              values: fc.constant<string[]>(['pro']),
            }),
            { maxLength: 2 },
          ),
          serve: fc.boolean(),
          rollout: fc.integer({ min: 0, max: 100 }),
        }),
        { maxLength: 3 },
      ),
    });
    const ctx = fc.record(
      { userId: fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5'), plan: fc.constantFrom('pro', 'free') },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(def, ctx, (d, c) => {
        const flag = compileFlag('p', defineFlag('p', d));
        expect(isFlagEnabled(flag, c, clock)).toBe(evaluateFlag(flag, c, clock).enabled);
      }),
      { numRuns: 3000 },
    );
  });
});
