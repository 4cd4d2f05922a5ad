import { describe, expect, it } from 'vitest';
import { memoryEmailProvider } from './adapters/memory.js';
import { EmailErrorCode } from './errors.js';
import { createEmailService } from './service.js';
import type { EmailAttachment } from './types.js';

const memory = memoryEmailProvider();
const email = createEmailService({ providers: { memory }, defaultFrom: 'app@example.com' });
const send = (attachment: Partial<EmailAttachment>) =>
  email.send({
    to: 'ada@example.com',
    subject: 'x',
    html: '<p>x</p>',
    attachments: [{ filename: 'a.png', content: 'x', ...attachment } as EmailAttachment],
  });

describe('attachment contentId and disposition are checked before any provider call', () => {
  it.each([
    [
      'a header injection in contentId',
      { disposition: 'inline', contentId: 'img1>\r\nBcc: victim@example.com' },
    ],
    ['angle brackets', { disposition: 'inline', contentId: '<img1@app>' }],
    ['a space', { disposition: 'inline', contentId: 'img 1' }],
    ['an empty contentId', { disposition: 'inline', contentId: '' }],
    ['an unknown disposition', { disposition: 'form-data' }],
    ['a disposition with a line break', { disposition: 'inline\r\nX: y', contentId: 'a' }],
    ['an inline attachment without contentId', { disposition: 'inline' }],
  ] as const)('refuses %s', async (_, attachment) => {
    const before = memory.messages().length;
    await expect(send(attachment as Partial<EmailAttachment>)).rejects.toMatchObject({
      code: EmailErrorCode.INVALID_MESSAGE,
    });
    expect(memory.messages()).toHaveLength(before);
  });

  it('accepts an RFC 2392 content-id and both dispositions', async () => {
    await expect(send({ disposition: 'inline', contentId: 'logo.v2@app.example' })).resolves.toMatchObject({
      attempts: 1,
    });
    await expect(send({ disposition: 'attachment' })).resolves.toMatchObject({ attempts: 1 });
    await expect(send({})).resolves.toMatchObject({ attempts: 1 });
  });
});
