import type { Closeable } from '@app/core';
import { closeable, isAppError } from '@app/core';
import { providerOptionMistakes, refusal, settle, spyLogger, testConfigSource } from '@app/delivery/testing';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { memoryEmailProvider } from './adapters/memory.js';
import { type SendgridProviderOptions, sendgridProvider } from './adapters/sendgrid.js';
import { type SesProviderOptions, sesProvider } from './adapters/ses.js';
import { EmailError, EmailErrorCode } from './errors.js';
import { createEmailService, type EmailProviderFactory } from './service.js';
import { startFakeSendgrid, startFakeSes } from './test/fake-http.js';
import type { EmailProvider } from './types.js';

const sendgridFake = await startFakeSendgrid({ apiKey: ['SG.one', 'SG.two'] });
const sesFake = await startFakeSes();
afterAll(() => Promise.all([sendgridFake.close(), sesFake.close()]));
beforeEach(() => {
  sendgridFake.reset();
  sesFake.reset();
});

const memoryConfig = testConfigSource;

const sendgridOptions = (apiKey: string) => ({ apiKey, baseUrl: sendgridFake.url, timeoutMs: 2000 });
const sesOptions = (accessKeyId: string) => ({
  clientConfig: {
    region: 'eu-west-1',
    endpoint: sesFake.url,
    credentials: { accessKeyId, secretAccessKey: 'secret' },
  },
});
const msg = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };
const fast = { baseDelayMs: 1, maxDelayMs: 2 };
const bearer = () => sendgridFake.requests.map((r) => r.headers.authorization);
const sesKeyIds = () =>
  sesFake.requests.map((r) => /Credential=(\w+)\//.exec(String(r.headers.authorization))?.[1]);

/** The real provider factories (passed as they are), recording which providers were closed. */
function factories(closed: string[] = []) {
  const track =
    <O>(make: (options: O) => EmailProvider, tag: (options: O) => string | undefined) =>
    (options: O): EmailProvider => {
      const provider = make(options);
      return closeable<Omit<EmailProvider, keyof Closeable>>(
        {
          name: provider.name,
          maxBulkSize: provider.maxBulkSize,
          send: provider.send.bind(provider),
          sendBulk: provider.sendBulk?.bind(provider),
        },
        async () => {
          closed.push(`${provider.name}:${tag(options)}`);
          await provider.close();
        },
      );
    };
  return {
    sendgrid: track<SendgridProviderOptions>(sendgridProvider, (o) => o.apiKey),
    ses: track<SesProviderOptions>(
      sesProvider,
      (o) => (o.clientConfig?.credentials as { accessKeyId?: string })?.accessKeyId,
    ),
  } satisfies Record<string, EmailProviderFactory>;
}

describe('createEmailService({ providerFactories }): provider options from config', () => {
  it('applies a new SendGrid API key to the next request, and switches email.provider live', async () => {
    const config = memoryConfig({
      'email.provider': 'sendgrid',
      'email.providers.sendgrid': sendgridOptions('SG.one'),
      'email.providers.ses': sesOptions('AKIDONE'),
    });
    const closed: string[] = [];
    const email = createEmailService({
      providerFactories: factories(closed),
      config,
      defaultFrom: 'app@example.com',
      retry: fast,
    });

    expect(await email.send(msg)).toMatchObject({ provider: 'sendgrid', status: 'queued' });
    expect(bearer()).toEqual(['Bearer SG.one']);

    config.set('email.providers.sendgrid', sendgridOptions('SG.two'));
    await settle();
    expect(await email.send(msg)).toMatchObject({ provider: 'sendgrid', attempts: 1 });
    expect(bearer()).toEqual(['Bearer SG.one', 'Bearer SG.two']);
    expect(closed).toEqual(['sendgrid:SG.one']); // the replaced provider was closed

    config.set('email.provider', 'ses');
    expect(await email.send(msg)).toMatchObject({ provider: 'ses', status: 'sent' });
    expect(sesKeyIds()).toEqual(['AKIDONE']);
    expect(sesFake.requests[0]?.headers.authorization).toMatch(/\/eu-west-1\/ses\/aws4_request/);

    config.set('email.providers.ses', sesOptions('AKIDTWO'));
    await settle();
    await email.send(msg);
    expect(sesKeyIds()).toEqual(['AKIDONE', 'AKIDTWO']);

    config.set('email.provider', 'sendgrid');
    await email.send(msg);
    expect(bearer()).toEqual(['Bearer SG.one', 'Bearer SG.two', 'Bearer SG.two']);

    await email.close();
    expect(closed.sort()).toEqual(['sendgrid:SG.one', 'sendgrid:SG.two', 'ses:AKIDONE', 'ses:AKIDTWO']);
    expect(config.watching()).toBe(0);
  });

  it('builds a provider only when it is first used, once for concurrent sends', async () => {
    const config = memoryConfig({
      'email.provider': 'sendgrid',
      'email.providers.sendgrid': sendgridOptions('SG.one'),
    });
    let builds = 0;
    const email = createEmailService({
      providerFactories: {
        sendgrid: (options) => {
          builds++;
          return sendgridProvider(options);
        },
        ses: () => {
          throw new Error('ses is never used here, so never built');
        },
      },
      config,
      defaultFrom: 'app@example.com',
    });
    expect(builds).toBe(0);
    const results = await Promise.all(Array.from({ length: 20 }, () => email.send(msg)));
    expect(results.every((r) => r.provider === 'sendgrid')).toBe(true);
    expect(builds).toBe(1);
    expect(sendgridFake.requests).toHaveLength(20);
    await email.close();
  });

  it('fails over from a provider whose key was revoked, and recovers when config gets a new key', async () => {
    const config = memoryConfig({
      'email.provider': 'sendgrid',
      'email.failover': ['ses'],
      'email.providers.sendgrid': sendgridOptions('SG.revoked'),
      'email.providers.ses': sesOptions('AKIDONE'),
    });
    const email = createEmailService({
      providerFactories: factories(),
      config,
      defaultFrom: 'app@example.com',
      retry: fast,
    });
    expect(await email.send(msg)).toMatchObject({ provider: 'ses', attempts: 2 });
    expect(bearer()).toEqual(['Bearer SG.revoked']); // 401: provider-level, no retry
    config.set('email.providers.sendgrid', sendgridOptions('SG.one'));
    await settle();
    expect(await email.send(msg)).toMatchObject({ provider: 'sendgrid', attempts: 1 });
    await email.close();
  });

  it('sends bulk through a configured provider with its native batching', async () => {
    const config = memoryConfig({ 'email.providers.sendgrid': sendgridOptions('SG.two') });
    const email = createEmailService({
      providerFactories: { sendgrid: sendgridProvider, ses: sesProvider }, // the factories fit as they are
      config,
      defaultFrom: 'app@example.com',
    });
    const result = await email.sendBulk({
      subject: 'Hi',
      text: 'Hello',
      recipients: [{ to: 'a@example.com' }, { to: 'b@example.com' }, { to: 'c@example.com' }],
    });
    expect(result).toMatchObject({ sent: 3, failed: 0 });
    expect(sendgridFake.requests).toHaveLength(1);
    await email.close();
  });

  it('rejects a missing or invalid config value with INVALID_PROVIDER_CONFIG, before any request', async () => {
    const config = memoryConfig({ 'email.provider': 'sendgrid' });
    const email = createEmailService({
      providerFactories: factories(),
      config,
      defaultFrom: 'app@example.com',
    });
    const attempt = () => refusal<EmailError>(() => email.send(msg));

    let error = await attempt();
    expect(error).toBeInstanceOf(EmailError);
    expect(error.code).toBe(EmailErrorCode.INVALID_PROVIDER_CONFIG);
    expect(error.message).toBe(
      "[@app/email] config key 'email.providers.sendgrid' must hold the options of provider 'sendgrid' as an object; found nothing",
    );

    config.set('email.providers.sendgrid', { apiKey: 42, baseUrl: 'not a url' });
    error = await attempt();
    expect(isAppError(error, '@app/email', EmailErrorCode.INVALID_PROVIDER_CONFIG)).toBe(true);
    expect(error.message).toContain("'apiKey' must be a non-empty string");
    expect(error.message).toContain("'baseUrl' must be an absolute http(s) URL");
    expect(isAppError(error.cause, '@app/email', EmailErrorCode.INVALID_OPTIONS)).toBe(true);

    // A common mistake: the SDK's region next to clientConfig instead of inside it.
    config.set('email.provider', 'ses');
    config.set('email.providers.ses', { region: 'eu-west-1' });
    error = await attempt();
    expect(error.code).toBe(EmailErrorCode.INVALID_PROVIDER_CONFIG);
    expect(error.message).toMatch(/unknown option 'region' \(known: client, clientConfig,/);

    config.set('email.providers.ses', { clientConfig: { credentials: { accessKeyId: 'AKID' } } });
    error = await attempt();
    expect(error.message).toContain(
      "'clientConfig.credentials' needs a non-empty accessKeyId and secretAccessKey",
    );

    config.set('email.providers.ses', ['eu-west-1']);
    error = await attempt();
    expect(error.message).toMatch(/found an array$/);

    expect(sendgridFake.requests).toHaveLength(0);
    expect(sesFake.requests).toHaveLength(0);
    await email.close();
  });

  it('keeps the working provider when a change is invalid, and logs it', async () => {
    const config = memoryConfig({ 'email.providers.sendgrid': sendgridOptions('SG.one') });
    const logger = spyLogger();
    const email = createEmailService({
      providerFactories: factories(),
      config,
      defaultFrom: 'app@example.com',
      logger,
    });
    await email.send(msg);
    config.set('email.providers.sendgrid', { ...sendgridOptions('SG.one'), apiKey: '' });
    await settle();
    expect(logger.errors).toEqual([
      'could not rebuild the provider from its new config; keeping the previous one',
    ]);
    await email.send(msg);
    config.set('email.providers.sendgrid', undefined); // the key deleted
    await settle();
    expect(logger.errors).toHaveLength(2);
    await email.send(msg);
    expect(bearer()).toEqual(['Bearer SG.one', 'Bearer SG.one', 'Bearer SG.one']);
    await email.close();
  });

  it('uses providersKey and hands the factory the provider name', async () => {
    const config = memoryConfig({ 'tenant.mail.outbox': { maxMessages: 5 } });
    const built: string[] = [];
    const outbox = memoryEmailProvider();
    const email = createEmailService({
      providerFactories: {
        outbox: (options, name) => {
          built.push(`${name} ${JSON.stringify(options)}`);
          return outbox;
        },
      },
      providersKey: 'tenant.mail.',
      config,
      defaultFrom: 'app@example.com',
    });
    const { id } = await email.send(msg);
    expect(built).toEqual(['outbox {"maxMessages":5}']);
    expect(outbox.messages()).toHaveLength(1);
    expect(await email.getStatus(id)).toBe('sent');
    await email.close();
  });

  it('refuses neither, both, or factories without config, with INVALID_OPTIONS', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return isAppError(error, '@app/email') ? `${error.code}: ${error.message}` : String(error);
      }
      return 'no error';
    };
    const config = memoryConfig({});
    const memory = memoryEmailProvider();
    for (const [options, message] of providerOptionMistakes(memory, config)) {
      expect(code(() => createEmailService(options))).toMatch(message);
    }
    expect(
      code(() =>
        createEmailService({ providerFactories: { x: 'nope' as unknown as EmailProviderFactory }, config }),
      ),
    ).toMatch(/^INVALID_OPTIONS: .*providerFactories.x is not a function/);
  });
});
