import type { ConfigSource, Logger } from '@app/core';
import twilio from 'twilio';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeTwilio, hex, startFakeTwilio } from '../__fixtures__/fake-twilio.js';
import { isSmsError, SmsError, SmsErrorCode } from '../errors.js';
import { createSmsService } from '../service.js';
import { smsProviderContract } from '../testing.js';
import type { SmsProvider } from '../types.js';
import { toTwilioSmsError, twilioHttpClient, twilioProvider } from './twilio.js';

const TO = '+14155550123';
const FROM = '+14155550100';

let primary: FakeTwilio;
let backup: FakeTwilio;
const providers: SmsProvider[] = [];

beforeAll(async () => {
  primary = await startFakeTwilio();
  backup = await startFakeTwilio();
});
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close?.()));
  await Promise.all([primary.close(), backup.close()]);
});
beforeEach(() => {
  primary.requests.length = 0;
  backup.requests.length = 0;
});

function provider(fake: FakeTwilio, extra: Partial<Parameters<typeof twilioProvider>[0]> = {}): SmsProvider {
  const p = twilioProvider({
    accountSid: fake.accountSid,
    authToken: fake.authToken,
    from: FROM,
    apiBaseUrl: fake.url,
    timeoutMs: 1500, // tests of hangs pass their own short timeout
    ...extra,
  } as Parameters<typeof twilioProvider>[0]);
  providers.push(p);
  return p;
}

function source(values: Record<string, unknown>): ConfigSource {
  return { get: async (k) => values[k], watch: () => () => {} };
}

function spyLogger(): Logger & { entries: Array<Record<string, unknown>> } {
  const entries: Array<Record<string, unknown>> = [];
  const log = (obj: object, msg?: string) => entries.push({ ...obj, msg });
  return { entries, debug: log, info: log, warn: log, error: log };
}

// A fresh fake per test; the probe reads the current one's requests.
let currentFake: FakeTwilio | undefined;
smsProviderContract({
  describe,
  it,
  expect,
  name: 'twilio (real SDK against a local fake)',
  inspect: async () =>
    (currentFake?.requests ?? []).map((r) => ({ to: r.form.To ?? '', body: r.form.Body ?? '' })),
  async create() {
    const fake = await startFakeTwilio();
    currentFake = fake;
    const p = twilioProvider({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      from: FROM,
      apiBaseUrl: fake.url,
    });
    return {
      provider: p,
      cleanup: async () => {
        await p.close?.();
        await fake.close();
      },
    };
  },
});

