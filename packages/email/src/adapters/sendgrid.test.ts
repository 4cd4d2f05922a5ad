import type { Logger } from '@app/core';
import { isAppError } from '@app/core';
import { describe, expect, it } from 'vitest';
import { EmailErrorCode, EmailProviderError } from '../errors.js';
import { createEmailService } from '../service.js';
import { fakeSendgridAndSes, fullMessage } from '../test/providers.js';
import { memoryEmailIdempotencyStore } from './memory.js';
import { toSendgridError } from './sendgrid.js';

// long enough for a 1,000-recipient batch on a loaded CI machine; the hang test waits it out
const { sgFake: fake, sesFake, sendgrid, ses } = await fakeSendgridAndSes(1500);

const fast = { baseDelayMs: 1, maxDelayMs: 2 };
const msg = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };

function service(extra: Partial<Parameters<typeof createEmailService>[0]> = {}) {
  return createEmailService({
    providers: { sendgrid },
    defaultFrom: 'app@example.com',
    retry: fast,
    ...extra,
  });
}

describe('sendgridProvider on @sendgrid/mail against a local fake', () => {
  it('sends exactly the request SendGrid documents, and returns X-Message-Id', async () => {
    const result = await service().send({
      ...fullMessage,
      from: 'App <app@example.com>',
      to: ['Ada <ada@example.com>', 'bob@example.com'],
      bcc: ['bcc@example.com'],
    });
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe('/v3/mail/send');
    expect(req?.headers.authorization).toBe('Bearer SG.test-key');
    expect(JSON.parse(req?.body ?? '')).toEqual({
      from: { email: 'app@example.com', name: 'App' },
      subject: 'Welcome',
      personalizations: [
        {
          to: [{ email: 'ada@example.com', name: 'Ada' }, { email: 'bob@example.com' }],
          cc: [{ email: 'cc@example.com' }],
          bcc: [{ email: 'bcc@example.com' }],
        },
      ],
      content: [
        { type: 'text/plain', value: 'Hello' },
        { type: 'text/html', value: '<p>Hello</p>' },
      ],
      reply_to: { email: 'support@example.com' },
      headers: { 'X-Campaign': 'spring' },
      custom_args: { tenant: 'acme' },
      attachments: [
        {
          content: Buffer.from('hi').toString('base64'),
          filename: 'a.txt',
          type: 'text/plain',
          disposition: 'attachment',
        },
      ],
    });
    expect(result).toMatchObject({ provider: 'sendgrid', status: 'queued', attempts: 1 });
    expect(result.id).toMatch(/^[\w-]{10,}$/);
  });

  it('makes no request for an invalid message', async () => {
    await expect(service().send({ ...msg, to: 'ada@' })).rejects.toMatchObject({
      code: EmailErrorCode.INVALID_MESSAGE,
    });
    await expect(service().send({ to: 'a@example.com', subject: 'x' })).rejects.toMatchObject({
      code: EmailErrorCode.INVALID_MESSAGE,
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('retries a 429, honouring X-RateLimit-Reset', async () => {
    const delays: number[] = [];
    const logger: Logger = {
      debug: (o) => {
        const d = (o as { delayMs?: number }).delayMs;
        if (d !== undefined) delays.push(d);
      },
      info: () => {},
      warn: () => {},
      error: () => {},
    };
    const reset = String(Math.floor(Date.now() / 1000) + 30);
    fake.fail({
      status: 429,
      headers: { 'x-ratelimit-reset': reset },
      body: { errors: [{ message: 'too many' }] },
    });
    const result = await service({ logger, maxRetryAfterMs: 25 }).send(msg);
    expect(result.attempts).toBe(2);
    expect(fake.requests).toHaveLength(2);
    // The reset is 30 s away: the wait comes from the header (capped at 25 ms), not from 1 ms backoff.
    expect(delays).toEqual([25]);
  });

  it('retries 5xx, a dropped connection and a timeout, then succeeds', async () => {
    fake.fail({ status: 503 }, { drop: true });
    expect((await service().send(msg)).attempts).toBe(3);
    fake.fail({ hang: true });
    expect((await service().send(msg)).attempts).toBe(2);
    expect(fake.requests).toHaveLength(5);
  });

  it('fails over to SES on a 401 without retrying SendGrid; a 400 is thrown with no failover', async () => {
    const email = createEmailService({
      providers: { sendgrid, ses },
      defaultFrom: 'app@example.com',
      retry: fast,
    });
    fake.fail({ status: 401, body: { errors: [{ message: 'bad key' }] } });
    const r = await email.send(msg);
    expect(r).toMatchObject({ provider: 'ses', attempts: 2 });
    expect(r.id).toMatch(/^ses-/);
    expect([fake.requests.length, sesFake.requests.length]).toEqual([1, 1]);

    fake.fail({
      status: 400,
      body: { errors: [{ field: 'personalizations.0.to', message: 'Does not contain a valid address.' }] },
    });
    const err = await email.send(msg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmailProviderError);
    expect((err as EmailProviderError).message).toContain(
      'personalizations.0.to: Does not contain a valid address.',
    );
    expect([fake.requests.length, sesFake.requests.length]).toEqual([2, 1]);
  });

  it('fails over after 5xx retries are spent, and reports every attempt when all fail', async () => {
    const email = createEmailService({
      providers: { sendgrid, ses },
      defaultFrom: 'app@example.com',
      retry: fast,
    });
    fake.fail({ status: 500 }, { status: 502 }, { status: 503 });
    expect((await email.send(msg)).provider).toBe('ses');
    fake.fail({ status: 500 }, { status: 500 }, { status: 500 });
    sesFake.fail({
      status: 403,
      headers: { 'x-amzn-errortype': 'AccessDeniedException:' },
      body: { message: 'no' },
    });
    const err = await email.send(msg).catch((e: unknown) => e);
    expect(isAppError(err, '@app/email', 'ALL_PROVIDERS_FAILED')).toBe(true);
    expect(
      (err as { attempts: Array<{ provider: string; kind: string }> }).attempts.map(
        (a) => `${a.provider}:${a.kind}`,
      ),
    ).toEqual(['sendgrid:transient', 'sendgrid:transient', 'sendgrid:transient', 'ses:provider']);
  });

  it('with an idempotency key, a retried call never sends twice', async () => {
    const email = service({
      idempotency: { store: memoryEmailIdempotencyStore() },
      retry: { ...fast, maxAttempts: 1 },
    });
    fake.fail({ status: 500 });
    await expect(email.send(msg, { idempotencyKey: 'welcome-1' })).rejects.toThrow();
    const first = await email.send(msg, { idempotencyKey: 'welcome-1' });
    const retried = await Promise.all([1, 2, 3].map(() => email.send(msg, { idempotencyKey: 'welcome-1' })));
    expect(retried.every((r) => r.id === first.id && r.duplicate)).toBe(true);
    // One failed request, one accepted: the three retries made none.
    expect(fake.requests).toHaveLength(2);
  });

  it('bulk: 2,500 recipients in 3 requests of at most 1,000 personalizations', async () => {
    const email = service();
    const recipients = Array.from({ length: 2500 }, (_, i) => ({
      to: `user${i}@example.com`,
      data: { n: i },
    }));
    const r = await email.sendBulk({
      subject: 'News',
      template: { id: 'd-123', data: { brand: 'Acme' } },
      recipients,
    });
    expect(r).toMatchObject({ sent: 2500, failed: 0 });
    const bodies = fake.json<{ template_id: string; personalizations: Array<Record<string, unknown>> }>();
    expect(bodies.map((b) => b.personalizations.length).sort()).toEqual([1000, 1000, 500]);
    expect(bodies[0]?.template_id).toBe('d-123');
    const one = bodies
      .flatMap((b) => b.personalizations)
      .find((p) => JSON.stringify(p.to).includes('user7@'));
    expect(one).toEqual({
      to: [{ email: 'user7@example.com' }],
      custom_args: { app_email_idx: expect.any(String) },
      dynamic_template_data: { brand: 'Acme', n: 7 },
    });
    expect(new Set(r.items.map((i) => (i.ok ? i.id : ''))).size).toBe(2500);
  });
});

describe('toSendgridError', () => {
  it('classifies responses and reads rate-limit headers', () => {
    const res = (code: number, headers: Record<string, string> = {}) =>
      Object.assign(new Error('x'), { code, response: { headers, body: {} } });
    expect(toSendgridError(res(429, { 'retry-after': '3' }))).toMatchObject({
      kind: 'transient',
      retryAfterMs: 3000,
    });
    expect(toSendgridError(res(503)).kind).toBe('transient');
    expect(toSendgridError(res(403)).kind).toBe('provider');
    expect(toSendgridError(res(413)).kind).toBe('permanent');
    expect(toSendgridError(Object.assign(new Error('t'), { code: 'ECONNABORTED' })).kind).toBe('transient');
  });
});
