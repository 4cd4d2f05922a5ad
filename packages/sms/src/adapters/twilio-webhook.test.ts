import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { describe, expect, it } from 'vitest';
import { SmsErrorCode } from '../errors.js';
import { createSmsService } from '../service.js';
import { memorySmsProvider } from './memory.js';
import {
  computeTwilioSignature,
  mapTwilioStatus,
  parseTwilioStatusCallback,
  twilioStatusCallbackHandler,
  verifyTwilioSignature,
} from './twilio-webhook.js';

const authToken = randomBytes(16).toString('hex');
const URL_ = 'https://example.com/webhooks/twilio/status?tenant=acme';
const params = (sid: string, status: string, extra: Record<string, string> = {}) => ({
  MessageSid: sid,
  SmsSid: sid,
  MessageStatus: status,
  SmsStatus: status,
  AccountSid: `AC${'0'.repeat(32)}`,
  To: '+14155550123',
  From: '+14155550100',
  ApiVersion: '2010-04-01',
  ...extra,
});

function signedRequest(
  body: Record<string, string>,
  options: { token?: string; url?: string; signature?: string; settings?: string } = {},
) {
  const url = options.url ?? URL_;
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  headers['x-twilio-signature'] =
    options.signature ?? twilio.getExpectedTwilioSignature(options.token ?? authToken, url, body);
  if (options.settings) headers['x-twilio-webhooks-signature-settings'] = options.settings;
  return new Request(url, { method: 'POST', headers, body: new URLSearchParams(body).toString() });
}

function setup() {
  const events: Array<{ name: string; data: Record<string, unknown> }> = [];
  const sms = createSmsService({
    providers: { memory: memorySmsProvider() },
    events: { publish: async (name, data) => events.push({ name, data }) },
  });
  const handler = twilioStatusCallbackHandler({ authToken, service: sms });
  return { sms, handler, events };
}

describe('Twilio signatures, cross-checked with the twilio SDK', () => {
  it('computes what twilio.getExpectedTwilioSignature computes, and what validateRequest accepts', () => {
    for (let i = 0; i < 50; i++) {
      const token = randomBytes(16).toString('hex');
      const body: Record<string, string> = {};
      for (let k = 0; k < 1 + (i % 7); k++)
        body[`P${randomBytes(3).toString('hex')}`] = randomBytes(6).toString('base64');
      body.Body = 'ünïcödé & = + ✓';
      const url = `https://h${i}.example.com/cb?x=${i}&y=a%20b`;
      const ours = computeTwilioSignature(token, url, body);
      expect(ours).toBe(twilio.getExpectedTwilioSignature(token, url, body));
      expect(twilio.validateRequest(token, ours, url, body)).toBe(true);
      expect(verifyTwilioSignature({ authToken: token, url, params: body, signature: ours })).toBe(true);
    }
  });

  it('agrees with the SDK on HMAC-SHA256 and on repeated parameters', () => {
    const body = { A: ['2', '1', '2'], B: 'x' };
    const sha256 = computeTwilioSignature(authToken, URL_, body, 'HMAC_SHA256');
    expect(sha256).toBe(twilio.getExpectedTwilioSignature(authToken, URL_, body, 'HMAC_SHA256'));
    expect(computeTwilioSignature(authToken, URL_, body)).toBe(
      twilio.getExpectedTwilioSignature(authToken, URL_, body),
    );
  });

  it('accepts the URL with or without the default port, like the SDK', () => {
    const body = params('SM1', 'sent');
    const signedWithPort = computeTwilioSignature(authToken, 'https://example.com:443/cb', body);
    expect(
      verifyTwilioSignature({
        authToken,
        url: 'https://example.com/cb',
        params: body,
        signature: signedWithPort,
      }),
    ).toBe(true);
    expect(twilio.validateRequest(authToken, signedWithPort, 'https://example.com/cb', body)).toBe(true);
  });

  it('rejects a forged signature, a wrong token, a changed parameter, a changed URL and a missing header', () => {
    const body = params('SM1', 'delivered');
    const good = computeTwilioSignature(authToken, URL_, body);
    const check = (over: Partial<Parameters<typeof verifyTwilioSignature>[0]>) =>
      verifyTwilioSignature({ authToken, url: URL_, params: body, signature: good, ...over });
    expect(check({})).toBe(true);
    expect(check({ signature: `${good.slice(0, -2)}AA` })).toBe(false);
    expect(check({ authToken: 'other-token' })).toBe(false);
    expect(check({ params: { ...body, MessageStatus: 'failed' } })).toBe(false);
    expect(check({ url: 'https://evil.example.com/webhooks/twilio/status?tenant=acme' })).toBe(false);
    expect(check({ signature: undefined })).toBe(false);
    expect(check({ signature: 'short' })).toBe(false);
  });
});

