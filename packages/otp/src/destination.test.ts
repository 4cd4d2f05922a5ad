import { checkEmailAddress, checkPhoneNumber, isE164, isEmailAddress } from '@app/core';
import { describe, expect, it } from 'vitest';
import { normalizeDestination } from './destination.js';
import { OtpError, OtpErrorCode } from './errors.js';

const refused = (to: unknown) => {
  try {
    normalizeDestination(to);
    return false;
  } catch (error) {
    return error instanceof OtpError && error.code === OtpErrorCode.INVALID_DESTINATION;
  }
};

describe('normalizeDestination: the destination rules @app/email and @app/sms apply', () => {
  it.each([
    'img1>\r\nBcc: victim@example.com',
    'ada@example.com\r\nBcc: victim@example.com',
    '\u202eada@example.com',
    'ada@exa\u2066mple.com',
    'ada@localhost',
    'ådå@example.com', // accepted here before, refused by @app/email: a challenge that could never be sent
    '"ada"@example.com',
    'ada@example.123',
  ])('refuses the e-mail address %j, as @app/email does', (to) => {
    expect(checkEmailAddress(to).ok).toBe(false);
    expect(refused(to)).toBe(true);
  });

  it.each(['+1\u202e4155550123', '+1415555\r\n0123', '+123456', '+1234567890123456', '020 7946 0958'])(
    'refuses the phone number %j, as @app/sms does',
    (to) => {
      expect(checkPhoneNumber(to).ok).toBe(false);
      expect(refused(to)).toBe(true);
    },
  );

  it('normalises a trunk prefix and keeps what it accepts acceptable to @app/email and @app/sms', () => {
    const phone = normalizeDestination('+44 (0) 20 7946 0958');
    expect(phone).toEqual({ kind: 'phone', value: '+442079460958' });
    expect(isE164(phone.value)).toBe(true);
    const email = normalizeDestination(' Ada@Example.COM ');
    expect(email).toEqual({ kind: 'email', value: 'ada@example.com' });
    expect(isEmailAddress(email.value)).toBe(true);
  });
});
