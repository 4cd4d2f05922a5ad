import { randomInt } from 'node:crypto';

/** Digits only. */
export const NUMERIC_ALPHABET = '0123456789';
/** Upper-case letters and digits without the look-alikes 0/O and 1/I/L (31 symbols). */
export const ALPHANUMERIC_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

/** The code alphabets `createOtpService` accepts. */
export type OtpCodeAlphabet = 'numeric' | 'alphanumeric';

/** The symbols of an alphabet name. */
export function alphabetOf(name: OtpCodeAlphabet): string {
  return name === 'numeric' ? NUMERIC_ALPHABET : ALPHANUMERIC_ALPHABET;
}

/** Draws an integer uniformly from [0, max). */
export type RandomIntSource = (max: number) => number;

const cryptoRandomInt: RandomIntSource = (max) => randomInt(max);

/**
 * A code of `length` symbols, each drawn independently and uniformly from `alphabet` with
 * `crypto.randomInt` (which rejects out-of-range draws instead of taking a modulo, so no symbol is favoured).
 */
export function generateCode(
  length: number,
  alphabet: string,
  random: RandomIntSource = cryptoRandomInt,
): string {
  let code = '';
  for (let i = 0; i < length; i++) code += alphabet[random(alphabet.length)];
  return code;
}

/**
 * What the user typed, as the service compares it: spaces and dashes removed, upper-cased for the
 * alphanumeric alphabet. `undefined` when it cannot be a code of this shape (it then never matches).
 */
export function normalizeCode(input: string, length: number, alphabet: string): string | undefined {
  if (input.length > 64) return undefined;
  // Usually typed (or pasted) exactly: then no regex and no new string.
  let code = input.length === length ? input : input.replace(/[\s-]/g, '');
  if (alphabet !== NUMERIC_ALPHABET) code = code.toUpperCase();
  if (code.length !== length) return undefined;
  for (const ch of code) if (!alphabet.includes(ch)) return undefined;
  return code;
}
