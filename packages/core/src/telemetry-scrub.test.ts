import { describe, expect, it } from 'vitest';
import { isSensitiveKey, isSensitiveValue, REDACTED_ATTRIBUTE, scrubAttributes } from './telemetry-scrub.js';

const ADDRESSES = [
  'alice@example.com',
  'Alice.Smith+news@mail.example.co.uk',
  'to: <bob@example.org>',
  'delivery to carol@example.fr failed',
];
const PHONES = [
  '+14155550123',
  '+1 415 555 0123',
  '+33 6 12 34 56 78',
  '+44 (20) 7946-0958',
  '(415) 555-0123',
  '415-555-0123',
  '415.555.0123',
  '06 12 34 56 78',
  '14155550123',
  'sms to +491701234567 failed',
];
const SECRETS = [
  'Bearer abc.def',
  'Basic dXNlcjpwYXNzd29yZA==',
  'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig',
  'sk_live_abcdefghijklmnop',
  'AKIAABCDEFGHIJKLMNOP',
  'SG.abcdefghijklmnopqrst.abcdefghijklmnopqrstuvwx',
  'password=hunter2',
  '-----BEGIN RSA PRIVATE KEY-----',
  'x'.repeat(257),
];
const BENIGN = [
  'login',
  'new-checkout',
  'TARGETING_MATCH',
  '@app/flags',
  'ses',
  '1701234567890-0',
  '0af7651916cd43dd8448eb211c80319c',
  '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
  'orders.created',
  'redis',
  'Token(ConfigSource)',
  'HTTP 503',
  '12345',
];

describe('scrubAttributes', () => {
  it('refuses every e-mail address, phone number and secret, as a value or inside an array', () => {
    for (const value of [...ADDRESSES, ...PHONES, ...SECRETS]) {
      expect(isSensitiveValue(value), value).toBe(true);
      expect(scrubAttributes({ 'app.note': value }), value).toEqual({ [REDACTED_ATTRIBUTE]: 1 });
      expect(scrubAttributes({ 'app.notes': ['ok', value] }), value).toEqual({ [REDACTED_ATTRIBUTE]: 1 });
    }
  });

  it('keeps identifiers, names and outcomes', () => {
    for (const value of BENIGN) {
      expect(isSensitiveValue(value), value).toBe(false);
      expect(scrubAttributes({ 'app.note': value })).toEqual({ 'app.note': value });
    }
  });

  it('refuses keys that name a secret, a code, an address or a body, whatever the value', () => {
    for (const key of [
      'user.email',
      'app.otp.code',
      'http.request.header.authorization',
      'db.password',
      'app.sms.to',
      'email.body',
      'app.api_key',
      'messaging.message.body',
      'phone_number',
      'a@b.co',
    ]) {
      expect(isSensitiveKey(key), key).toBe(true);
      expect(scrubAttributes({ [key]: 'x' })).toEqual({ [REDACTED_ATTRIBUTE]: 1 });
    }
    for (const key of [
      'feature_flag.key',
      'feature_flag.result.variant',
      'messaging.destination.name',
      'messaging.message.id',
      'error.type',
      'app.di.token_name',
      'server.address',
    ])
      expect(isSensitiveKey(key), key).toBe(false);
  });

  it('passes numbers and booleans, drops undefined, and counts what it refused', () => {
    expect(
      scrubAttributes({ n: 14155550123, ok: true, gone: undefined, 'user.phone': '1', x: 'a@b.io' }),
    ).toEqual({ n: 14155550123, ok: true, [REDACTED_ATTRIBUTE]: 2 });
    expect(scrubAttributes(undefined)).toEqual({});
  });
});
