import { createRequire } from 'node:module';
import fc from 'fast-check';
import murmurhash from 'murmurhash';
import { describe, expect, it } from 'vitest';
import { compileFlag, evaluateFlag } from './evaluate.js';
import { murmurhash3, rolloutBucket, VARIANT_SEED, variantBucket } from './murmur.js';
import { BUCKETING_VECTORS } from './testing.js';
import { defineFlag } from './validate.js';

const require = createRequire(import.meta.url);
const unleash = require('unleash-client/lib/strategy/util.js') as {
  normalizedStrategyValue(id: string, groupId: string): number;
  normalizedVariantValue(id: string, groupId: string, normalizer: number): number;
};

const asciiString = fc.string({
  unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});

/** The rollout hash a popular guide suggests (Java's String.hashCode, absolute): the foil of the tests below. */
function guideHash(userId: string): number {
  let hash = 0;
  for (let i = 0; i < userId.length; i++) {
    hash = (hash << 5) - hash + userId.charCodeAt(i);
    hash &= hash;
  }
  return Math.abs(hash);
}

describe('murmurhash3 x86_32', () => {
  it('matches the published vectors (generated from unleash-client and murmurhash)', () => {
    expect(BUCKETING_VECTORS.ascii.length).toBeGreaterThanOrEqual(60);
    for (const v of BUCKETING_VECTORS.ascii) {
      const key = `${v.groupId}:${v.id}`;
      expect(murmurhash3(key, 0)).toBe(v.murmur3);
      expect(murmurhash3(key, VARIANT_SEED)).toBe(v.murmur3VariantSeed);
      expect(rolloutBucket(v.groupId, v.id)).toBe(v.rolloutBucket);
      expect(variantBucket(v.groupId, v.id, 1000)).toBe(v.variantBucket1000);
    }
    for (const v of BUCKETING_VECTORS.utf8) {
      expect(murmurhash3(`${v.groupId}:${v.id}`, 0)).toBe(v.murmur3);
      expect(rolloutBucket(v.groupId, v.id)).toBe(v.rolloutBucket);
    }
  });

  it('agrees with the murmurhash package (UTF-8) on any string and seed', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 64 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        (s, seed) => {
          expect(murmurhash3(s, seed)).toBe(murmurhash.v3(s, seed));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("agrees with unleash-client's normalizedStrategyValue and normalizedVariantValue on ASCII ids", () => {
    fc.assert(
      fc.property(asciiString, asciiString, fc.integer({ min: 1, max: 10_000 }), (groupId, id, total) => {
        expect(rolloutBucket(groupId, id)).toBe(unleash.normalizedStrategyValue(id, groupId));
        expect(variantBucket(groupId, id, total)).toBe(unleash.normalizedVariantValue(id, groupId, total));
      }),
      { numRuns: 2000 },
    );
  });

  it('differs from unleash-client for Node on non-ASCII ids (it hashes UTF-16 low bytes), as documented', () => {
    const differing = BUCKETING_VECTORS.utf8.filter((v) => v.rolloutBucket !== v.unleashNodeRolloutBucket);
    expect(differing.length).toBeGreaterThan(0);
    for (const v of BUCKETING_VECTORS.utf8) {
      expect(unleash.normalizedStrategyValue(v.id, v.groupId)).toBe(v.unleashNodeRolloutBucket);
    }
  });

  it('never returns a bucket outside 1..100', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), fc.string({ maxLength: 20 }), (id, group) => {
        const b = rolloutBucket(group, id);
        expect(Number.isInteger(b) && b >= 1 && b <= 100).toBe(true);
        expect(murmurhash3(id) >>> 0).toBe(murmurhash3(id));
      }),
    );
  });
});

const inRollout = (flag: string, percent: number, userId: string) =>
  evaluateFlag(compileFlag(flag, defineFlag(flag, { enabled: true, rollout: percent })), { userId }, Date.now)
    .enabled;

describe('rollout properties', () => {
  it('is monotonic: raising the percentage never drops a user who was in', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 30 }).filter((s) => /^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(s)),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 0, max: 100 }),
        (flag, userId, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          if (inRollout(flag, low, userId)) expect(inRollout(flag, high, userId)).toBe(true);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('keeps flags independent: users inside one 50% rollout are a 50% sample of another', () => {
    const ids = Array.from({ length: 4000 }, (_, i) => `user-${i}`);
    fc.assert(
      fc.property(
        fc
          .tuple(fc.stringMatching(/^[a-z][a-z0-9-]{2,20}$/), fc.stringMatching(/^[a-z][a-z0-9-]{2,20}$/))
          .filter(([a, b]) => a !== b),
        ([flagA, flagB]) => {
          const inA = ids.filter((id) => rolloutBucket(flagA, id) <= 50);
          const inBoth = inA.filter((id) => rolloutBucket(flagB, id) <= 50);
          // Independent: |A∩B| / |A| ≈ 0.5. A hash without the flag name (the guide's) gives exactly 1.
          expect(Math.abs(inBoth.length / inA.length - 0.5)).toBeLessThan(0.06);
        },
      ),
      { numRuns: 30, seed: 20240611 },
    );
  });

  it("shows why: the guide's hash leaves the flag name out, so every flag picks the same users", () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `user-${i}`);
    const guideA = ids.filter((id) => guideHash(id) % 100 < 10);
    expect(guideA.length).toBeGreaterThan(0);
    const oursA = new Set(ids.filter((id) => rolloutBucket('flag-a', id) <= 10));
    const oursB = ids.filter((id) => rolloutBucket('flag-b', id) <= 10);
    expect(oursB.filter((id) => oursA.has(id)).length).toBeLessThan(oursB.length / 2);
  });

  it("shows why: the guide's hash puts ids that differ in their last character in neighbouring buckets", () => {
    const guideBucket = (userId: string) => guideHash(userId) % 100;
    const ids = Array.from({ length: 10 }, (_, i) => `user-1${i}`);
    const step = (bucket: (id: string) => number) =>
      ids.slice(1).map((id, i) => (bucket(id) - bucket(ids[i] as string) + 100) % 100);
    // user-10..user-19 take ten adjacent buckets, so a run of sequential ids is in or out of a rollout together.
    expect(step(guideBucket).every((d) => d === 1 || d === 99)).toBe(true);
    expect(step((id) => rolloutBucket('flag-a', id)).every((d) => d === 1 || d === 99)).toBe(false);
  });

  it('puts 10% of 100,000 ids inside a 10% rollout, within ±0.5%', () => {
    const flag = compileFlag('ten-percent', defineFlag('ten-percent', { enabled: true, rollout: 10 }));
    let inside = 0;
    for (let i = 0; i < 100_000; i++) {
      if (evaluateFlag(flag, { userId: `user-${i}` }, Date.now).enabled) inside++;
    }
    expect(Math.abs(inside / 100_000 - 0.1)).toBeLessThanOrEqual(0.005);
  });
});
