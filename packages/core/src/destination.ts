import { AppError } from './errors.js';

/**
 * Why a destination was refused:
 * - `type`: not a string;
 * - `length`: empty, or longer than an address or number can be;
 * - `control`: a control character (CR, LF, NUL, DEL...), the stuff of header injection;
 * - `bidi`: a bidirectional override, isolate or mark (U+202A-202E, U+2066-2069, U+200E, U+200F), which makes
 *   an address read differently from what it is;
 * - `format`: not an e-mail address / not an E.164 phone number.
 */
export type DestinationFailure = 'type' | 'length' | 'control' | 'bidi' | 'format';

/** What {@link checkEmailAddress} and {@link checkPhoneNumber} answer: the normalised value, or why not. */
export type DestinationCheck =
  | { ok: true; value: string }
  | { ok: false; reason: DestinationFailure; message: string };

/** Codes of {@link DestinationError}. */
export const DestinationErrorCode = {
  /** Not an e-mail address the providers accept. */
  INVALID_EMAIL_ADDRESS: 'INVALID_EMAIL_ADDRESS',
  /** Not a phone number that normalises to E.164. */
  INVALID_PHONE_NUMBER: 'INVALID_PHONE_NUMBER',
} as const;
export type DestinationErrorCode = (typeof DestinationErrorCode)[keyof typeof DestinationErrorCode];

/**
 * Thrown by {@link normalizeEmailAddress} and {@link normalizePhoneNumber}. `reason` says why; the message
 * never repeats the input (addresses and numbers end up in logs). Packages that have their own error
 * class use {@link checkEmailAddress} / {@link checkPhoneNumber} instead and throw their own.
 *
 * @example
 * ```ts
 * try { normalizePhoneNumber(input); } catch (err) { if (err instanceof DestinationError) console.log(err.reason); }
 * ```
 */
export class DestinationError extends AppError<DestinationErrorCode> {
  /** Why the destination was refused. */
  readonly reason: DestinationFailure;
  constructor(code: DestinationErrorCode, reason: DestinationFailure, message: string) {
    super('@app/core', code, message);
    this.reason = reason;
  }
}

/** E.164 as this project reads it: `+`, a first digit 1-9, 7 to 15 digits in all. */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

// C0 controls, DEL and C1 controls.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Bidirectional embeddings/overrides, isolates, and the LRM/RLM marks.
const BIDI = /[\u202a-\u202e\u2066-\u2069\u200e\u200f]/;
// Deliberately pragmatic (not RFC 5322's full grammar): one @, an ASCII dot-atom local part, a dotted
// domain of valid labels with a non-numeric top level. Quoted local parts are refused: few providers take them.
const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
// Separators people type inside phone numbers.
const PHONE_SEPARATORS = /[\s().\u2010-\u2015-]/g;
// A national trunk prefix written after the country code: `+44 (0) 20...`, `0044 (0)20...`.
const TRUNK = /^(\+|00)\s*([1-9]\d{0,2})[\s.-]*\(0\)/;

const refuse = (reason: DestinationFailure, message: string): DestinationCheck => ({
  ok: false,
  reason,
  message,
});

/** The checks every destination passes first: a string, bounded, no control or bidi characters. */
function screen(input: unknown, max: number, what: string): DestinationCheck {
  if (typeof input !== 'string') return refuse('type', `${what} must be a string`);
  if (input.trim().length === 0 || input.length > max) {
    return refuse('length', `${what} must be 1 to ${max} characters`);
  }
  if (CONTROL.test(input)) return refuse('control', `${what} contains a control character`);
  if (BIDI.test(input)) return refuse('bidi', `${what} contains a bidirectional control character`);
  return { ok: true, value: input.trim() };
}

/**
 * Tells whether `value` is, exactly as given, an e-mail address the providers accept: `local@domain.tld`,
 * at most 254 characters (64 for the local part), ASCII, no control or bidirectional characters.
 *
 * @example
 * ```ts
 * isEmailAddress('ada@example.com'); // true
 * isEmailAddress('ada@localhost');   // false
 * ```
 */
export function isEmailAddress(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at <= 0 || at !== value.indexOf('@')) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  if (local.length > 64 || !LOCAL.test(local) || local.startsWith('.') || local.endsWith('.')) return false;
  if (local.includes('..')) return false;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  return labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels.at(-1) ?? '');
}

