import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFlagsError } from './errors.js';
import { createFlags } from './flags.js';
import { memoryConfigSource } from './testing.js';
import type { FlagContext } from './types.js';
import { offlineUnleash, type UnleashClientLike } from './unleash.fixture.js';
import { importUnleashFeatures } from './unleash.js';
import { setFlag } from './writer.js';

// A realistic `GET /api/client/features` export (production environment, segments included).
const exportText = readFileSync(new URL('./fixtures/unleash-export.json', import.meta.url), 'utf8');
const exported = JSON.parse(exportText) as { features: { name: string }[]; segments: unknown[] };

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;

/** Many contexts across every attribute the export targets. Our context is flat; Unleash's has `properties`. */
function contexts(): { ours: FlagContext; theirs: Record<string, unknown> }[] {
  const out: { ours: FlagContext; theirs: Record<string, unknown> }[] = [];
  for (let i = 0; i < 3000; i++) {
    const props: Record<string, string | undefined> = {
      tenantId: pick(['acme', 'globex', 'initech', 'umbrella', undefined], i),
      country: pick(['FR', 'BE', 'DE', undefined], i * 7),
      appVersion: pick(
        ['2.1.0', '2.0.0', '1.0.0-beta.3', '3.1.0', '2.5.0-rc.1', '1.0.0-beta.1', undefined],
        i * 3,
      ),
      email: pick(
        [
          'qa+beta@x.io',
          'Dev+beta@y.com',
          'bob@example.com',
          'ann@corp.example',
          'ANN@CORP.EXAMPLE',
          undefined,
        ],
        i * 5,
      ),
      plan: pick(['free', 'pro', undefined], i * 11),
      age: pick(['17', '18', '42', '64', '65', undefined], i * 13),
    };
    const base: Record<string, unknown> = {
      sessionId: `s-${i}`,
      currentTime: pick([new Date('2026-06-01T00:00:00Z'), new Date('2024-06-01T00:00:00Z')], i * 17),
    };
    if (i % 4 !== 0) base.userId = i % 9 === 0 ? pick(['u-ceo', 'u-qa'], i) : `user-${i}`;
    const address = pick(['10.0.0.1', '10.0.0.9', undefined], i * 19);
    if (address) base.remoteAddress = address;
    const defined = Object.fromEntries(Object.entries(props).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    out.push({ ours: { ...base, ...defined } as FlagContext, theirs: { ...base, properties: defined } });
  }
  return out;
}

let unleash: UnleashClientLike;
beforeAll(async () => {
  unleash = await offlineUnleash(exported);
});
afterAll(() => unleash.destroy());

describe('importUnleashFeatures', () => {
  const { flags, report, contextFields } = importUnleashFeatures(exportText);

  it('imports what it can, and reports what it cannot carry over', () => {
    expect(Object.keys(flags).sort()).toEqual([
      'child-feature',
      'hostname-only',
      'kill-switched',
      'new-checkout',
      'no-strategies',
      'office-only',
      'regex-and-legacy',
      'semver-gate',
      'simple-on',
    ]);
    expect(contextFields).toEqual(['tenantId']);
    const lines = report.map((r) => `${r.feature} ${r.path} ${r.outcome}`);
    expect(lines).toEqual([
      'new-checkout impressionData dropped',
      'new-checkout strategies[1] changed', // segment copied in
      'office-only strategies[0] dropped', // the /16 range
      'office-only strategies[1] dropped', // IN_CIDR
      'child-feature dependencies dropped',
      'hostname-only strategies[0] dropped',
      'bad~name  skipped',
    ]);
    expect(report.find((r) => r.path === 'strategies[1]' && r.feature === 'office-only')?.message).toMatch(
      /IN_CIDR is not supported/,
    );
    expect(report.find((r) => r.feature === 'new-checkout' && r.outcome === 'changed')?.message).toMatch(
      /segment 1 "beta-testers" copied in/,
    );
    expect(flags['new-checkout']).toMatchObject({
      enabled: true,
      description: 'One-page checkout',
      rollout: 0,
      stickiness: 'default',
      rules: [
        {
          name: 'staff',
          conditions: [{ attribute: 'userId', operator: 'IN', values: ['u-ceo', 'u-cto', 'u-qa'] }],
        },
        { name: 'France, recent apps', rollout: 50, stickiness: 'default', groupId: 'checkout-v2' },
        {
          name: 'flexibleRollout',
          rollout: 25,
          stickiness: 'tenantId',
          groupId: 'checkout-legacy',
          conditions: expect.arrayContaining([
            { attribute: 'plan', operator: 'IN', values: ['free'], inverted: true },
          ]),
        },
      ],
      variants: [
        { name: 'control', weight: 500, overrides: [{ attribute: 'tenantId', values: ['initech'] }] },
        { name: 'treatment', weight: 500 },
      ],
    });
    expect(flags['no-strategies']).toEqual({ enabled: true });
    expect(flags['kill-switched']).toMatchObject({ enabled: false });
  });

  it('evaluates every imported flag as unleash-client does on the same JSON', () => {
    const all = contexts();
    let compared = 0;
    const mismatches: string[] = [];
    const source = memoryConfigSource();
    const ours = createFlags({ source, now: () => Date.parse('2026-06-01T00:00:00Z') });
    return (async () => {
      for (const [name, def] of Object.entries(flags)) await setFlag(source, name, def, { contextFields });
      await ours.ready();
      for (const name of Object.keys(flags)) {
        for (const { ours: ctx, theirs } of all) {
          const mine = ours.evaluate(name, ctx);
          const variant = unleash.getVariant(name, theirs);
          const enabled = unleash.isEnabled(name, theirs);
          compared++;
          const same =
            mine.enabled === enabled &&
            (mine.variant?.name ?? 'disabled') === variant.name &&
            JSON.stringify(mine.variant?.payload) === JSON.stringify(variant.payload);
          if (!same && mismatches.length < 5) {
            mismatches.push(
              `${name} ${JSON.stringify(ctx)}: ours ${JSON.stringify(mine)} theirs ${enabled} ${JSON.stringify(variant)}`,
            );
          }
        }
      }
      await ours.close();
      expect(mismatches).toEqual([]);
      expect(compared).toBe(9 * 3000);
    })();
  });

  it('the flags it could not carry exactly differ where the report says', () => {
    const ours = importUnleashFeatures(exported).flags['office-only']!;
    expect(ours.rules).toEqual([
      {
        name: 'remoteAddress',
        conditions: [{ attribute: 'remoteAddress', operator: 'IN', values: ['10.0.0.1', '10.0.0.2'] }],
      },
    ]);
    expect(unleash.isEnabled('office-only', { remoteAddress: '192.168.1.4' })).toBe(true);
  });

  it('turns on a spread of users: the parity above is not all-off', () => {
    const all = contexts();
    const source = memoryConfigSource(
      Object.fromEntries(Object.entries(flags).map(([n, d]) => [`flags.${n}`, d])),
    );
    const f = createFlags({ source, now: () => Date.parse('2026-06-01T00:00:00Z') });
    return f.ready().then(async () => {
      const on = all.filter(({ ours }) => f.isEnabled('new-checkout', ours)).length;
      const variants = new Set(all.map(({ ours }) => f.getVariant('new-checkout', ours).name));
      await f.close();
      expect(on).toBeGreaterThan(100);
      expect(on).toBeLessThan(all.length);
      expect([...variants].sort()).toEqual(['control', 'disabled', 'one-page', 'treatment', 'two-page']);
    });
  });

  it('refuses what is not an export, with a typed error', () => {
    for (const bad of ['{not json', '[]', { features: 'x' }, null]) {
      let error: unknown;
      try {
        importUnleashFeatures(bad);
      } catch (e) {
        error = e;
      }
      expect(isFlagsError(error, 'INVALID_IMPORT')).toBe(true);
    }
  });
});
