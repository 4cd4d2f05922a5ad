import { checkEmailAddress, checkPhoneNumber } from '@app/core';
import { OtpError, OtpErrorCode } from './errors.js';

/** What kind of address a destination is; `sms` sends to phones, `email` to email addresses. */
export type OtpDestinationKind = 'phone' | 'email';

/** A destination in the one form the service hashes. */
export interface NormalizedDestination {
  kind: OtpDestinationKind;
  /** E.164 (`+14155550123`) for a phone, trimmed and lower-cased for an email. */
  value: string;
}

/**
 * Normalises a phone number to E.164 (spaces, dots, dashes and parentheses removed; a leading `00` becomes
 * `+`; a trunk `(0)` after the country code dropped) or an email address to lower case, by `@app/core`'s
 * destination rules (the ones `@app/email` and `@app/sms` apply): control and bidirectional characters are
 * refused. A phone number must carry its country code.
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
  // The rules are @app/core's, shared with @app/email and @app/sms: what they refuse is refused here, before
  // a challenge is stored or a send-limit slot spent.
  if (to.includes('@')) {
    const email = checkEmailAddress(to);
    if (!email.ok) {
      throw new OtpError(
        OtpErrorCode.INVALID_DESTINATION,
        `\`to\` is not a valid email address (${email.reason})`,
      );
    }
    return { kind: 'email', value: email.value.toLowerCase() };
  }
  const phone = checkPhoneNumber(to);
  if (!phone.ok) {
    throw new OtpError(
      OtpErrorCode.INVALID_DESTINATION,
      `\`to\` is not an E.164 phone number (it needs its country code, e.g. +14155550123; ${phone.reason})`,
    );
  }
  return { kind: 'phone', value: phone.value };
}
