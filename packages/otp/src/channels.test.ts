import { describe, expect, it } from 'vitest';
import { emailChannel, type OtpDelivery, smsChannel } from './channels.js';

const delivery: OtpDelivery = {
  to: '+14155550123',
  code: '482913',
  purpose: 'login',
  channel: 'sms',
  challengeId: 'cid',
  expiresAt: new Date(0),
  ttlMs: 300_000,
};

describe('smsChannel', () => {
  it('sends the default body, the WebOTP line and the send options through any send(to, body, options)', async () => {
    const calls: unknown[][] = [];
    const channel = smsChannel(
      { send: async (...args: unknown[]) => void calls.push(args) },
      { webOtpDomain: 'example.com', sendOptions: { from: '+15005550006' } },
    );
    await channel.deliver(delivery);
    expect(calls).toEqual([
      [
        '+14155550123',
        'Your verification code is 482913. It expires in 5 minutes.\n\n@example.com #482913',
        { from: '+15005550006' },
      ],
    ]);
  });

  it('uses a custom render', async () => {
    const bodies: string[] = [];
    await smsChannel(
      { send: async (_to, body) => void bodies.push(body) },
      { render: (d) => `code ${d.code}` },
    ).deliver(delivery);
    expect(bodies).toEqual(['code 482913']);
  });

  it('propagates a sender failure and rejects a sender without send()', async () => {
    const channel = smsChannel({ send: async () => Promise.reject(new Error('down')) });
    await expect(channel.deliver(delivery)).rejects.toThrow('down');
    expect(() => smsChannel({} as never)).toThrow(/send\(\)/);
  });
});

describe('emailChannel', () => {
  it('sends { to, from, subject, text } by default', async () => {
    const messages: unknown[] = [];
    await emailChannel(
      { send: async (m) => void messages.push(m) },
      { from: 'no-reply@example.com' },
    ).deliver({
      ...delivery,
      to: 'ada@example.com',
      channel: 'email',
      ttlMs: 60_000,
    });
    expect(messages).toEqual([
      {
        to: 'ada@example.com',
        from: 'no-reply@example.com',
        subject: 'Your verification code',
        text: 'Your verification code is 482913.\n\nIt expires in 1 minute. If you did not ask for it, ignore this email.',
      },
    ]);
  });

  it('lets render set subject, text and html', async () => {
    const messages: unknown[] = [];
    await emailChannel(
      { send: async (m) => void messages.push(m) },
      { subject: 'ignored', render: (d) => ({ subject: `Code for ${d.purpose}`, html: `<b>${d.code}</b>` }) },
    ).deliver({ ...delivery, to: 'ada@example.com' });
    expect(messages).toEqual([{ to: 'ada@example.com', subject: 'Code for login', html: '<b>482913</b>' }]);
  });
});
