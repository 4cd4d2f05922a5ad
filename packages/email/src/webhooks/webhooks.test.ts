import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventSink } from '@app/core';
import { describe, expect, it } from 'vitest';
import { memoryEmailProvider, memoryEmailStatusStore } from '../adapters/memory.js';
import { EmailErrorCode } from '../errors.js';
import { createEmailService } from '../service.js';
import { emailStatusRecord } from '../status.js';
import { toFetchHandler } from './http.js';
import {
  createSendgridWebhookHandler,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
} from './sendgrid.js';
import { createSesWebhookHandler, isSnsUrl, type SnsMessage, snsStringToSign } from './ses.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');

describe('SendGrid Event Webhook', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // SendGrid shows the key as base64 DER (SPKI): use that form.
  const publicKeyB64 = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const signed = (body: string, ts: number, key: KeyObject = privateKey) => ({
    headers: {
      [SENDGRID_SIGNATURE_HEADER.toLowerCase()]: sign('sha256', Buffer.from(`${ts}${body}`), key).toString(
        'base64',
      ),
      [SENDGRID_TIMESTAMP_HEADER.toLowerCase()]: String(ts),
    },
    rawBody: body,
  });
  const ts = NOW / 1000;

  function setup() {
    const store = memoryEmailStatusStore();
    const published: string[] = [];
    const events: EventSink = { publish: async (name) => published.push(name) };
    const handle = createSendgridWebhookHandler({ publicKey: publicKeyB64, store, events, now: () => NOW });
    return { store, published, handle };
  }

  const body = JSON.stringify([
    {
      email: 'a@example.com',
      timestamp: ts - 5,
      event: 'processed',
      sg_event_id: 'e1',
      sg_message_id: 'X1.filter0.1',
    },
    {
      email: 'a@example.com',
      timestamp: ts - 1,
      event: 'delivered',
      sg_event_id: 'e2',
      sg_message_id: 'X1.filter0.1',
    },
    {
      email: 'b@example.com',
      timestamp: ts,
      event: 'bounce',
      type: 'bounce',
      reason: '550 no such user',
      sg_event_id: 'e3',
      sg_message_id: 'X2.f.1',
      app_email_idx: '4',
    },
    {
      email: 'a@example.com',
      timestamp: ts,
      event: 'group_unsubscribe',
      sg_event_id: 'e4',
      sg_message_id: 'X1.filter0.1',
    },
  ]);

  it('verifies the signature, records statuses and forwards new events to the sink', async () => {
    const { store, published, handle } = setup();
    const res = await handle(signed(body, ts));
    expect(res).toEqual({ status: 200, body: JSON.stringify({ received: 4, recorded: 3 }) });
    expect((await store.get('X1'))?.status).toBe('delivered');
    expect(emailStatusRecord(await store.get('X2:4'))).toMatchObject({
      status: 'bounced',
      events: [expect.objectContaining({ recipient: 'b@example.com', reason: 'bounce: 550 no such user' })],
    });
    expect(published).toEqual(['email.sent', 'email.delivered', 'email.bounced']);
    // SendGrid redelivers on timeouts: the same events are not recorded or published twice.
    expect((await handle(signed(body, ts))).body).toBe(JSON.stringify({ received: 4, recorded: 0 }));
    expect(published).toHaveLength(3);
  });

  it('rejects forged, tampered, unsigned and replayed requests without recording anything', async () => {
    const { store, handle } = setup();
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const forged = await handle(signed(body, ts, other));
    const good = signed(body, ts);
    const tampered = await handle({ ...good, rawBody: body.replace('delivered', 'open') });
    const replayed = await handle(signed(body, ts - 301));
    const future = await handle(signed(body, ts + 301));
    const unsigned = await handle({ headers: {}, rawBody: body });
    expect([forged, tampered, replayed, future, unsigned].map((r) => r.status)).toEqual([
      401, 401, 401, 401, 401,
    ]);
    expect(replayed.body).toContain('timestamp');
    expect(await store.get('X1')).toBeUndefined();
  });

  it('works through the fetch adapter, and getStatus answers from webhooks', async () => {
    const store = memoryEmailStatusStore();
    const memory = memoryEmailProvider();
    const email = createEmailService({
      providers: { memory },
      statusStore: store,
      defaultFrom: 'a@example.com',
    });
    const { id } = await email.send({ to: 'a@example.com', subject: 's', text: 't' });
    const handler = toFetchHandler(
      createSendgridWebhookHandler({ publicKey: publicKeyB64, store, now: () => NOW }),
    );
    const events = JSON.stringify([
      { event: 'open', timestamp: ts, sg_event_id: 'o1', sg_message_id: `${id}.x` },
    ]);
    const { headers, rawBody } = signed(events, ts);
    const res = await handler(
      new Request('http://localhost/hook', { method: 'POST', headers, body: rawBody }),
    );
    expect(res.status).toBe(200);
    expect(await email.getStatus(id)).toBe('opened');
  });
});

