import { closeable } from '@app/core';
import { providerOptionMistakes, refusal, settle, spyLogger, testConfigSource } from '@app/delivery/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type FakeTwilio, hex, startFakeTwilio } from './__fixtures__/fake-twilio.js';
import { memorySmsProvider } from './adapters/memory.js';
import { type TwilioCredentialsOptions, twilioProvider } from './adapters/twilio.js';
import { isSmsError, SmsError, SmsErrorCode } from './errors.js';
import { createSmsService, type SmsProviderFactory } from './service.js';
import type { SmsProvider, SmsSendOptions } from './types.js';

const TO = '+14155550123';
const FROM = '+14155550100';

let primary: FakeTwilio;
let backup: FakeTwilio;
beforeAll(async () => {
  primary = await startFakeTwilio();
  backup = await startFakeTwilio();
});
afterAll(() => Promise.all([primary.close(), backup.close()]));
beforeEach(() => {
  primary.requests.length = 0;
  backup.requests.length = 0;
});

const memoryConfig = testConfigSource;

const twilioOptions = (fake: FakeTwilio, authToken = fake.authToken) => ({
  accountSid: fake.accountSid,
  authToken,
  from: FROM,
  apiBaseUrl: fake.url,
  timeoutMs: 2000,
});
const passwords = (fake: FakeTwilio) => fake.requests.map((r) => r.password);

/** The real Twilio factory, recording which providers (by auth token) were closed. */
function twilioFactory(closed: string[] = []): SmsProviderFactory {
  return (options: TwilioCredentialsOptions) => {
    const provider = twilioProvider(options);
    return closeable(
      {
        name: provider.name,
        send: (to: string, body: string, sendOptions?: SmsSendOptions) =>
          provider.send(to, body, sendOptions),
      },
      async () => {
        closed.push(String(options.authToken));
        await provider.close();
      },
    ) satisfies SmsProvider;
  };
}

