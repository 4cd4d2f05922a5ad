import { describe, expect, it } from 'vitest';
import { scrubber } from './scrub.js';

const digitsOf = (text: string) => text.replace(/\D/g, '');

/** Asserts that `scrub` redacts each of `quoted` in the message `around` puts it in, and only it. */
function expectRedacted(scrub: (text: string) => string, quoted: string[], around: (q: string) => string) {
  for (const q of quoted) expect(scrub(around(q)), q).toBe(around('[redacted]'));
}

describe('scrubber', () => {
  it('removes a US number in every formatting a provider may quote it in', () => {
    expectRedacted(
      scrubber('+15551869202', '482913'),
      [
        '+15551869202',
        '15551869202',
        '+1 (555) 186-9202',
        '+1 555 186 9202',
        '+1-555-186-9202',
        '+1.555.186.9202',
        '1 (555) 186-9202',
        '001 555 186 9202',
        '(555) 186-9202',
        '555.186.9202',
        '555-186-9202',
        '555 186 9202',
        '5551869202',
        '+1\u00a0(555)\u00a0186\u20119202',
      ],
      (q) => `Twilio 21211: The 'To' number ${q} is not a valid phone number.`,
    );
  });

  it('removes a number written with a national trunk prefix', () => {
    const scrub = scrubber('+442079460958', '482913');
    const quoted = ['+44 (0)20 7946 0958', '+44 (0) 20 7946 0958', '020 7946 0958', '0044 20 7946 0958'];
    expectRedacted(scrub, quoted, (q) => `bad recipient ${q}`);
    for (const q of quoted) expect(digitsOf(scrub(`bad recipient ${q}`))).not.toContain('79460958');
  });

  it('removes an e-mail address in any case and URL-encoded, and the code with separators', () => {
    const scrub = scrubber('ada.lovelace@example.com', '482913');
    expect(scrub('550 <Ada.Lovelace@EXAMPLE.com> rejected; ada.lovelace%40example.com')).toBe(
      '550 <[redacted]> rejected; [redacted]',
    );
    expect(scrub('body: Your code is 482 913 / 482-913 / 482913.')).toBe(
      'body: Your code is [redacted] / [redacted] / [redacted].',
    );
    expect(scrubber('+15551869202', 'AB7KZ9Q2')('code ab7kz9q2')).toBe('code [redacted]');
  });

  it('leaves other numbers alone', () => {
    const scrub = scrubber('+15551869202', '482913');
    expect(scrub('error 21211 at 2026-12-02, request 9876543210')).toBe(
      'error 21211 at 2026-12-02, request 9876543210',
    );
  });
});