describe('SES events through SNS', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const certUrl = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem';
  const topic = 'arn:aws:sns:eu-west-1:123456789012:ses-events';

  function snsMessage(
    fields: Partial<SnsMessage> & Pick<SnsMessage, 'Type' | 'Message'>,
    version: '1' | '2' = '2',
  ): SnsMessage {
    const m = {
      MessageId: `sns-${Math.random().toString(36).slice(2)}`,
      TopicArn: topic,
      Timestamp: new Date(NOW - 1000).toISOString(),
      SignatureVersion: version,
      SigningCertURL: certUrl,
      Signature: '',
      ...fields,
    } as SnsMessage;
    m.Signature = sign(
      version === '1' ? 'sha1' : 'sha256',
      Buffer.from(snsStringToSign(m)),
      privateKey,
    ).toString('base64');
    return m;
  }
  const sesEvent = (eventType: string, messageId: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({
      eventType,
      mail: { messageId, destination: ['a@example.com'], timestamp: '2029-12-31T23:59:00Z' },
      ...extra,
    });

  function setup(overrides: Partial<Parameters<typeof createSesWebhookHandler>[0]> = {}) {
    const store = memoryEmailStatusStore();
    const fetched: string[] = [];
    const confirmed: string[] = [];
    const published: string[] = [];
    const handle = createSesWebhookHandler({
      store,
      topicArns: [topic],
      now: () => NOW,
      fetchCertificate: async (url) => {
        fetched.push(url);
        return pem;
      },
      confirmSubscription: async (url) => {
        confirmed.push(url);
      },
      events: { publish: async (n) => published.push(n) },
      ...overrides,
    });
    const post = (m: unknown) =>
      handle({ headers: { 'x-amz-sns-message-type': 'Notification' }, rawBody: JSON.stringify(m) });
    return { store, fetched, confirmed, published, post };
  }

  it('verifies SignatureVersion 1 and 2, maps SES events, caches the certificate', async () => {
    const { store, fetched, published, post } = setup();
    const delivered = snsMessage(
      {
        Type: 'Notification',
        Message: sesEvent('Delivery', 'ses-1', {
          delivery: { timestamp: '2029-12-31T23:59:30Z', recipients: ['a@example.com'] },
        }),
      },
      '1',
    );
    const bounced = snsMessage({
      Type: 'Notification',
      Message: sesEvent('Bounce', 'ses-2', {
        bounce: {
          bounceType: 'Permanent',
          bounceSubType: 'General',
          bouncedRecipients: [{ emailAddress: 'b@example.com' }],
        },
      }),
    });
    expect((await post(delivered)).status).toBe(200);
    expect((await post(bounced)).status).toBe(200);
    expect(emailStatusRecord(await store.get('ses-1'))).toMatchObject({
      status: 'delivered',
      provider: 'ses',
      updatedAt: new Date('2029-12-31T23:59:30Z'),
    });
    expect(emailStatusRecord(await store.get('ses-2'))?.events[0]).toMatchObject({
      status: 'bounced',
      recipient: 'b@example.com',
      reason: 'Permanent/General',
    });
    expect(published).toEqual(['email.delivered', 'email.bounced']);
    expect(fetched).toEqual([certUrl]);
    // A redelivered notification (same SNS MessageId) is not recorded twice.
    expect((await post(delivered)).body).toBe(JSON.stringify({ recorded: 0 }));
  });

  it('rejects forged, tampered, replayed, foreign-topic and foreign-certificate messages', async () => {
    const { store, fetched, post } = setup();
    const good = snsMessage({ Type: 'Notification', Message: sesEvent('Delivery', 'ses-9') });
    const forgedKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = {
      ...good,
      Signature: sign('sha256', Buffer.from(snsStringToSign(good)), forgedKey).toString('base64'),
    };
    const tampered = { ...good, Message: sesEvent('Complaint', 'ses-9') };
    const replayed = snsMessage({
      Type: 'Notification',
      Message: sesEvent('Delivery', 'ses-9'),
      Timestamp: new Date(NOW - 3_600_001).toISOString(),
    });
    const otherTopic = snsMessage({
      Type: 'Notification',
      Message: sesEvent('Delivery', 'ses-9'),
      TopicArn: `${topic}-x`,
    });
    const evilCert = snsMessage({
      Type: 'Notification',
      Message: sesEvent('Delivery', 'ses-9'),
      SigningCertURL: 'https://sns.eu-west-1.amazonaws.com.evil.com/x.pem',
    });
    const statuses = [];
    for (const m of [forged, tampered, replayed, otherTopic, evilCert]) statuses.push((await post(m)).status);
    expect(statuses).toEqual([401, 401, 401, 403, 401]);
    expect(fetched.every((u) => u === certUrl)).toBe(true);
    expect(await store.get('ses-9')).toBeUndefined();
    expect((await post('{not json')).status).toBe(400);
  });

  it('confirms a verified subscription by visiting SubscribeURL, and refuses a foreign one', async () => {
    const { confirmed, post } = setup();
    const subscribeUrl = `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=t1`;
    const sub = snsMessage({
      Type: 'SubscriptionConfirmation',
      Message: 'You have chosen to subscribe',
      Token: 't1',
      SubscribeURL: subscribeUrl,
    });
    expect(await post(sub)).toEqual({ status: 200, body: JSON.stringify({ subscription: 'confirmed' }) });
    expect(confirmed).toEqual([subscribeUrl]);
    const evil = snsMessage({
      Type: 'SubscriptionConfirmation',
      Message: 'x',
      Token: 't2',
      SubscribeURL: 'https://evil.example.com/?Token=t2',
    });
    expect((await post(evil)).status).toBe(400);
    const forgedSub = { ...sub, Token: 't3' };
    expect((await post(forgedSub)).status).toBe(401);
    expect(confirmed).toHaveLength(1);
  });

  it('checks certificate URLs strictly', () => {
    expect(isSnsUrl(certUrl, { pem: true })).toBe(true);
    expect(isSnsUrl('https://sns.cn-north-1.amazonaws.com.cn/a.pem', { pem: true })).toBe(true);
    expect(isSnsUrl('http://sns.eu-west-1.amazonaws.com/a.pem', { pem: true })).toBe(false);
    expect(isSnsUrl('https://sns.eu-west-1.amazonaws.com:8443/a.pem', { pem: true })).toBe(false);
    expect(isSnsUrl('https://evil.com/sns.eu-west-1.amazonaws.com/a.pem', { pem: true })).toBe(false);
    expect(isSnsUrl('https://sns.eu-west-1.amazonaws.com/a.txt', { pem: true })).toBe(false);
  });

  it('cannot be created without topicArns: a valid SNS signature only proves that some topic sent it', async () => {
    const store = memoryEmailStatusStore();
    for (const topicArns of [undefined, [], [''], 'arn:aws:sns:x' as unknown as string[]]) {
      expect(() => createSesWebhookHandler({ store, topicArns } as never)).toThrow(
        expect.objectContaining({ code: EmailErrorCode.INVALID_OPTIONS }),
      );
    }
    // Anyone can own a topic: a notification (or subscription request) genuinely signed by SNS for
    // another topic is refused, and its subscription is never confirmed.
    const { confirmed, store: s, post } = setup();
    const foreign = `${topic.replace('123456789012', '999999999999')}`;
    const sub = snsMessage({
      Type: 'SubscriptionConfirmation',
      Message: 'x',
      Token: 't9',
      TopicArn: foreign,
      SubscribeURL: `https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${foreign}&Token=t9`,
    });
    const note = snsMessage({
      Type: 'Notification',
      Message: sesEvent('Bounce', 'ses-f'),
      TopicArn: foreign,
    });
    expect([(await post(sub)).status, (await post(note)).status]).toEqual([403, 403]);
    expect(confirmed).toEqual([]);
    expect(await s.get('ses-f')).toBeUndefined();
  });

  it('refuses certificate URLs on hosts other AWS customers control, and with query strings', async () => {
    // S3 virtual-hosted buckets: a bucket named `sns` is `sns.s3.amazonaws.com`, `sns.s3-external-1...`
    for (const host of [
      'sns.s3.amazonaws.com',
      'sns.s3-external-1.amazonaws.com',
      'sns.s3-us-west-2.amazonaws.com',
      'sns.s3-website-us-east-1.amazonaws.com',
      'sns.s3-accelerate.amazonaws.com',
    ]) {
      expect(isSnsUrl(`https://${host}/SimpleNotificationService-x.pem`, { pem: true }), host).toBe(false);
    }
    expect(isSnsUrl('https://sns.us-east-1.amazonaws.com@evil.com/x.pem', { pem: true })).toBe(false);
    expect(isSnsUrl('https://user:pw@sns.us-east-1.amazonaws.com/x.pem', { pem: true })).toBe(false);
    for (const region of ['us-east-1', 'us-gov-west-1', 'ap-southeast-2', 'il-central-1', 'ca-west-1']) {
      expect(
        isSnsUrl(`https://sns.${region}.amazonaws.com/SimpleNotificationService-x.pem`, { pem: true }),
      ).toBe(true);
    }
    // Each distinct query string would be downloaded and cached separately: unbounded fetches and memory.
    const { fetched, post } = setup();
    const statuses: number[] = [];
    for (const suffix of ['?n=1', '?n=2', '#x']) {
      const m = snsMessage({
        Type: 'Notification',
        Message: sesEvent('Delivery', 'ses-q'),
        SigningCertURL: `${certUrl}${suffix}`,
      });
      statuses.push((await post(m)).status);
    }
    expect(statuses).toEqual([401, 401, 401]);
    expect(fetched).toEqual([]);
  });

  let hasOpenssl = true;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    hasOpenssl = false;
  }
  it.skipIf(!hasOpenssl)('accepts a real X.509 signing certificate, as SNS serves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sns-'));
    writeFileSync(join(dir, 'key.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-key',
        join(dir, 'key.pem'),
        '-subj',
        '/CN=sns.amazonaws.com',
        '-days',
        '1',
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    const { store, post } = setup({ fetchCertificate: async () => cert });
    expect(
      (await post(snsMessage({ Type: 'Notification', Message: sesEvent('Open', 'ses-cert') }))).status,
    ).toBe(200);
    expect((await store.get('ses-cert'))?.status).toBe('opened');
  });
});