describe('createSmsService({ providerFactories }): provider options from config', () => {
  it('applies a new Twilio auth token to the next request, and switches sms.provider live', async () => {
    const firstToken = primary.authToken;
    const config = memoryConfig({
      'sms.provider': 'twilio',
      'sms.providers.twilio': twilioOptions(primary),
      'sms.providers.backup': twilioOptions(backup),
    });
    const closed: string[] = [];
    const sms = createSmsService({
      providerFactories: { twilio: twilioFactory(closed), backup: twilioFactory(closed) },
      config,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });

    expect(await sms.send(TO, 'one')).toMatchObject({ provider: 'twilio', attempts: 1 });
    expect(passwords(primary)).toEqual([firstToken]);
    expect(primary.requests[0]?.username).toBe(primary.accountSid);

    const newToken = hex(16);
    primary.authToken = newToken; // rotated at Twilio: the old token is refused from now on
    config.set('sms.providers.twilio', twilioOptions(primary, newToken));
    await settle();
    expect(await sms.send(TO, 'two')).toMatchObject({ provider: 'twilio', attempts: 1 });
    expect(passwords(primary)).toEqual([firstToken, newToken]);
    expect(primary.requests[1]?.form).toEqual({ To: TO, From: FROM, Body: 'two' });
    expect(closed).toEqual([firstToken]); // the replaced provider was closed

    config.set('sms.provider', 'backup');
    expect(await sms.send(TO, 'three')).toMatchObject({ provider: 'backup' });
    expect(passwords(backup)).toEqual([backup.authToken]);

    await sms.close();
    expect(closed.sort()).toEqual([firstToken, newToken, backup.authToken].sort());
    expect(config.watching()).toBe(0);
    await expect(sms.send(TO, 'after close')).rejects.toMatchObject({ code: SmsErrorCode.CLOSED });
  });

  it('fails over while the configured token is revoked, and recovers once config has the new one', async () => {
    const config = memoryConfig({
      'sms.provider': 'twilio',
      'sms.failover': 'backup',
      'sms.providers.twilio': twilioOptions(primary, 'revoked-token'),
      'sms.providers.backup': twilioOptions(backup),
    });
    const sms = createSmsService({
      providerFactories: { twilio: twilioFactory(), backup: twilioFactory() },
      config,
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    expect(await sms.send(TO, 'hi')).toMatchObject({ provider: 'backup', attempts: 2 });
    expect(passwords(primary)).toEqual(['revoked-token']); // 20003: failed over, not retried
    config.set('sms.providers.twilio', twilioOptions(primary));
    await settle();
    expect(await sms.send(TO, 'hi')).toMatchObject({ provider: 'twilio', attempts: 1 });
    expect(passwords(primary)).toEqual(['revoked-token', primary.authToken]);
    await sms.close();
  });

  it('builds a provider on first use only, once for concurrent sends', async () => {
    const config = memoryConfig({ 'sms.providers.twilio': twilioOptions(primary) });
    let builds = 0;
    const real = twilioFactory();
    const sms = createSmsService({
      providerFactories: {
        twilio: (options, name) => {
          builds++;
          return real(options, name);
        },
      },
      config,
    });
    expect(builds).toBe(0);
    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => sms.send(TO, `m${i}`)));
    expect(new Set(results.map((r) => r.id)).size).toBe(25);
    expect(builds).toBe(1);
    expect(primary.requests).toHaveLength(25);
    await sms.close();
  });

  it('rejects a missing or invalid config value with INVALID_PROVIDER_CONFIG, before any request', async () => {
    const config = memoryConfig({});
    const sms = createSmsService({ providerFactories: { twilio: twilioFactory() }, config });
    const attempt = () => refusal<SmsError>(() => sms.send(TO, 'hi'));

    let error = await attempt();
    expect(error).toBeInstanceOf(SmsError);
    expect(error.code).toBe(SmsErrorCode.INVALID_PROVIDER_CONFIG);
    expect(error.message).toBe(
      "[@app/sms] config key 'sms.providers.twilio' must hold the options of provider 'twilio' as an object; found nothing",
    );

    config.set('sms.providers.twilio', { ...twilioOptions(primary), accountSid: 'AC-not-a-sid' });
    error = await attempt();
    expect(isSmsError(error, SmsErrorCode.INVALID_PROVIDER_CONFIG)).toBe(true);
    expect(error.message).toMatch(/accountSid must be a Twilio account SID/);
    expect(isSmsError(error.cause, SmsErrorCode.INVALID_OPTIONS)).toBe(true);

    config.set('sms.providers.twilio', { ...twilioOptions(primary), token: 'misspelt authToken' });
    error = await attempt();
    expect(error.message).toMatch(/unknown option 'token' \(known: name, from,/);

    config.set('sms.providers.twilio', { ...twilioOptions(primary), timeoutMs: '5000' });
    error = await attempt();
    expect(error.message).toMatch(/timeoutMs must be a positive number$/);

    config.set('sms.providers.twilio', { ...twilioOptions(primary), from: '555-0100' });
    error = await attempt();
    expect(error.code).toBe(SmsErrorCode.INVALID_PROVIDER_CONFIG);

    config.set('sms.providers.twilio', 'AC123:token');
    error = await attempt();
    expect(error.message).toMatch(/found string$/);
    expect(JSON.stringify({ message: error.message })).not.toContain(primary.authToken);

    expect(primary.requests).toHaveLength(0);
    await sms.close();
  });

  it('keeps the working provider when a change is invalid, and logs it', async () => {
    const config = memoryConfig({ 'sms.providers.twilio': twilioOptions(primary) });
    const logger = spyLogger();
    const sms = createSmsService({ providerFactories: { twilio: twilioProvider }, config, logger });
    await sms.send(TO, 'one');
    config.set('sms.providers.twilio', { ...twilioOptions(primary), authToken: '' });
    await settle();
    expect(logger.errors).toEqual([
      'could not rebuild the provider from its new config; keeping the previous one',
    ]);
    await sms.send(TO, 'two');
    expect(passwords(primary)).toEqual([primary.authToken, primary.authToken]);
    await sms.close();
  });

  it('uses providersKey and hands the factory its name', async () => {
    const config = memoryConfig({ 'tenant.sms.outbox': { from: 'ACME' } });
    const outbox = memorySmsProvider({ from: 'ACME' });
    const seen: string[] = [];
    const sms = createSmsService({
      providerFactories: {
        outbox: (options, name) => {
          seen.push(`${name} ${JSON.stringify(options)}`);
          return outbox;
        },
      },
      providersKey: 'tenant.sms',
      config,
    });
    await sms.send(TO, 'hello');
    expect(seen).toEqual(['outbox {"from":"ACME"}']);
    expect(outbox.messages()).toHaveLength(1);
    await sms.close();
  });

  it('refuses neither, both, or factories without config, with INVALID_OPTIONS', () => {
    const problem = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return isSmsError(error) ? `${error.code}: ${error.message}` : String(error);
      }
      return 'no error';
    };
    const config = memoryConfig({});
    const memory = memorySmsProvider();
    for (const [options, message] of providerOptionMistakes(memory, config)) {
      expect(problem(() => createSmsService(options))).toMatch(message);
    }
    expect(
      problem(() =>
        createSmsService({ providerFactories: { memory: () => memory }, providersKey: '.', config }),
      ),
    ).toMatch(/^INVALID_OPTIONS: .*providersKey/);
  });
});
