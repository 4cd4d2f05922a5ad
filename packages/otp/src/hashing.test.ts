import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { OtpHasher } from './hashing.js';

const reference = (secret: Buffer, ...parts: string[]) =>
  createHmac('sha256', secret).update(parts.join('\u0000')).digest('hex');

describe('OtpHasher', () => {
  it('gives exactly createHmac-sha256 for every secret length and message (stored keys stay valid)', () => {
    const texts = ['', 'a', 'login', '+14155550123', 'ada@example.com', 'ünïcödé ✓ 𝄞', 'x'.repeat(2000)];
    for (const length of [32, 33, 63, 64, 65, 100, 200]) {
      const secret = randomBytes(length);
      const hasher = new OtpHasher(secret);
      for (let i = 0; i < 20; i++) {
        const a = texts[randomInt(texts.length)]! + randomBytes(randomInt(0, 40)).toString('base64');
        const b = texts[randomInt(texts.length)]!;
        expect(hasher.destinationKey(a)).toBe(reference(secret, 'otp:destination', a));
        expect(hasher.challengeKey(a, b)).toBe(reference(secret, 'otp:challenge', a, b));
        expect(hasher.ipKey(b)).toBe(reference(secret, 'otp:ip', b));
        expect(hasher.codeHash(a, b)).toBe(reference(secret, 'otp:code', a, b));
      }
    }
    const text = 'a long secret of more than sixty-four bytes, hashed first as HMAC requires it';
    expect(new OtpHasher(text).ipKey('203.0.113.7')).toBe(
      reference(Buffer.from(text), 'otp:ip', '203.0.113.7'),
    );
  });

  it('a long message after a short one is not cut off (the scratch buffer grows)', () => {
    const secret = randomBytes(32);
    const hasher = new OtpHasher(secret);
    hasher.ipKey('short');
    const long = '😀'.repeat(5000);
    expect(hasher.ipKey(long)).toBe(reference(secret, 'otp:ip', long));
    expect(hasher.ipKey('short')).toBe(reference(secret, 'otp:ip', 'short'));
  });
});
