import { createRequire } from 'node:module';
import { isAppError } from '@app/core';
import { describe, expect, it } from 'vitest';
import { FlagsError } from './errors.js';
import { compileFlag, evaluateFlag, isFlagEnabled } from './evaluate.js';
import { memoryConfigSource } from './testing.js';
import type { FlagContext, FlagDefinition } from './types.js';
import { defineFlag, validateFlagDefinition } from './validate.js';
import { setFlag } from './writer.js';

const require = createRequire(import.meta.url);
const FlexibleRollout = require('unleash-client/lib/strategy/flexible-rollout-strategy.js').default as new (
  random?: () => string,
) => {
  isEnabled(parameters: Record<string, unknown>, context: Record<string, unknown>): boolean;
};

const now = () => 0;
const ev = (def: FlagDefinition, ctx: FlagContext, name = 'ported') =>
  evaluateFlag(compileFlag(name, defineFlag(name, def)), ctx, now);

describe("stickiness 'default' (Unleash's)", () => {
  it('buckets on userId, then sessionId, exactly as unleash-client does', () => {
    const unleash = new FlexibleRollout();
    const def: FlagDefinition = { enabled: true, rollout: 40, stickiness: 'default' };
    let on = 0;
    for (let i = 0; i < 2000; i++) {
      const contexts: FlagContext[] = [
        { userId: `user-${i}` },
        { sessionId: `session-${i}` },
        { userId: `user-${i}`, sessionId: `session-${i * 7}` },
      ];
      for (const ctx of contexts) {
        const theirs = unleash.isEnabled(
          { rollout: '40', stickiness: 'default', groupId: 'ported' },
          { ...ctx, featureToggle: 'ported' },
        );
        expect(ev(def, ctx).enabled).toBe(theirs);
        expect(isFlagEnabled(compileFlag('ported', defineFlag('ported', def)), ctx, now)).toBe(theirs);
        if (theirs) on++;
      }
    }
    // Not read as a context field named `default` (which nobody has): 40% of users are in.
    expect(on / 6000).toBeGreaterThan(0.35);
    expect(on / 6000).toBeLessThan(0.45);
  });

  it('without userId or sessionId, a random share of the rollout (as in Unleash)', () => {
    let on = 0;
    for (let i = 0; i < 4000; i++)
      if (ev({ enabled: true, rollout: 25, stickiness: 'default' }, {}).enabled) on++;
    expect(on / 4000).toBeGreaterThan(0.2);
    expect(on / 4000).toBeLessThan(0.3);
  });

  it('applies to rule rollouts too', () => {
    const def: FlagDefinition = {
      enabled: true,
      rollout: 0,
      rules: [{ conditions: [], rollout: 50, stickiness: 'default', groupId: 'g' }],
    };
    const unleash = new FlexibleRollout();
    for (let i = 0; i < 500; i++) {
      const ctx = { sessionId: `s-${i}` };
      expect(ev(def, ctx).enabled).toBe(
        unleash.isEnabled({ rollout: '50', stickiness: 'default', groupId: 'g' }, ctx),
      );
    }
  });
});

describe('stickiness is checked at write time', () => {
  it('refuses a stickiness that is neither default, random, a known field nor a declared custom field', () => {
    for (const stickiness of ['defualt', 'accountId', 'Default']) {
      const r = validateFlagDefinition({ enabled: true, rollout: 10, stickiness });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.issues[0]).toMatch(/^stickiness: ".+" is neither default/);
    }
    const rule = validateFlagDefinition({
      enabled: true,
      rules: [{ conditions: [], rollout: 5, stickiness: 'tenant' }],
    });
    expect(rule.ok ? [] : rule.issues).toEqual([
      expect.stringMatching(/^rules\[0\]\.stickiness: "tenant" is neither/),
    ]);
    for (const stickiness of [
      'default',
      'random',
      'userId',
      'sessionId',
      'remoteAddress',
      'environment',
      'appName',
    ]) {
      expect(validateFlagDefinition({ enabled: true, stickiness }).ok).toBe(true);
    }
    expect(
      validateFlagDefinition({ enabled: true, stickiness: 'accountId' }, { contextFields: ['accountId'] }).ok,
    ).toBe(true);
  });

  it('setFlag throws a typed FlagsError before any I/O', async () => {
    const store = memoryConfigSource();
    const calls: string[] = [];
    const spy = {
      get: (k: string) => {
        calls.push(`get ${k}`);
        return store.get(k);
      },
      set: (k: string, v: unknown) => {
        calls.push(`set ${k}`);
        return store.set(k, v);
      },
    };
    const err = await setFlag(spy, 'f', { enabled: true, rollout: 10, stickiness: 'accountId' }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(FlagsError);
    expect(isAppError(err, '@app/flags', 'INVALID_DEFINITION')).toBe(true);
    expect((err as FlagsError).issues).toEqual([expect.stringMatching(/^stickiness: "accountId"/)]);
    expect(calls).toEqual([]);
    await setFlag(
      spy,
      'f',
      { enabled: true, rollout: 10, stickiness: 'accountId' },
      { contextFields: ['accountId'] },
    );
    expect(calls).toContain('set flags.f');
  });

  it('refuses contextFields that are not a list of names', () => {
    expect(() =>
      defineFlag('f', { enabled: true }, { contextFields: 'accountId' as unknown as string[] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_OPTIONS' }));
  });
});
