import { createHmac } from 'node:crypto';
import { maskPhoneNumber } from '@app/core';

/**
 * How `sms.*` events name the recipient:
 * - `'masked'`: `toMasked`, the number with all but its first two and last two digits hidden (`+44*******58`);
 * - `{ hashKey }`: `toHash`, an HMAC-SHA256 of the E.164 number under your key (hex): stable, so events of one
 *   recipient can be joined, and not reversible without the key (a bare hash of a phone number is: there are
 *   too few numbers);
 * - `'clear'`: `to`, the E.164 number itself, for consumers that may see numbers.
 */
export type SmsEventRecipient = 'masked' | 'clear' | { hashKey: string };

/** The event fields naming `to` under `mode`: `{ toMasked }`, `{ toHash }` or `{ to }`. */
export function recipientFields(to: string, mode: SmsEventRecipient): Record<string, string> {
  if (mode === 'clear') return { to };
  if (mode === 'masked') return { toMasked: maskPhoneNumber(to) };
  return { toHash: createHmac('sha256', mode.hashKey).update(to).digest('hex') };
}

/** Checks the `eventRecipient` option before anything is created; `fail` makes the package's error. */
export function checkEventRecipient(mode: unknown, fail: (message: string) => Error): SmsEventRecipient {
  if (mode === 'masked' || mode === 'clear') return mode;
  const key = (mode as { hashKey?: unknown } | null)?.hashKey;
  if (typeof mode === 'object' && mode !== null && typeof key === 'string' && key.length >= 16) {
    return { hashKey: key };
  }
  throw fail("eventRecipient must be 'masked', 'clear' or { hashKey } with a key of at least 16 characters");
}
