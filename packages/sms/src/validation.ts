import { isE164 } from '@app/core';
import { SmsError, SmsErrorCode } from './errors.js';
import type { SmsSendOptions } from './types.js';

// One rule for every channel (`@app/core`'s destination module): `+`, a first digit 1-9, 7 to 15 digits.
export { E164_PATTERN, isE164 } from '@app/core';

/** Twilio's limit for one (concatenated) message body, in characters. */
export const DEFAULT_MAX_BODY_LENGTH = 1600;

/** An alphanumeric sender id: 1 to 11 letters, digits or spaces, at least one letter. */
const SENDER_ID_PATTERN = /^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$/;

/**
 * Tells whether `value` can be a sender: an E.164 number or an alphanumeric sender id such as `ACME`.
 *
 * @example
 * ```ts
 * isSender('+14155550100'); // true
 * isSender('ACME'); // true
 * ```
 */
export function isSender(value: unknown): value is string {
  return isE164(value) || (typeof value === 'string' && SENDER_ID_PATTERN.test(value));
}

/**
 * Checks a message before any I/O and throws an `SmsError` (`INVALID_PHONE_NUMBER`, `INVALID_BODY`,
 * `INVALID_OPTIONS`) on bad input. Providers and the service both call it.
 *
 * @example
 * ```ts
 * validateSms('+14155550123', 'Hello', {}, { maxBodyLength: 160 });
 * ```
 */
export function validateSms(
  to: unknown,
  body: unknown,
  options: SmsSendOptions | undefined,
  limits: { maxBodyLength?: number } = {},
): void {
  if (!isE164(to)) {
    throw new SmsError(
      SmsErrorCode.INVALID_PHONE_NUMBER,
      `recipient must be an E.164 number like +14155550123, got ${describe(to)}`,
    );
  }
  const max = limits.maxBodyLength ?? DEFAULT_MAX_BODY_LENGTH;
  if (typeof body !== 'string' || body.trim().length === 0) {
    throw new SmsError(SmsErrorCode.INVALID_BODY, 'message body must be a non-empty string');
  }
  if (body.length > max) {
    throw new SmsError(
      SmsErrorCode.INVALID_BODY,
      `message body is ${body.length} characters; the limit is ${max}`,
    );
  }
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'options must be an object');
  }
  if (options.from !== undefined && !isSender(options.from)) {
    throw new SmsError(
      SmsErrorCode.INVALID_PHONE_NUMBER,
      `sender must be an E.164 number or an alphanumeric sender id (1-11 letters/digits), got ${describe(options.from)}`,
    );
  }
  if (options.statusCallbackUrl !== undefined && !isHttpUrl(options.statusCallbackUrl)) {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'statusCallbackUrl must be an absolute http(s) URL');
  }
}

/** True for an absolute http: or https: URL. */
export function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

// Never echo a whole phone-like value back: error messages end up in logs.
function describe(value: unknown): string {
  if (typeof value !== 'string') return typeof value;
  return value.length > 4 ? `'${value.slice(0, 3)}...' (${value.length} chars)` : `'${value}'`;
}
