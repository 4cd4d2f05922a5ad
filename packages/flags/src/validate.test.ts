import { isAppError } from '@app/core';
import { describe, expect, it } from 'vitest';
import { FlagsError, isFlagsError } from './errors.js';
import type { FlagDefinition } from './types.js';
import { defineFlag, isValidFlagName, validateFlagDefinition } from './validate.js';

const issuesOf = (input: unknown) => {
  const r = validateFlagDefinition(input);
  return r.ok ? [] : r.issues;
};

describe('validateFlagDefinition', () => {
  it('accepts a full definition and returns a clean, independent copy', () => {
    const input: FlagDefinition = {
      enabled: true,
      description: 'new checkout',
      overrides: { u1: true, u2: 'blue' },
      rules: [
        {
          name: 'beta',
          conditions: [
            { attribute: 'country', operator: 'IN', values: ['FR'] },
            { attribute: 'appVersion', operator: 'SEMVER_GTE', value: '2.1.0' },
            { attribute: 'email', operator: 'REGEX', value: '@acme\\.com$', caseInsensitive: true },
            { attribute: 'currentTime', operator: 'DATE_AFTER', value: '2025-01-01T00:00:00Z' },
            { attribute: 'age', operator: 'NUM_GTE', value: 18, inverted: true },
          ],
          rollout: 50,
          variant: 'blue',
        },
      ],
      rollout: 10,
      stickiness: 'accountId',
      groupId: 'checkout',
      variants: [
        { name: 'red', weight: 500, payload: { color: '#f00', sizes: [1, 2] } },
        { name: 'blue', weight: 500 },
      ],
    };
    const r = validateFlagDefinition(input, { contextFields: ['accountId'] });
    expect(r).toEqual({ ok: true, value: input });
    if (!r.ok) return;
    (input.variants![0]!.payload as { color: string }).color = 'changed';
    expect(r.value.variants![0]!.payload).toEqual({ color: '#f00', sizes: [1, 2] });
  });

  it('keeps `__proto__` keys of payloads and overrides as data (JSON from an admin API)', () => {
    const input = JSON.parse(
      '{"enabled":true,"overrides":{"__proto__":false},"variants":[{"name":"a","weight":1,"payload":{"__proto__":{"x":1},"y":2}}]}',
    ) as FlagDefinition;
    const r = validateFlagDefinition(input);
    if (!r.ok) throw new Error(r.issues.join('; '));
    expect(Object.keys(r.value.overrides ?? {})).toEqual(['__proto__']);
    const payload = r.value.variants?.[0]?.payload as Record<string, unknown>;
    expect(JSON.stringify(payload)).toBe('{"__proto__":{"x":1},"y":2}');
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(payload.x).toBeUndefined();
  });

  it('lists every problem with its path', () => {
    expect(
      issuesOf({
        enabled: 'yes',
        rollout: 101,
        stickiness: '',
        extra: 1,
        overrides: { u1: 'purple' },
        variants: [
          { name: 'a', weight: -1 },
          { name: 'a', weight: 1.5 },
          { name: 'disabled', weight: 1, payload: { f: () => 1 } },
        ],
        rules: [
          {
            conditions: [{ attribute: 'x', operator: 'LIKE', values: ['a'] }],
            rollout: 20.5,
            variant: 'nope',
          },
          { conditions: [{ attribute: '', operator: 'IN', values: [] }] },
          { conditions: [{ attribute: 'n', operator: 'NUM_GT', value: 'ten' }] },
          { conditions: [{ attribute: 'v', operator: 'SEMVER_EQ', value: 'v1.0' }] },
          { conditions: [{ attribute: 'd', operator: 'DATE_AFTER', value: 'someday' }] },
          { conditions: [{ attribute: 'r', operator: 'REGEX', value: '([a-z' }] },
          {
            conditions: [{ attribute: 'r', operator: 'IN', value: 'x', values: ['x'] }],
            serve: false,
            variant: 'a',
          },
        ],
      }),
    ).toEqual([
      'extra: unknown field',
      'enabled: required, must be a boolean',
      'variants[0].weight: must be a non-negative integer',
      'variants[1].name: duplicate variant "a"',
      'variants[1].weight: must be a non-negative integer',
      'variants[2].name: "disabled" is reserved for "no variant"',
      'variants[2].payload.f: must be JSON (string, finite number, boolean, null, array or plain object)',
      "overrides.u1: must be true, false or the name of one of the flag's variants",
      expect.stringMatching(/^rules\[0\]\.conditions\[0\]\.operator: must be one of IN, NOT_IN/),
      'rules[0].rollout: must be an integer from 0 to 100',
      "rules[0].variant: must name one of the flag's variants",
      'rules[1].conditions[0].attribute: must be a non-empty string',
      'rules[1].conditions[0].values: IN needs a non-empty array of strings',
      'rules[2].conditions[0].value: NUM_GT needs a finite number',
      'rules[3].conditions[0].value: SEMVER_EQ needs a semantic version such as 1.2.3 or 2.0.0-beta.1',
      'rules[4].conditions[0].value: DATE_AFTER needs an ISO 8601 date or epoch milliseconds',
      expect.stringMatching(/^rules\[5\]\.conditions\[0\]\.value: invalid regular expression/),
      'rules[6].conditions[0].value: IN takes `values`, not `value`',
      'rules[6].variant: a rule serving false cannot pick a variant',
      'rollout: must be an integer from 0 to 100',
      'stickiness: must be a non-empty string',
    ]);
  });

  it('rejects non-objects, zero total weight and non-finite numbers', () => {
    expect(issuesOf(null)).toEqual(['definition: must be an object']);
    expect(issuesOf([])).toEqual(['definition: must be an object']);
    expect(issuesOf({ enabled: true, variants: [{ name: 'a', weight: 0 }] })).toEqual([
      'variants: the weights must add up to more than 0',
    ]);
    expect(issuesOf({ enabled: true, variants: [{ name: 'a', weight: 1, payload: Number.NaN }] })).toEqual([
      'variants[0].payload: numbers must be finite',
    ]);
  });
});

