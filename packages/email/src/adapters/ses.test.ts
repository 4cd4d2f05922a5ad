import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EmailErrorCode, EmailProviderError } from '../errors.js';
import { createEmailService } from '../service.js';
import { sesError, startFakeSes } from '../test/fake-http.js';
import { fullMessage } from '../test/providers.js';
import { sesProvider, toSesError } from './ses.js';

const fake = await startFakeSes();
afterAll(() => fake.close());
beforeEach(() => fake.reset());

const clientConfig = {
  region: 'eu-west-1',
  endpoint: fake.url,
  credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
};
const ses = sesProvider({ clientConfig, configurationSetName: 'events', timeoutMs: 1500 }); // long enough for a 1,000-recipient batch on a loaded CI machine; the hang test waits it out;
afterAll(() => ses.close?.());
const fast = { baseDelayMs: 1, maxDelayMs: 2 };
const msg = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };
const email = createEmailService({
  providers: { ses },
  defaultFrom: 'App <app@example.com>',
  retry: fast,
  maxRetryAfterMs: 20,
});

describe('sesProvider on @aws-sdk/client-sesv2 against a local fake', () => {
  it('sends exactly the SendEmail request, signed, and returns MessageId', async () => {
    const r = await email.send({
      ...fullMessage,
      to: 'Ada <ada@example.com>',
    });
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect(req?.path).toBe('/v2/email/outbound-emails');
    expect(req?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDTEST\/\d{8}\/eu-west-1\/ses\/aws4_request/,
    );
    expect(JSON.parse(req?.body ?? '')).toEqual({
      FromEmailAddress: '"App" <app@example.com>',
      Destination: { ToAddresses: ['"Ada" <ada@example.com>'], CcAddresses: ['cc@example.com'] },
      ReplyToAddresses: ['support@example.com'],
      EmailTags: [{ Name: 'tenant', Value: 'acme' }],
      ConfigurationSetName: 'events',
      Content: {
        Simple: {
          Subject: { Data: 'Welcome', Charset: 'UTF-8' },
          Body: {
            Text: { Data: 'Hello', Charset: 'UTF-8' },
            Html: { Data: '<p>Hello</p>', Charset: 'UTF-8' },
          },
          Headers: [{ Name: 'X-Campaign', Value: 'spring' }],
          Attachments: [
            {
              FileName: 'a.txt',
              RawContent: Buffer.from('hi').toString('base64'),
              ContentType: 'text/plain',
              ContentDisposition: 'ATTACHMENT',
            },
          ],
        },
      },
    });
    expect(r).toMatchObject({ provider: 'ses', status: 'sent', attempts: 1 });
    expect(r.id).toMatch(/^ses-/);
    expect(await email.getStatus(r.id)).toBe('sent');
  });

  it('sends non-ASCII display names as RFC 2047 encoded-words: SES takes 7-bit ASCII addresses only', async () => {
    const long = 'Łukasz Żółć-Brzęczyszczykiewicz, Département des Opérations Spéciales';
    await email.send({
      from: 'Zoë Dupré <zoe@example.com>',
      to: [{ email: 'taro@example.com', name: '山田 太郎' }, 'Ada <ada@example.com>'],
      replyTo: { email: 'ops@example.com', name: long },
      subject: 'Hi',
      text: 'Hello',
    });
    const body = JSON.parse(fake.requests[0]?.body ?? '') as {
      FromEmailAddress: string;
      Destination: { ToAddresses: string[] };
      ReplyToAddresses: string[];
    };
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    expect(body.FromEmailAddress).toBe(`=?UTF-8?B?${b64('Zoë Dupré')}?= <zoe@example.com>`);
    expect(body.Destination.ToAddresses).toEqual([
      `=?UTF-8?B?${b64('山田 太郎')}?= <taro@example.com>`,
      '"Ada" <ada@example.com>',
    ]);
    const addresses = [body.FromEmailAddress, ...body.Destination.ToAddresses, ...body.ReplyToAddresses];
    expect(addresses.every((a) => /^[\x20-\x7e]+$/.test(a))).toBe(true);
    // A long name becomes several encoded-words of at most 75 characters that decode back to it.
    const [reply] = body.ReplyToAddresses;
    const words = (reply ?? '').replace(/ <ops@example\.com>$/, '').split(' ');
    expect(words.length).toBeGreaterThan(1);
    expect(words.every((w) => w.length <= 75 && /^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/.test(w))).toBe(true);
    const decoded = Buffer.concat(words.map((w) => Buffer.from(w.slice(10, -2), 'base64'))).toString('utf8');
    expect(decoded).toBe(long);
  });

  it('retries throttling (honouring Retry-After), 5xx and timeouts; throws MessageRejected at once', async () => {
    fake.fail(
      sesError(429, 'TooManyRequestsException', { 'retry-after': '1' }),
      sesError(500, 'InternalFailure'),
    );
    expect((await email.send(msg)).attempts).toBe(3);
    fake.fail({ hang: true });
    expect((await email.send(msg)).attempts).toBe(2);
    fake.reset();
    fake.fail(sesError(400, 'MessageRejected'));
    const err = await email.send(msg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmailProviderError);
    expect(err).toMatchObject({ kind: 'permanent', statusCode: 400 });
    expect(fake.requests).toHaveLength(1);
  });

  it('bulk: SendBulkEmail with 50 destinations per call, inline template content, per-entry results', async () => {
    const recipients = Array.from({ length: 120 }, (_, i) => ({
      to: i === 7 ? 'reject@example.com' : `user${i}@example.com`,
      data: { name: `U${i}` },
    }));
    const r = await email.sendBulk({ subject: 'Hi {{name}}', html: '<p>Hi {{name}}</p>', recipients });
    const bodies = fake.json<{ BulkEmailEntries: unknown[]; DefaultContent: unknown }>();
    expect(fake.requests.every((q) => q.path === '/v2/email/outbound-bulk-emails')).toBe(true);
    expect(bodies.map((b) => b.BulkEmailEntries.length).sort()).toEqual([20, 50, 50]);
    expect(bodies[0]?.DefaultContent).toEqual({
      Template: {
        TemplateContent: { Subject: 'Hi {{name}}', Html: '<p>Hi {{name}}</p>' },
        TemplateData: '{}',
      },
    });
    expect(bodies[0]?.BulkEmailEntries[0]).toEqual({
      Destination: { ToAddresses: ['user0@example.com'] },
      ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: '{"name":"U0"}' } },
    });
    expect(r).toMatchObject({ sent: 119, failed: 1 });
    const rejected = r.items[7];
    expect(rejected?.ok).toBe(false);
    expect(!rejected?.ok && rejected?.error.message).toContain('MESSAGE_REJECTED');
  });

  it('bulk with a stored template names it', async () => {
    await email.sendBulk({
      template: { id: 'welcome', data: { brand: 'Acme' } },
      recipients: [{ to: 'a@example.com' }],
    });
    expect(fake.json<{ DefaultContent: unknown }>()[0]?.DefaultContent).toEqual({
      Template: { TemplateName: 'welcome', TemplateData: '{"brand":"Acme"}' },
    });
  });

  it('makes no call for an invalid bulk', async () => {
    await expect(
      email.sendBulk({ subject: 'x', text: 'y', recipients: [{ to: 'nope' }] }),
    ).rejects.toMatchObject({
      code: EmailErrorCode.INVALID_MESSAGE,
    });
    expect(fake.requests).toHaveLength(0);
  });
});

describe('toSesError', () => {
  it('classifies SDK errors by name and status', () => {
    const err = (name: string, status?: number) =>
      Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });
    expect(toSesError(err('TooManyRequestsException', 429)).kind).toBe('transient');
    expect(toSesError(err('AccountSuspendedException', 400)).kind).toBe('provider');
    expect(toSesError(err('SendingPausedException', 400)).kind).toBe('provider');
    expect(toSesError(err('MessageRejected', 400)).kind).toBe('permanent');
    expect(toSesError(err('InternalServiceErrorException', 500)).kind).toBe('transient');
    expect(toSesError(Object.assign(new Error('reset'), { code: 'ECONNRESET' })).kind).toBe('transient');
  });
});
