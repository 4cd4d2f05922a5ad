import { closeable } from '@app/core';
import { describe, expect, it } from 'vitest';
import { renderPlaceholders } from '../placeholders.js';
import { createEmailService } from '../service.js';
import { fakeSendgridAndSes } from '../test/providers.js';
import { memoryEmailProvider } from './memory.js';

// What each recipient of one bulk call receives must not depend on the provider that carried it: a
// failover in the middle of a bulk send would otherwise change the text people get.
const { sgFake, sesFake, sendgrid, ses } = await fakeSendgridAndSes(10_000);

const bulk = {
  subject: 'Hi {{name}}',
  text: 'Hello {{ name }} from {{team.city}}{{missing}}',
  html: '<p>Hello {{name}}, code {{n}}</p>',
  recipients: [
    { to: 'ada@example.com', data: { name: 'Ada', n: 1, team: { city: 'London' } } },
    { to: 'bob@example.com', data: { name: 'Bob', n: 2 } },
  ],
};
const expected = bulk.recipients.map((r) => ({
  to: r.to,
  subject: renderPlaceholders(bulk.subject, r.data),
  text: renderPlaceholders(bulk.text, r.data),
  html: renderPlaceholders(bulk.html, r.data),
}));

/** SES's inline-template "simple substitution", written independently of ours. */
function sesRender(template: string, data: Record<string, unknown>): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, path: string) => {
    const value = path
      .split('.')
      .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], data);
    return value === undefined || value === null || typeof value === 'object' ? '' : String(value);
  });
}
/** What SendGrid does with `substitutions`: replace each key, a literal string, wherever it appears. */
function sendgridRender(content: string, substitutions: Record<string, string> = {}): string {
  return Object.entries(substitutions).reduce((out, [key, value]) => out.split(key).join(value), content);
}

describe('bulk placeholders render the same on every provider', () => {
  it('our rule: values as text, a missing or non-scalar value empty', () => {
    expect(expected[0]).toEqual({
      to: 'ada@example.com',
      subject: 'Hi Ada',
      text: 'Hello Ada from London',
      html: '<p>Hello Ada, code 1</p>',
    });
    expect(expected[1]?.text).toBe('Hello Bob from ');
  });

  it('SendGrid gets per-recipient substitutions that render exactly that', async () => {
    const email = createEmailService({ providers: { sendgrid }, defaultFrom: 'app@example.com' });
    await expect(email.sendBulk(bulk)).resolves.toMatchObject({ sent: 2, failed: 0 });
    const [body] = sgFake.json<{
      subject: string;
      content: Array<{ type: string; value: string }>;
      personalizations: Array<{ to: Array<{ email: string }>; substitutions?: Record<string, string> }>;
    }>();
    const received = (body?.personalizations ?? []).map((p) => ({
      to: p.to[0]?.email,
      subject: sendgridRender(body?.subject ?? '', p.substitutions),
      text: sendgridRender(body?.content.find((c) => c.type === 'text/plain')?.value ?? '', p.substitutions),
      html: sendgridRender(body?.content.find((c) => c.type === 'text/html')?.value ?? '', p.substitutions),
    }));
    expect(received).toEqual(expected);
  });

  it('SES renders its inline template to the same', async () => {
    const email = createEmailService({ providers: { ses }, defaultFrom: 'app@example.com' });
    await expect(email.sendBulk(bulk)).resolves.toMatchObject({ sent: 2, failed: 0 });
    const [body] = sesFake.json<{
      DefaultContent: { Template: { TemplateContent: { Subject: string; Text: string; Html: string } } };
      BulkEmailEntries: Array<{
        Destination: { ToAddresses: string[] };
        ReplacementEmailContent: { ReplacementTemplate: { ReplacementTemplateData: string } };
      }>;
    }>();
    const content = body?.DefaultContent.Template.TemplateContent;
    const received = (body?.BulkEmailEntries ?? []).map((e) => {
      const data = JSON.parse(e.ReplacementEmailContent.ReplacementTemplate.ReplacementTemplateData);
      return {
        to: e.Destination.ToAddresses[0],
        subject: sesRender(content?.Subject ?? '', data),
        text: sesRender(content?.Text ?? '', data),
        html: sesRender(content?.Html ?? '', data),
      };
    });
    expect(received).toEqual(expected);
  });

  it('the memory provider keeps each recipient its rendered copy', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({ providers: { memory }, defaultFrom: 'app@example.com' });
    await email.sendBulk(bulk);
    expect(
      memory.messages().map((m) => ({ to: m.to[0]?.email, subject: m.subject, text: m.text, html: m.html })),
    ).toEqual(expected);
  });
});

describe('SendGrid attachments', () => {
  it('sends an inline image with the API field content_id, so cid: references resolve', async () => {
    const email = createEmailService({ providers: { sendgrid }, defaultFrom: 'app@example.com' });
    await email.send({
      to: 'ada@example.com',
      subject: 'Logo',
      html: '<img src="cid:logo@app">',
      attachments: [
        {
          filename: 'logo.png',
          content: 'png',
          contentType: 'image/png',
          disposition: 'inline',
          contentId: 'logo@app',
        },
      ],
    });
    const [body] = sgFake.json<{ attachments: Array<Record<string, unknown>> }>();
    expect(body?.attachments[0]).toMatchObject({ disposition: 'inline', content_id: 'logo@app' });
    expect(body?.attachments[0]).not.toHaveProperty('contentId');
  });
});

describe('SendGrid honours the abort signal', () => {
  it('an aborted signal makes no request', async () => {
    const email = createEmailService({ providers: { sendgrid }, defaultFrom: 'app@example.com' });
    const controller = new AbortController();
    controller.abort(new Error('caller gave up'));
    await expect(
      email.send({ to: 'ada@example.com', subject: 'x', text: 'y' }, { signal: controller.signal }),
    ).rejects.toThrow();
    expect(sgFake.requests).toHaveLength(0);
  });

  it('an abort during a hanging request releases the caller at once, with no retry', async () => {
    const email = createEmailService({
      providers: { sendgrid },
      defaultFrom: 'app@example.com',
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 },
    });
    sgFake.fail({ hang: true });
    const controller = new AbortController();
    const sending = email.send(
      { to: 'ada@example.com', subject: 'x', text: 'y' },
      { signal: controller.signal },
    );
    // Abort once the request is on the wire (a wait on the thing, not a sleep).
    while (sgFake.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(sending).rejects.toBeDefined();
    expect(sgFake.requests).toHaveLength(1);
  });
});

describe('a provider without native bulk', () => {
  it('gets each recipient the rendered content, message by message', async () => {
    const received: Array<{ to?: string; subject?: string; text?: string; html?: string }> = [];
    const plain = closeable({
      name: 'plain',
      async send(m: { to: Array<{ email: string }>; subject?: string; text?: string; html?: string }) {
        received.push({ to: m.to[0]?.email, subject: m.subject, text: m.text, html: m.html });
        return { id: `p${received.length}`, status: 'sent' as const };
      },
    });
    const email = createEmailService({ providers: { plain }, defaultFrom: 'app@example.com' });
    await expect(email.sendBulk(bulk)).resolves.toMatchObject({ sent: 2, failed: 0 });
    expect(received.sort((a, b) => String(a.to).localeCompare(String(b.to)))).toEqual(expected);
  });
});