describe('twilioStatusCallbackHandler', () => {
  it('records a signed callback, answers 204, and getStatus reflects it', async () => {
    const { sms, handler, events } = setup();
    const res = await handler.fetch(signedRequest(params('SM42', 'delivered')));
    expect(res.status).toBe(204);
    expect(await sms.getStatus('SM42')).toMatchObject({
      id: 'SM42',
      status: 'delivered',
      provider: 'twilio',
      to: '+14155550123',
    });
    expect(events).toEqual([
      {
        name: 'sms.delivered',
        data: expect.objectContaining({ id: 'SM42', status: 'delivered', provider: 'twilio' }),
      },
    ]);
  });

  it('answers 403 to a forged request and records nothing', async () => {
    const { sms, handler, events } = setup();
    const forged = await handler.fetch(
      signedRequest(params('SM7', 'delivered'), { token: 'attacker-token' }),
    );
    expect(forged.status).toBe(403);
    const unsigned = new Request(URL_, {
      method: 'POST',
      body: new URLSearchParams(params('SM7', 'failed')),
    });
    expect((await handler.fetch(unsigned)).status).toBe(403);
    expect(await sms.getStatus('SM7')).toEqual({ id: 'SM7', status: 'unknown' });
    expect(events).toEqual([]);
    await expect(
      handler.handle({ url: URL_, signature: 'x', params: params('SM7', 'sent') }),
    ).rejects.toMatchObject({ code: SmsErrorCode.INVALID_SIGNATURE });
  });

  it('makes replayed and out-of-order callbacks harmless', async () => {
    const { sms, handler, events } = setup();
    const send = (status: string) => handler.fetch(signedRequest(params('SM9', status)));
    for (const status of ['queued', 'sent', 'sent', 'delivered', 'sent', 'delivered', 'failed']) {
      expect((await send(status)).status).toBe(204);
    }
    expect((await sms.getStatus('SM9')).status).toBe('delivered');
    expect(events.map((e) => e.name)).toEqual(['sms.queued', 'sms.sent', 'sms.delivered']);
  });

  it('keeps the error code of an undelivered message and forwards sms.undelivered', async () => {
    const { sms, handler, events } = setup();
    await handler.fetch(signedRequest(params('SM5', 'undelivered', { ErrorCode: '30003' })));
    expect(await sms.getStatus('SM5')).toMatchObject({ status: 'undelivered', errorCode: '30003' });
    expect(events[0]).toMatchObject({ name: 'sms.undelivered', data: { errorCode: '30003' } });
  });

  it('verifies against the configured public URL, not the one a proxy shows', async () => {
    const { sms } = setup();
    const handler = twilioStatusCallbackHandler({ authToken, service: sms, url: URL_ });
    const body = params('SM3', 'sent');
    const signature = computeTwilioSignature(authToken, URL_, body);
    const behindProxy = new Request('http://10.0.0.5:8080/webhooks/twilio/status?tenant=acme', {
      method: 'POST',
      headers: { 'x-twilio-signature': signature },
      body: new URLSearchParams(body),
    });
    expect((await handler.fetch(behindProxy)).status).toBe(204);
  });

  it('follows the signature settings header (HMAC-SHA256) and refuses unknown algorithms', async () => {
    const { handler } = setup();
    const body = params('SM11', 'sent');
    const sha256 = computeTwilioSignature(authToken, URL_, body, 'HMAC_SHA256');
    const ok = signedRequest(body, { signature: sha256, settings: 'key=k1,algorithm=HMAC_SHA256' });
    expect((await handler.fetch(ok)).status).toBe(204);
    const sha1 = computeTwilioSignature(authToken, URL_, body);
    expect(
      (await handler.fetch(signedRequest(body, { signature: sha1, settings: 'algorithm=HMAC_SHA256' })))
        .status,
    ).toBe(403);
    expect((await handler.fetch(signedRequest(body, { settings: 'algorithm=HMAC_MD5' }))).status).toBe(403);
  });

  it('answers 400 without a MessageSid, ignores inbound statuses, and 405 unless POST', async () => {
    const { handler, events } = setup();
    const { MessageSid: _a, SmsSid: _b, ...noSid } = params('x', 'sent');
    expect((await handler.fetch(signedRequest(noSid))).status).toBe(400);
    expect((await handler.fetch(signedRequest(params('SM1', 'received')))).status).toBe(204);
    expect(events).toEqual([]);
    expect((await handler.fetch(new Request(URL_))).status).toBe(405);
  });

  it('maps every Twilio status', () => {
    expect(
      [
        'accepted',
        'scheduled',
        'queued',
        'sending',
        'sent',
        'delivered',
        'read',
        'undelivered',
        'failed',
        'canceled',
        'received',
      ].map(mapTwilioStatus),
    ).toEqual([
      'queued',
      'queued',
      'queued',
      'sending',
      'sent',
      'delivered',
      'delivered',
      'undelivered',
      'failed',
      'failed',
      undefined,
    ]);
    expect(parseTwilioStatusCallback({ SmsSid: 'SM1', SmsStatus: 'sent' })).toEqual({
      id: 'SM1',
      status: 'sent',
      provider: 'twilio',
    });
  });

  it('refuses to be created without a token or a service', () => {
    const { sms } = setup();
    expect(() => twilioStatusCallbackHandler({ authToken: '', service: sms })).toThrow(/authToken/);
    expect(() => twilioStatusCallbackHandler({ authToken, service: {} as never })).toThrow(/service/);
  });
});
