import { OtpError, OtpErrorCode } from './errors.js';

/** What kind of address a destination is; `sms` sends to phones, `email` to email addresses. */
export type OtpDestinationKind = 'phone' | 'email';

/** A destination in the one form the service hashes. */
export interface NormalizedDestination {
  kind: OtpDestinationKind;
  /** E.164 (`+14155550123`) for a phone, trimmed and lower-cased for an email. */
  value: string;
}

const E164 = /^\+[1-9]\d{6,14}$/;
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;

/**
 * Normalises a phone number to E.164 (spaces, dots, dashes and parentheses removed; a leading `00` becomes
 * `+`) or an email address to lower case. A phone number must carry its country code.
 *
 * @example
 * ```ts
 * normalizeDestination(' +1 (415) 555-0123 '); // { kind: 'phone', value: '+14155550123' }
 * normalizeDestination(' Ada@Example.COM ');  // { kind: 'email', value: 'ada@example.com' }
 * ```
 */
export function normalizeDestination(to: unknown): NormalizedDestination {
  if (typeof to !== 'string' || to.length === 0 || to.length > 320) {
    throw new OtpError(OtpErrorCode.INVALID_DESTINATION, '`to` must be a phone number or an email address');
  }
  const trimmed = to.trim();
  if (trimmed.includes('@')) {
    const value = trimmed.toLowerCase();
    if (value.length > 254 || !EMAIL.test(value)) {
      throw new OtpError(OtpErrorCode.INVALID_DESTINATION, '`to` is not a valid email address');
    }
    return { kind: 'email', value };
  }
  let phone = trimmed.replace(/[\s().-]/g, '');
  if (phone.startsWith('00')) phone = `+${phone.slice(2)}`;
  if (!E164.test(phone)) {
    throw new OtpError(
      OtpErrorCode.INVALID_DESTINATION,
      '`to` is not an E.164 phone number (it needs its country code, e.g. +14155550123)',
    );
  }
  return { kind: 'phone', value: phone };
}