describe('defineFlag', () => {
  it('throws a FlagsError with the issues, and checks the name', () => {
    try {
      defineFlag('ok-name', { enabled: true, rollout: -1 });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(FlagsError);
      expect(isAppError(error, '@app/flags', 'INVALID_DEFINITION')).toBe(true);
      expect(isFlagsError(error)).toBe(true);
      expect(isFlagsError(error, 'INVALID_DEFINITION')).toBe(true);
      expect(isFlagsError(error, 'INVALID_FLAG_NAME')).toBe(false);
      expect(isFlagsError(new Error('x'))).toBe(false);
      expect((error as FlagsError).issues).toEqual(['rollout: must be an integer from 0 to 100']);
      expect((error as Error).message).toBe(
        '[@app/flags] invalid definition for flag "ok-name": rollout: must be an integer from 0 to 100',
      );
    }
    expect(() => defineFlag('_index', { enabled: true })).toThrow(
      expect.objectContaining({ code: 'INVALID_FLAG_NAME' }),
    );
    expect(defineFlag('a.b:c-d_e', { enabled: true })).toEqual({ enabled: true });
  });

  it('names: letters, digits and ._:- , at most 128, not starting with _', () => {
    expect(isValidFlagName('new-checkout')).toBe(true);
    expect(isValidFlagName('a'.repeat(128))).toBe(true);
    expect(isValidFlagName('a'.repeat(129))).toBe(false);
    for (const bad of ['', '_x', 'has space', 'é', '-x', 42]) expect(isValidFlagName(bad)).toBe(false);
  });
});

describe('rule variants, stickiness and groupId; variant overrides', () => {
  it('checks them with their paths', () => {
    expect(
      issuesOf({
        enabled: true,
        variants: [
          {
            name: 'a',
            weight: 1,
            overrides: [
              { attribute: '', values: ['x'] },
              { attribute: 't', values: [1] },
            ],
          },
        ],
        rules: [
          { conditions: [], variant: 'a', variants: [{ name: 'b', weight: 1 }] },
          { conditions: [], groupId: '', variants: [{ name: 'b', weight: 0 }] },
        ],
      }),
    ).toEqual([
      'variants[0].overrides[0].attribute: must be a non-empty string',
      'variants[0].overrides[1].values: must be an array of strings',
      'rules[0].variants: a rule has `variant` or `variants`, not both',
      'rules[1].groupId: must be a non-empty string',
      'rules[1].variants: the weights must add up to more than 0',
    ]);
    const ok = validateFlagDefinition({
      enabled: true,
      variants: [{ name: 'a', weight: 1, overrides: [{ attribute: 'tenantId', values: ['acme'] }] }],
      rules: [
        { conditions: [], stickiness: 'sessionId', groupId: 'g', variants: [{ name: 'b', weight: 1 }] },
      ],
    });
    expect(ok.ok).toBe(true);
  });
});
