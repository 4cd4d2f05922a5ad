// The guard every attribute passes before it reaches a span, an event or a metric: no secret, code,
// e-mail address, phone number or message body leaves the process through telemetry.

/** A value OpenTelemetry accepts as an attribute (the API's `AttributeValue`). */
export type TelemetryAttributeValue =
  | string
  | number
  | boolean
  | Array<null | undefined | string>
  | Array<null | undefined | number>
  | Array<null | undefined | boolean>;

/** Attributes of a span, an event or a measurement (the API's `Attributes`). */
export interface TelemetryAttributes {
  [key: string]: TelemetryAttributeValue | undefined;
}

/** The attribute added when {@link scrubAttributes} refused some: how many it refused. */
export const REDACTED_ATTRIBUTE = 'app.telemetry.redacted';

/** The longest string attribute kept: anything longer is treated as a body and refused. */
export const MAX_ATTRIBUTE_LENGTH = 256;

// Key segments (split on '.') that name something that must never be exported.
const SECRET_SEGMENT =
  /^(?:password|passwd|pwd|secret|client_secret|token|access_token|refresh_token|id_token|api_?key|authorization|auth|cookie|set_cookie|credentials?|private_key|otp|code|passcode|pin|body|text|html|content|email|e_?mail_address|phone|phone_number|msisdn|recipient|recipients|to|from|cc|bcc)$/i;
const SECRET_SUBSTRING = /password|passwd|secret|api_?key|private_?key|authorization|cookie|credential/i;

const EMAIL = /[^\s@<>"'(),;:]+@[^\s@<>"'(),;:]+\.[a-z]{2,}/i;
// +<country code><number>, with or without separators.
const PHONE_E164 = /\+\d[\d\s().-]{6,}\d/;
// (415) 555-0123, 415-555-0123, 415.555.0123, 06 12 34 56 78.
const PHONE_FORMATTED = /\(\d{2,4}\)\s*\d{2,}|\b\d{3}[\s.-]\d{3}[\s.-]\d{4}\b|\b0\d(?:[\s.-]\d{2}){4}\b/;
// 10 to 15 digits and nothing else: a phone number without its '+'.
const PHONE_BARE = /^\d{10,15}$/;
const SECRET_VALUE =
  /\bBearer\s+\S|\bBasic\s+[A-Za-z0-9+/=]{8,}|eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.|-----BEGIN [A-Z ]*PRIVATE KEY|\b(?:sk|rk|pk)_(?:live|test)_\w{8,}|\bAKIA[0-9A-Z]{16}\b|\bSG\.[\w-]{16,}\.[\w-]{16,}|\b(?:password|passwd|secret|token|api_?key)\s*[=:]\s*\S/i;

/**
 * Whether an attribute key names something telemetry must never carry (a secret, code, address, body).
 *
 * @example
 * ```ts
 * isSensitiveKey('app.otp.code'); // true
 * isSensitiveKey('feature_flag.key'); // false
 * ```
 */
export function isSensitiveKey(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict =
      SECRET_SUBSTRING.test(key) || EMAIL.test(key) || key.split('.').some((s) => SECRET_SEGMENT.test(s));
    remember(keyVerdicts, key, verdict);
  }
  return verdict;
}

// Attribute keys are a small fixed set and many values repeat (flag keys, outcomes): verdicts are cached,
// in bounded maps, so the regexes run once per distinct string.
const CACHE_LIMIT = 4096;
const keyVerdicts = new Map<string, boolean>();
const valueVerdicts = new Map<string, boolean>();
function remember(cache: Map<string, boolean>, text: string, verdict: boolean): void {
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(text, verdict);
}

function digitsIn(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function judge(value: string): boolean {
  if (value.length > MAX_ATTRIBUTE_LENGTH) return true;
  if (value.includes('@') && EMAIL.test(value)) return true;
  if (
    digitsIn(value) >= 7 &&
    (PHONE_E164.test(value) || PHONE_FORMATTED.test(value) || PHONE_BARE.test(value))
  )
    return true;
  return value.length >= 8 && SECRET_VALUE.test(value);
}

/**
 * Whether a string looks like a secret, an e-mail address, a phone number or a message body.
 *
 * @example
 * ```ts
 * isSensitiveValue('+33 6 12 34 56 78'); // true
 * isSensitiveValue('new-checkout'); // false
 * ```
 */
export function isSensitiveValue(value: string): boolean {
  if (value.length > 64) return judge(value);
  let verdict = valueVerdicts.get(value);
  if (verdict === undefined) {
    verdict = judge(value);
    remember(valueVerdicts, value, verdict);
  }
  return verdict;
}

function refused(key: string, value: TelemetryAttributeValue): boolean {
  if (isSensitiveKey(key)) return true;
  if (typeof value === 'string') return isSensitiveValue(value);
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'string' && isSensitiveValue(item)) return true;
  }
  return false;
}

/**
 * Returns the attributes telemetry may carry: entries whose key names a secret, a code, an address or a
 * body, and string values that look like a secret, an e-mail address, a phone number or a body (longer
 * than {@link MAX_ATTRIBUTE_LENGTH}), are dropped, and `app.telemetry.redacted` counts them. `undefined`
 * values are dropped silently. Every attribute the shim exports passes through it.
 *
 * @example
 * ```ts
 * scrubAttributes({ 'app.otp.purpose': 'login', 'user.email': 'a@b.co', note: '+33 6 12 34 56 78' });
 * // { 'app.otp.purpose': 'login', 'app.telemetry.redacted': 2 }
 * ```
 */
export function scrubAttributes(attributes: TelemetryAttributes | undefined): TelemetryAttributes {
  const out: TelemetryAttributes = {};
  if (attributes === undefined) return out;
  let dropped = 0;
  for (const key in attributes) {
    const value = attributes[key];
    if (value === undefined || value === null) continue;
    if (refused(key, value)) dropped++;
    else out[key] = value;
  }
  if (dropped > 0) out[REDACTED_ATTRIBUTE] = dropped;
  return out;
}
