import { describe, expect, it } from 'vitest';
import {
  checkEmailAddress,
  checkPhoneNumber,
  DestinationError,
  DestinationErrorCode,
  type DestinationFailure,
  isE164,
  isEmailAddress,
  normalizeEmailAddress,
  normalizePhoneNumber,
} from './destination.js';
import { isAppError } from './errors.js';

describe('phone numbers', () => {
  const accepted: Array<[string, string]> = [
    ['+14155550123', '+14155550123'],
    [' +1 (415) 555-0123 ', '+14155550123'],
    ['+1.415.555.0123', '+14155550123'],
    ['0014155550123', '+14155550123'],
    ['+44 (0) 20 7946 0958', '+442079460958'],
    ['+44(0)20 7946 0958', '+442079460958'],
    ['0044 (0) 20 7946 0958', '+442079460958'],
    ['+44 20 7946 0958', '+442079460958'],
    ['+49 (0)30 901820', '+4930901820'],
    ['+39 06 6988 4857', '+390669884857'], // Italy keeps its leading 0: only a written (0) is a trunk prefix
    ['+1\u00a0415\u00a0555\u00a00123', '+14155550123'], // no-break spaces
    ['+1‐415‐555‐0123', '+14155550123'], // typographic hyphens
    ['+1234567', '+1234567'], // 7 digits: the shortest
    ['+123456789012345', '+123456789012345'], // 15 digits: the longest
  ];
  it.each(accepted)('normalises %j to %s', (input, expected) => {
    expect(normalizePhoneNumber(input)).toBe(expected);
    expect(checkPhoneNumber(input)).toEqual({ ok: true, value: expected });
    expect(isE164(expected)).toBe(true);
  });

  const refused: Array<[unknown, DestinationFailure]> = [
    [undefined, 'type'],
    [14155550123, 'type'],
    ['', 'length'],
    ['   ', 'length'],
    ['+1'.padEnd(80, '5'), 'length'],
    ['14155550123', 'format'], // no country code marker
    ['020 7946 0958', 'format'], // national format
    ['+0123456789', 'format'], // first digit 0
    ['+123456', 'format'], // 6 digits
    ['+1234567890123456', 'format'], // 16 digits
    ['tel:+14155550123', 'format'],
    ['+1 415 555 0123 ext 4', 'format'],
    ['+1415555\r\n0123', 'control'],
    ['+14155550123\u0000', 'control'],
    ['\u202e+14155550123', 'bidi'],
    ['+1415\u2066555\u20690123', 'bidi'],
    ['+14155550123\u200e', 'bidi'],
    ['+14155550123\u200f', 'bidi'],
  ];
  it.each(refused)('refuses %j (%s)', (input, reason) => {
    const checked = checkPhoneNumber(input);
    expect(checked).toMatchObject({ ok: false, reason });
    const error = (() => {
      try {
        normalizePhoneNumber(input);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DestinationError);
    expect(isAppError(error, '@app/core', DestinationErrorCode.INVALID_PHONE_NUMBER)).toBe(true);
    expect((error as DestinationError).reason).toBe(reason);
    // The message never repeats the number: it ends up in logs.
    if (typeof input === 'string' && input.trim().length > 3) {
      expect((error as Error).message).not.toContain(input.trim());
    }
  });

  it('isE164 takes only the canonical form, with the same length rule', () => {
    expect(isE164('+1 415 555 0123')).toBe(false);
    expect(isE164('+123456')).toBe(false);
    expect(isE164('+1234567')).toBe(true);
  });
});

describe('e-mail addresses', () => {
  const accepted: Array<[string, string]> = [
    ['ada@example.com', 'ada@example.com'],
    [' Ada@Example.COM ', 'Ada@example.com'],
    ['first.last+tag@sub.example.co.uk', 'first.last+tag@sub.example.co.uk'],
    ["o'brien@example.ie", "o'brien@example.ie"],
  ];
  it.each(accepted)('normalises %j to %s', (input, expected) => {
    expect(normalizeEmailAddress(input)).toBe(expected);
    expect(isEmailAddress(expected)).toBe(true);
  });

  const refused: Array<[unknown, DestinationFailure]> = [
    [null, 'type'],
    ['', 'length'],
    [`${'a'.repeat(250)}@example.com`, 'length'],
    ['img1>\r\nBcc: victim@example.com', 'control'],
    ['ada@example.com\r\nBcc: victim@example.com', 'control'],
    ['ada@example.com\n', 'control'],
    ['ada\u0000@example.com', 'control'],
    ['ada\u007f@example.com', 'control'],
    ['\u202eada@example.com', 'bidi'],
    ['ada@exa\u202dmple.com', 'bidi'],
    ['ada@example.com\u2067', 'bidi'],
    ['ad\u200fa@example.com', 'bidi'],
    ['ada@localhost', 'format'],
    ['ada@example', 'format'],
    ['ada@example.123', 'format'],
    ['ada@@example.com', 'format'],
    ['.ada@example.com', 'format'],
    ['a..da@example.com', 'format'],
    ['"ada"@example.com', 'format'],
    ['ada lovelace@example.com', 'format'],
    ['ådå@example.com', 'format'],
    ['ada@-example.com', 'format'],
    [`${'a'.repeat(65)}@example.com`, 'format'],
  ];
  it.each(refused)('refuses %j (%s)', (input, reason) => {
    expect(checkEmailAddress(input)).toMatchObject({ ok: false, reason });
    expect(() => normalizeEmailAddress(input)).toThrow(DestinationError);
    try {
      normalizeEmailAddress(input);
    } catch (error) {
      expect(isAppError(error, '@app/core', DestinationErrorCode.INVALID_EMAIL_ADDRESS)).toBe(true);
    }
  });
});
