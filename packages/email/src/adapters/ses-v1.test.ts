import { SESClient } from '@aws-sdk/client-ses';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EmailProviderError } from '../errors.js';
import { createEmailService } from '../service.js';
import { startFakeSesV1 } from '../test/fake-ses-v1.js';
import { fullMessage } from '../test/providers.js';
import { sesProvider } from './ses.js';

// An application that already has `@aws-sdk/client-ses` (SES API v1) passes its SESClient: no second SDK.
const fake = await startFakeSesV1();
const client = new SESClient({
  region: 'us-east-1',
  endpoint: fake.url,
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
  maxAttempts: 1,
});
afterAll(async () => {
  client.destroy();
  await fake.close();
});
beforeEach(() => fake.reset());

const ses = sesProvider({ client, configurationSetName: 'events' });
const email = createEmailService({
  providers: { ses },
  defaultFrom: 'App <app@example.com>',
  retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
});

/** Splits a MIME entity into its headers (unfolded) and body. */
function entity(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of raw
    .slice(0, at)
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body: raw.slice(at + 4) };
}
/** The leaf parts of a MIME message, depth first, with their decoded bodies. */
function leaves(raw: string): Array<{ headers: Record<string, string>; text: string }> {
  const { headers, body } = entity(raw);
  const boundary = /boundary="([^"]+)"/.exec(headers['content-type'] ?? '')?.[1];
  if (!boundary) return [{ headers, text: Buffer.from(body.replace(/\s/g, ''), 'base64').toString('utf8') }];
  return body
    .split(`--${boundary}`)
    .slice(1, -1)
    .flatMap((part) => leaves(part.replace(/^\r\n/, '')));
}
// Whitespace between two encoded-words is not part of the text (RFC 2047 section 6.2).
const decodeWords = (value: string) =>
  value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?UTF-8\?B\?([^?]+)\?=/g, (_, b64: string) => Buffer.from(b64, 'base64').toString('utf8'));

describe('sesProvider on an SES API v1 SESClient (SendRawEmail)', () => {
  it('sends one raw MIME message with every part, Bcc only as a destination', async () => {
    const result = await email.send({
      ...fullMessage, // its Cc, Reply-To, header and tag; the German text and parts below
      to: ['Zoë Example <zoe@example.com>', 'bob@example.com'],
      bcc: 'hidden@example.com',
      subject: 'Grüße',
      text: 'Hallo',
      html: '<p>Hallo <img src="cid:logo@app"></p>',
      attachments: [
        {
          filename: 'logo.png',
          content: new Uint8Array([1, 2, 3]),
          contentType: 'image/png',
          disposition: 'inline',
          contentId: 'logo@app',
        },
        { filename: 'bericht.txt', content: 'Inhalt', contentType: 'text/plain' },
      ],
    });
    expect(result.id).toMatch(/^v1-/);
    expect(fake.calls).toHaveLength(1);
    const call = fake.calls[0] ?? {};
    expect(call.Action).toBe('SendRawEmail');
    expect(call.ConfigurationSetName).toBe('events');
    expect([1, 2, 3, 4].map((i) => call[`Destinations.member.${i}`])).toEqual([
      'zoe@example.com',
      'bob@example.com',
      'cc@example.com',
      'hidden@example.com',
    ]);
    expect(call['Tags.member.1.Name']).toBe('tenant');
    const raw = Buffer.from(call['RawMessage.Data'] ?? '', 'base64').toString('utf8');
    expect([...raw].every((c) => c.charCodeAt(0) < 128)).toBe(true); // 7-bit clean
    const { headers } = entity(raw);
    expect(headers.from).toBe('"App" <app@example.com>');
    expect(decodeWords(headers.to ?? '')).toBe('Zoë Example <zoe@example.com>, bob@example.com');
    expect(headers.cc).toBe('cc@example.com');
    expect(headers['reply-to']).toBe('support@example.com');
    expect(decodeWords(headers.subject ?? '')).toBe('Grüße');
    expect(headers['x-campaign']).toBe('spring');
    expect(headers).not.toHaveProperty('bcc');
    expect(raw).not.toContain('hidden@example.com');
    const parts = leaves(raw);
    expect(parts.map((p) => p.headers['content-type']?.split(';')[0])).toEqual([
      'text/plain',
      'text/html',
      'image/png',
      'text/plain',
    ]);
    expect(parts[0]?.text).toBe('Hallo');
    expect(parts[1]?.text).toBe('<p>Hallo <img src="cid:logo@app"></p>');
    expect(parts[2]?.headers['content-id']).toBe('<logo@app>');
    expect(parts[2]?.headers['content-disposition']).toBe('inline; filename="logo.png"');
    expect(parts[3]?.headers['content-disposition']).toBe('attachment; filename="bericht.txt"');
    expect(parts[3]?.text).toBe('Inhalt');
  });

  it('uses SendTemplatedEmail for a stored template', async () => {
    await email.send({ to: 'ada@example.com', template: { id: 'welcome', data: { name: 'Ada' } } });
    expect(fake.calls[0]).toMatchObject({
      Action: 'SendTemplatedEmail',
      Template: 'welcome',
      TemplateData: '{"name":"Ada"}',
      'Destination.ToAddresses.member.1': 'ada@example.com',
    });
  });

  it('bulk with a stored template: SendBulkTemplatedEmail; without: one rendered raw message each', async () => {
    const recipients = [
      { to: 'a@example.com', data: { name: 'Ada' } },
      { to: 'b@example.com', data: { name: 'Bob' } },
    ];
    const templated = await email.sendBulk({ template: { id: 'news' }, recipients });
    expect(templated).toMatchObject({ sent: 2, failed: 0 });
    expect(fake.calls.map((c) => c.Action)).toEqual(['SendBulkTemplatedEmail']);
    fake.reset();
    const inline = await email.sendBulk({ subject: 'Hi {{name}}', text: 'Hello {{name}}', recipients });
    expect(inline).toMatchObject({ sent: 2, failed: 0 });
    const texts = fake.calls
      .map((c) => Buffer.from(c['RawMessage.Data'] ?? '', 'base64').toString('utf8'))
      .map((raw) => `${entity(raw).headers.subject}|${leaves(raw)[0]?.text}`)
      .sort();
    expect(texts).toEqual(['Hi Ada|Hello Ada', 'Hi Bob|Hello Bob']);
  });

  it('classifies v1 errors: throttling is retried, a rejection is not', async () => {
    fake.fail({ status: 400, code: 'Throttling' });
    await expect(email.send({ to: 'ada@example.com', subject: 'x', text: 'y' })).resolves.toMatchObject({
      attempts: 2,
    });
    fake.reset();
    fake.fail({ status: 400, code: 'MessageRejected' });
    const error = await email
      .send({ to: 'ada@example.com', subject: 'x', text: 'y' })
      .catch((e: unknown) => e);
    expect(fake.calls).toHaveLength(1);
    expect((error as { cause?: unknown }).cause ?? error).toBeDefined();
    const providerError = findProviderError(error);
    expect(providerError?.kind).toBe('permanent');
  });
});

function findProviderError(error: unknown): EmailProviderError | undefined {
  for (let e = error; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof EmailProviderError) return e;
    const errors = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(errors))
      for (const inner of errors) if (inner instanceof EmailProviderError) return inner;
  }
  return undefined;
}
