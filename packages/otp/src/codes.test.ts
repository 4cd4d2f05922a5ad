import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ALPHANUMERIC_ALPHABET,
  generateCode,
  NUMERIC_ALPHABET,
  normalizeCode,
  type RandomIntSource,
} from './codes.js';

/**
 * Critical values of the chi-square distribution at significance 1e-6 (a uniform generator fails a check
 * about once in a million runs; the biased generators below land far beyond).
 */
const CRITICAL_1E6 = { 9: 44.81, 30: 82.04 } as const;
const N = 100_000;

function chiSquare(counts: number[], total: number): number {
  const expected = total / counts.length;
  return counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
}

/** Symbol counts per position and pooled over all positions. */
function countSymbols(codes: string[], alphabet: string, length: number) {
  const perPosition = Array.from({ length }, () => new Array<number>(alphabet.length).fill(0));
  const pooled = new Array<number>(alphabet.length).fill(0);
  for (const code of codes) {
    for (let i = 0; i < length; i++) {
      const s = alphabet.indexOf(code[i]!);
      perPosition[i]![s]!++;
      pooled[s]!++;
    }
  }
  return { perPosition, pooled };
}

function codes(n: number, length: number, alphabet: string, random?: RandomIntSource): string[] {
  return Array.from({ length: n }, () => generateCode(length, alphabet, random));
}

describe('generateCode: uniform, chi-square over 100,000 codes', () => {
  it('numeric: every position and the pooled digits pass at 1e-6', () => {
    const { perPosition, pooled } = countSymbols(codes(N, 6, NUMERIC_ALPHABET), NUMERIC_ALPHABET, 6);
    for (const counts of perPosition) expect(chiSquare(counts, N)).toBeLessThan(CRITICAL_1E6[9]);
    expect(chiSquare(pooled, N * 6)).toBeLessThan(CRITICAL_1E6[9]);
  });

  it('alphanumeric: the pooled symbols pass at 1e-6', () => {
    const { pooled } = countSymbols(codes(N, 6, ALPHANUMERIC_ALPHABET), ALPHANUMERIC_ALPHABET, 6);
    expect(chiSquare(pooled, N * 6)).toBeLessThan(CRITICAL_1E6[30]);
  });

  it('the same check rejects a modulo-biased generator (random byte % 10)', () => {
    const bytes = randomBytes(N * 6);
    let next = 0;
    const modulo: RandomIntSource = (max) => bytes[next++]! % max;
    const { pooled } = countSymbols(codes(N, 6, NUMERIC_ALPHABET, modulo), NUMERIC_ALPHABET, 6);
    // 256 % 10 = 6: digits 0-5 come up 26/256 of the time, 6-9 only 25/256. Expected statistic ~220.
    expect(chiSquare(pooled, N * 6)).toBeGreaterThan(CRITICAL_1E6[9]);
  });

  it("the same check rejects the original guide's generator (no leading zero)", () => {
    const guide = Array.from({ length: N }, () => Math.floor(100000 + Math.random() * 900000).toString());
    const { perPosition } = countSymbols(guide, NUMERIC_ALPHABET, 6);
    expect(chiSquare(perPosition[0]!, N)).toBeGreaterThan(CRITICAL_1E6[9]);
  });

  it('draws each symbol with crypto.randomInt over the whole alphabet', () => {
    const maxes: number[] = [];
    generateCode(8, ALPHANUMERIC_ALPHABET, (max) => {
      maxes.push(max);
      return max - 1;
    });
    expect(maxes).toEqual(new Array(8).fill(ALPHANUMERIC_ALPHABET.length));
    expect(generateCode(4, NUMERIC_ALPHABET, () => 0)).toBe('0000');
  });
});

describe('normalizeCode', () => {
  it('ignores spaces and dashes, upper-cases alphanumeric codes, rejects the wrong shape', () => {
    expect(normalizeCode(' 123-456 ', 6, NUMERIC_ALPHABET)).toBe('123456');
    expect(normalizeCode('ab7-kx9', 6, ALPHANUMERIC_ALPHABET)).toBe('AB7KX9');
    expect(normalizeCode('12345', 6, NUMERIC_ALPHABET)).toBeUndefined();
    expect(normalizeCode('12345a', 6, NUMERIC_ALPHABET)).toBeUndefined();
    expect(normalizeCode('AB0KX9', 6, ALPHANUMERIC_ALPHABET)).toBeUndefined();
    expect(normalizeCode('1'.repeat(100), 6, NUMERIC_ALPHABET)).toBeUndefined();
  });
});
