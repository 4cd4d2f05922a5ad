import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileFlag, evaluateFlag } from './evaluate.js';
import type { FlagContext, FlagDefinition } from './types.js';
import { offlineUnleash, type UnleashClientLike } from './unleash.fixture.js';
import { defineFlag } from './validate.js';

// Flags ported from Unleash whose groupId is not the flag name: feature-level variants must bucket on the
// flag name (as unleash-client's selectVariant does), strategy-level variants on the strategy's groupId.
const variants = [
  { name: 'red', weight: 333 },
  { name: 'green', weight: 0 },
  { name: 'blue', weight: 333 },
  { name: 'black', weight: 334 },
];
const unleashVariants = variants.map((v) => ({ ...v, stickiness: 'default', weightType: 'variable' }));
const rollout = (percent: number, groupId: string) => ({
  name: 'flexibleRollout',
  parameters: { rollout: String(percent), stickiness: 'default', groupId },
  constraints: [],
});

const features = [
  {
    name: 'feature-variants',
    enabled: true,
    strategies: [rollout(100, 'legacy-group')],
    variants: unleashVariants,
  },
  {
    name: 'partial-feature-variants',
    enabled: true,
    strategies: [rollout(60, 'old')],
    variants: unleashVariants,
  },
  {
    name: 'strategy-variants',
    enabled: true,
    strategies: [{ ...rollout(100, 'strategy-group'), variants: unleashVariants }],
    variants: [{ name: 'feature-level', weight: 1000, stickiness: 'default' }],
  },
];

const ours: Record<string, FlagDefinition> = {
  'feature-variants': { enabled: true, stickiness: 'default', groupId: 'legacy-group', variants },
  'partial-feature-variants': { enabled: true, stickiness: 'default', groupId: 'old', rollout: 60, variants },
  'strategy-variants': {
    enabled: true,
    stickiness: 'default',
    rollout: 0,
    variants: [{ name: 'feature-level', weight: 1000 }],
    rules: [{ conditions: [], stickiness: 'default', groupId: 'strategy-group', variants }],
  },
};

let unleash: UnleashClientLike;
beforeAll(async () => {
  unleash = await offlineUnleash({ features });
});
afterAll(() => unleash.destroy());

const contexts = (i: number): FlagContext[] => [{ userId: `user-${i}` }, { sessionId: `s-${i}-${i * 31}` }];

describe('variants match unleash-client with a groupId other than the flag name', () => {
  for (const name of Object.keys(ours)) {
    it(`${name}: the same variant for every user`, () => {
      const flag = compileFlag(name, defineFlag(name, ours[name]!));
      let agree = 0;
      let total = 0;
      for (let i = 0; i < 5000; i++) {
        for (const ctx of contexts(i)) {
          const theirs = unleash.getVariant(name, { ...ctx });
          const mine = evaluateFlag(flag, ctx, Date.now);
          total++;
          if (
            (mine.variant?.name ?? 'disabled') === theirs.name &&
            mine.enabled === unleash.isEnabled(name, ctx)
          )
            agree++;
        }
      }
      expect(agree).toBe(total);
    });
  }

  it('feature-level variants do not depend on the groupId (they bucket on the flag name)', () => {
    const a = compileFlag('f', defineFlag('f', { enabled: true, variants }));
    const b = compileFlag('f', defineFlag('f', { enabled: true, groupId: 'other', variants }));
    for (let i = 0; i < 1000; i++) {
      const ctx = { userId: `u${i}` };
      expect(evaluateFlag(b, ctx, Date.now).variant).toEqual(evaluateFlag(a, ctx, Date.now).variant);
    }
  });

  it('variant overrides pick the variant before the split, as in Unleash', async () => {
    const withOverrides = [
      { ...unleashVariants[0]!, overrides: [{ contextName: 'tenantId', values: ['acme', 'globex'] }] },
      ...unleashVariants.slice(1),
    ];
    const u = await offlineUnleash({
      features: [{ name: 'o', enabled: true, strategies: [rollout(100, 'o')], variants: withOverrides }],
    });
    try {
      const flag = compileFlag(
        'o',
        defineFlag('o', {
          enabled: true,
          stickiness: 'default',
          variants: [
            { ...variants[0]!, overrides: [{ attribute: 'tenantId', values: ['acme', 'globex'] }] },
            ...variants.slice(1),
          ],
        }),
      );
      for (let i = 0; i < 1000; i++) {
        const ctx = { userId: `u${i}`, tenantId: ['acme', 'globex', 'initech'][i % 3]! };
        const theirs = u.getVariant('o', { userId: ctx.userId, properties: { tenantId: ctx.tenantId } }).name;
        expect(evaluateFlag(flag, ctx, Date.now).variant?.name).toBe(theirs);
        if (i % 3 < 2) expect(theirs).toBe('red');
      }
    } finally {
      u.destroy();
    }
  });
});