/**
 * Checks an e-mail address and normalises it: surrounding blanks removed, the domain lower-cased (the
 * local part keeps its case: it is the receiving server's to interpret). Refuses control and bidirectional
 * characters before anything else. The one rule `@app/otp`, `@app/email` and any other channel apply.
 *
 * @example
 * ```ts
 * checkEmailAddress(' Ada@Example.COM '); // { ok: true, value: 'Ada@example.com' }
 * checkEmailAddress('img1>\r\nBcc: victim@example.com'); // { ok: false, reason: 'control', ... }
 * ```
 */
export function checkEmailAddress(input: unknown): DestinationCheck {
  const screened = screen(input, 254, 'an e-mail address');
  if (!screened.ok) return screened;
  const at = screened.value.lastIndexOf('@');
  const value =
    at < 0 ? screened.value : `${screened.value.slice(0, at)}@${screened.value.slice(at + 1).toLowerCase()}`;
  if (!isEmailAddress(value)) return refuse('format', 'not a valid e-mail address (local@domain.tld)');
  return { ok: true, value };
}

/**
 * Tells whether `value` is, exactly as given, an E.164 number: `+`, a first digit 1-9, 7 to 15 digits in all.
 *
 * @example
 * ```ts
 * isE164('+14155550123'); // true
 * isE164('+1 415 555 0123'); // false (normalise it first)
 * ```
 */
export function isE164(value: unknown): value is string {
  return typeof value === 'string' && E164_PATTERN.test(value);
}

/**
 * Checks a phone number and normalises it to E.164: spaces, dashes, dots and parentheses removed, a
 * leading `00` read as `+`, and a national trunk prefix written after the country code dropped
 * (`+44 (0) 20 7946 0958` -> `+442079460958`). The number must carry its country code. Refuses control and
 * bidirectional characters before anything else. The one rule `@app/otp`, `@app/sms` and any other channel
 * apply.
 *
 * @example
 * ```ts
 * checkPhoneNumber('+44 (0) 20 7946 0958'); // { ok: true, value: '+442079460958' }
 * checkPhoneNumber('0044 20 7946 0958');    // { ok: true, value: '+442079460958' }
 * checkPhoneNumber('020 7946 0958');        // { ok: false, reason: 'format', ... }
 * ```
 */
export function checkPhoneNumber(input: unknown): DestinationCheck {
  const screened = screen(input, 64, 'a phone number');
  if (!screened.ok) return screened;
  let phone = screened.value.replace(TRUNK, '+$2').replace(PHONE_SEPARATORS, '');
  if (phone.startsWith('00')) phone = `+${phone.slice(2)}`;
  if (!isE164(phone)) {
    return refuse(
      'format',
      'not an E.164 phone number (a + and the country code, then 7 to 15 digits in all, e.g. +442079460958)',
    );
  }
  return { ok: true, value: phone };
}

/**
 * The normalised e-mail address (see {@link checkEmailAddress}), or a {@link DestinationError}.
 *
 * @example
 * ```ts
 * normalizeEmailAddress(' ada@EXAMPLE.com'); // 'ada@example.com'
 * ```
 */
export function normalizeEmailAddress(input: unknown): string {
  const checked = checkEmailAddress(input);
  if (checked.ok) return checked.value;
  throw new DestinationError(DestinationErrorCode.INVALID_EMAIL_ADDRESS, checked.reason, checked.message);
}

/**
 * The phone number in E.164 (see {@link checkPhoneNumber}), or a {@link DestinationError}.
 *
 * @example
 * ```ts
 * normalizePhoneNumber('+1 (415) 555-0123'); // '+14155550123'
 * ```
 */
export function normalizePhoneNumber(input: unknown): string {
  const checked = checkPhoneNumber(input);
  if (checked.ok) return checked.value;
  throw new DestinationError(DestinationErrorCode.INVALID_PHONE_NUMBER, checked.reason, checked.message);
}

/**
 * Hides most of an e-mail address for logs and events: the first character of the local part and the
 * domain stay (`a***@example.com`), enough to tell recipients apart at a glance, not to write to them.
 *
 * @example
 * ```ts
 * maskEmailAddress('ada@example.com'); // 'a***@example.com'
 * ```
 */
export function maskEmailAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}

/**
 * Hides a phone number's middle digits for logs and events: `+14155550123` -> `+14*******23`.
 *
 * @example
 * ```ts
 * maskPhoneNumber('+447946000958'); // '+44********58'
 * ```
 */
export function maskPhoneNumber(e164: string): string {
  const digits = e164.replace(/\D/g, '');
  if (digits.length <= 4) return `+${'*'.repeat(digits.length)}`;
  return `+${digits.slice(0, 2)}${'*'.repeat(digits.length - 4)}${digits.slice(-2)}`;
}