describe('twilioProvider: the request the SDK makes', () => {
  it('posts a form to /2010-04-01/Accounts/{sid}/Messages.json with basic auth', async () => {
    const result = await provider(primary, { statusCallbackUrl: 'https://example.com/status' }).send(
      TO,
      'Hello ✓',
    );
    expect(result).toEqual({
      id: expect.stringMatching(/^SM[0-9a-f]{32}$/),
      status: 'queued',
      provider: 'twilio',
    });
    expect(primary.requests).toHaveLength(1);
    const [req] = primary.requests;
    expect(req?.method).toBe('POST');
    expect(req?.path).toBe(`/2010-04-01/Accounts/${primary.accountSid}/Messages.json`);
    expect(req?.username).toBe(primary.accountSid);
    expect(req?.password).toBe(primary.authToken);
    expect(req?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req?.headers['user-agent']).toMatch(/^twilio-node\//);
    expect(req?.form).toEqual({
      To: TO,
      From: FROM,
      Body: 'Hello ✓',
      StatusCallback: 'https://example.com/status',
    });
  });

  it('sends through a messaging service and lets a message override the sender', async () => {
    const mg = `MG${hex(16)}`;
    const p = provider(primary, { from: undefined, messagingServiceSid: mg });
    expect((await p.send(TO, 'via service')).status).toBe('queued'); // Twilio's 'accepted'
    await p.send(TO, 'own sender', { from: 'ACME' });
    expect(primary.requests.map((r) => r.form)).toEqual([
      { To: TO, Body: 'via service', MessagingServiceSid: mg },
      { To: TO, Body: 'own sender', From: 'ACME', MessagingServiceSid: mg },
    ]);
  });

  it('authenticates with an API key when apiKeySid is given', async () => {
    const keySid = `SK${hex(16)}`;
    const p = provider(primary, { apiKeySid: keySid, authToken: 'key-secret' });
    await p.send(TO, 'hi').catch(() => {});
    expect(primary.requests[0]?.username).toBe(keySid);
    expect(primary.requests[0]?.password).toBe('key-secret');
    expect(primary.requests[0]?.path).toBe(`/2010-04-01/Accounts/${primary.accountSid}/Messages.json`);
  });

  it('works with a client you built, using twilioHttpClient to reach the fake', async () => {
    const httpClient = twilioHttpClient({ apiBaseUrl: primary.url });
    const client = twilio(primary.accountSid, primary.authToken, { httpClient });
    const p = twilioProvider({ client, from: FROM });
    expect((await p.send(TO, 'mine')).provider).toBe('twilio');
    expect(primary.requests[0]?.form.Body).toBe('mine');
    httpClient.destroy();
  });

  it('throws MISSING_SENDER and INVALID_OPTIONS before any request', async () => {
    const p = provider(primary, { from: undefined });
    await expect(p.send(TO, 'x')).rejects.toMatchObject({ code: SmsErrorCode.MISSING_SENDER });
    expect(() => twilioProvider({ accountSid: 'nope', authToken: 't', from: FROM })).toThrow(SmsError);
    expect(() => twilioProvider({ accountSid: 'nope', authToken: 't', from: FROM })).toThrow(
      expect.objectContaining({ code: SmsErrorCode.INVALID_OPTIONS }),
    );
    expect(() => twilioProvider({ accountSid: primary.accountSid, authToken: '', from: FROM })).toThrow(
      /authToken/,
    );
    expect(() => provider(primary, { messagingServiceSid: 'MG1' })).toThrow(/messagingServiceSid/);
    expect(() => provider(primary, { apiBaseUrl: 'ftp://x' } as never)).toThrow(/apiBaseUrl/);
    expect(primary.requests).toHaveLength(0);
  });
});

describe('twilioProvider: error classification', () => {
  const cases: Array<[string, Parameters<FakeTwilio['script']>[0], SmsErrorCode]> = [
    ['20429 rate limit', { status: 429, code: 20429 }, SmsErrorCode.RATE_LIMITED],
    ['503', { status: 503 }, SmsErrorCode.PROVIDER_UNAVAILABLE],
    ['500 with a code', { status: 500, code: 20500 }, SmsErrorCode.PROVIDER_UNAVAILABLE],
    ['20003 auth', { status: 401, code: 20003 }, SmsErrorCode.PROVIDER_AUTH_FAILED],
    ['21211 invalid To', { status: 400, code: 21211 }, SmsErrorCode.RECIPIENT_REJECTED],
    ['21614 not a mobile', { status: 400, code: 21614 }, SmsErrorCode.RECIPIENT_REJECTED],
    ['21610 unsubscribed', { status: 400, code: 21610 }, SmsErrorCode.RECIPIENT_REJECTED],
    ['21606 bad From', { status: 400, code: 21606 }, SmsErrorCode.PROVIDER_MISCONFIGURED],
    ['21602 body required', { status: 400, code: 21602 }, SmsErrorCode.MESSAGE_REJECTED],
  ];
  for (const [label, reply, code] of cases) {
    it(`maps ${label} to ${code}`, async () => {
      primary.script(reply);
      const error = await provider(primary)
        .send(TO, 'x')
        .catch((e: unknown) => e);
      expect(isSmsError(error, code)).toBe(true);
      expect(error).toMatchObject({ provider: 'twilio', status: (reply as { status: number }).status });
    });
  }

  it('turns a 429 with Retry-After into RATE_LIMITED with retryAfterMs', async () => {
    primary.script({ status: 429, code: 20429, headers: { 'retry-after': '3' } });
    const error = await provider(primary)
      .send(TO, 'x')
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: SmsErrorCode.RATE_LIMITED, retryAfterMs: 3000, providerCode: 20429 });
  });

  it('maps a timeout and a refused connection to PROVIDER_UNAVAILABLE', async () => {
    primary.script({ hang: true });
    const timeout = await provider(primary, { timeoutMs: 100 })
      .send(TO, 'x')
      .catch((e: unknown) => e);
    expect(timeout).toMatchObject({ code: SmsErrorCode.PROVIDER_UNAVAILABLE });
    const dead = await startFakeTwilio();
    await dead.close();
    const refused = await provider(dead)
      .send(TO, 'x')
      .catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: SmsErrorCode.PROVIDER_UNAVAILABLE });
    expect((refused as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('maps an unclassified failure to PROVIDER_FAILED (Retry-After parsing: @app/delivery failures.test.ts)', () => {
    expect(toTwilioSmsError(new Error('boom')).code).toBe(SmsErrorCode.PROVIDER_FAILED);
  });
});

describe('createSmsService over the real Twilio SDK', () => {
  it('retries 20429 and 5xx on the same account, then succeeds', async () => {
    primary.script({ status: 429, code: 20429 }, { status: 503 });
    const sms = createSmsService({ providers: { twilio: provider(primary) }, retry: { baseDelayMs: 1 } });
    const result = await sms.send(TO, 'retry me');
    expect(result).toMatchObject({ provider: 'twilio', attempts: 3, duplicate: false });
    expect(primary.requests).toHaveLength(3);
    expect(new Set(primary.requests.map((r) => r.form.Body))).toEqual(new Set(['retry me']));
  });

  it('waits what Retry-After asks, bounded by maxRetryAfterMs', async () => {
    primary.script({ status: 429, code: 20429, headers: { 'retry-after': '30' } });
    const logger = spyLogger();
    const sms = createSmsService({
      providers: { twilio: provider(primary) },
      retry: { baseDelayMs: 1 },
      maxRetryAfterMs: 25,
      logger,
    });
    await sms.send(TO, 'later');
    expect(logger.entries.filter((e) => 'delayMs' in e).map((e) => e.delayMs)).toEqual([25]);
  });

  it('retries a timeout, then fails over to the next account when the first keeps timing out', async () => {
    primary.script({ hang: true }, { hang: true });
    const sms = createSmsService({
      providers: {
        main: provider(primary, { name: 'main', timeoutMs: 100 }),
        backup: provider(backup, { name: 'backup' }),
      },
      retry: { baseDelayMs: 1, maxAttempts: 2 },
    });
    const result = await sms.send(TO, 'eventually');
    expect(result).toMatchObject({ provider: 'backup', attempts: 3 });
    expect(primary.requests).toHaveLength(2);
    expect(backup.requests).toHaveLength(1);
  });

  it('fails over at once on 20003 (auth) and follows config changes live', async () => {
    const values: Record<string, unknown> = { 'sms.provider': 'main', 'sms.failover': ['backup'] };
    const sms = createSmsService({
      providers: { main: provider(primary, { name: 'main' }), backup: provider(backup, { name: 'backup' }) },
      config: source(values),
      retry: { baseDelayMs: 1 },
    });
    primary.script({ status: 401, code: 20003 });
    expect(await sms.send(TO, 'a')).toMatchObject({ provider: 'backup', attempts: 2 });
    expect(primary.requests).toHaveLength(1);

    values['sms.provider'] = 'backup';
    values['sms.failover'] = 'main';
    expect(await sms.send(TO, 'b')).toMatchObject({ provider: 'backup', attempts: 1 });
    expect(primary.requests).toHaveLength(1);
    expect(backup.requests.map((r) => r.form.Body)).toEqual(['a', 'b']);
  });

  it('throws a rejected recipient at once: no retry, no failover', async () => {
    primary.script({ status: 400, code: 21211, message: "The 'To' number is not a valid phone number." });
    const sms = createSmsService({
      providers: { main: provider(primary, { name: 'main' }), backup: provider(backup, { name: 'backup' }) },
      retry: { baseDelayMs: 1 },
    });
    const error = await sms.send(TO, 'x').catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: SmsErrorCode.RECIPIENT_REJECTED,
      providerCode: 21211,
      provider: 'main',
    });
    expect(primary.requests).toHaveLength(1);
    expect(backup.requests).toHaveLength(0);
  });

  it('reports every attempt when every account fails', async () => {
    primary.script({ status: 500 }, { status: 502 });
    backup.script({ status: 401, code: 20003 });
    const sms = createSmsService({
      providers: { main: provider(primary, { name: 'main' }), backup: provider(backup, { name: 'backup' }) },
      retry: { baseDelayMs: 1, maxAttempts: 2 },
    });
    const error = await sms.send(TO, 'x').catch((e: unknown) => e);
    expect(isSmsError(error, SmsErrorCode.ALL_PROVIDERS_FAILED)).toBe(true);
    expect((error as SmsError).attempts.map((a) => [a.provider, a.kind])).toEqual([
      ['main', 'transient'],
      ['main', 'transient'],
      ['backup', 'provider'],
    ]);
  });

  it('sends once for an idempotency key, even when the caller retries after a failure', async () => {
    primary.script({ status: 503 }, { status: 503 });
    const sms = createSmsService({
      providers: { twilio: provider(primary) },
      retry: { baseDelayMs: 1, maxAttempts: 2 },
    });
    await expect(sms.send(TO, 'otp 1', { idempotencyKey: 'otp:1' })).rejects.toMatchObject({
      code: SmsErrorCode.ALL_PROVIDERS_FAILED,
    });
    const first = await sms.send(TO, 'otp 1', { idempotencyKey: 'otp:1' });
    const again = await Promise.all(
      Array.from({ length: 20 }, () => sms.send(TO, 'otp 1', { idempotencyKey: 'otp:1' })),
    );
    expect(again.every((r) => r.duplicate && r.id === first.id && r.attempts === 0)).toBe(true);
    expect(primary.requests).toHaveLength(3); // 2 failed + 1 sent
    expect(await sms.getStatus(first.id)).toMatchObject({
      id: first.id,
      status: 'queued',
      provider: 'twilio',
      to: TO,
    });
  });
});
