import { isSensitiveKey, isSensitiveValue } from '@app/core';
import { ConsoleError } from './errors.js';

/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * A copy of `value` safe to show an operator: object entries whose key names a secret, a code, an address
 * or a phone number (core's telemetry rules) and strings that look like one are replaced by `[redacted]`.
 * Every JSON body the console sends passes through it, as does every change-history entry.
 *
 * @example
 * ```ts
 * redact({ provider: 'ses', apiKey: 'SG.x', to: '+33612345678' }); // { provider: 'ses', apiKey: '[redacted]', to: '[redacted]' }
 * ```
 */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return isSensitiveValue(value) ? REDACTED : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth > 32) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSensitiveKey(key) ? REDACTED : redact(item, depth + 1);
  }
  return out;
}

/**
 * Whether a config key names a secret (a password, a token, an API key): its value is replaced as a whole.
 * Other values still go through {@link redact}.
 *
 * @example
 * ```ts
 * isSecretKey('email.providers.sendgrid.apiKey'); // true
 * ```
 */
export function isSecretKey(key: string): boolean {
  return key.split(/[._:/-]/).some((segment) => SECRET_SEGMENT.test(segment));
}

// Names of secrets, not of addresses: `email.provider` is a choice of provider, `email.smtp.password` a secret.
const SECRET_SEGMENT =
  /^(?:password|passwd|pwd|secret|secrets|token|apikey|api_key|privatekey|private_key|credentials?|authorization|cookie|otp|passcode|pin|dsn)$|secret|password|apikey|api_key|privatekey|credential|token$/i;

/**
 * Refuses a value written back with a `[redacted]` placeholder in it (an edit of something the console hid):
 * it would replace the real secret or address with the placeholder.
 *
 * @example
 * ```ts
 * assertNoPlaceholder({ apiKey: '[redacted]' }); // throws INVALID_INPUT
 * ```
 */
export function assertNoPlaceholder(value: unknown): void {
  if (JSON.stringify(value ?? null).includes(REDACTED)) {
    throw new ConsoleError(
      'INVALID_INPUT',
      `the value contains ${REDACTED}: the console cannot show or keep what it hid; write the whole value`,
    );
  }
}
