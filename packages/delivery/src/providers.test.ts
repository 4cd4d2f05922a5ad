import { type ConfigSource, defineErrors, type ProviderAttempt } from '@app/core';
import { describe, expect, it } from 'vitest';
import { classifyFailure } from './failures.js';
import { DELIVERY_ERROR_CODES, type DeliveryChannel, deliveryProviders } from './providers.js';

const kit = defineErrors('@app/test', DELIVERY_ERROR_CODES);
class ChannelError extends kit.Base {
  attempts: readonly ProviderAttempt[] = [];
}

interface Provider {
  send(): Promise<string>;
}
type Factory = (options: never, name: string) => Provider;

const channel: DeliveryChannel<Provider> = {
  channel: 'test',
  classify: classifyFailure,
  error: (code, message, details) =>
    Object.assign(new ChannelError(code, message, { cause: details.cause }), {
      attempts: details.attempts ?? [],
    }),
};

function memoryConfig(values: Record<string, unknown>): ConfigSource {
  return {
    get: async (key) => values[key],
    watch: () => () => {},
  };
}

describe('deliveryProviders', () => {
  it('turns every provider failing into the channel error, attempts kept', async () => {
    const down = { send: () => Promise.reject(Object.assign(new Error('down'), { status: 401 })) };
    const providers = deliveryProviders<Provider, Factory>({ providers: { a: down, b: down } }, channel);
    const error = await providers.run((p) => p.send()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelError);
    expect(kit.is(error, 'ALL_PROVIDERS_FAILED')).toBe(true);
    expect((error as ChannelError).attempts.map((a) => a.provider)).toEqual(['a', 'b']);
    expect((error as Error).message).toMatch(/^\[@app\/test\] every provider failed/);
  });

  it('turns an empty provider record into NO_PROVIDER at call time', async () => {
    const providers = deliveryProviders<Provider, Factory>({ providers: {} }, channel);
    const error = await providers.run((p) => p.send()).catch((e: unknown) => e);
    expect(kit.is(error, 'NO_PROVIDER')).toBe(true);
  });

  it('turns an unknown provider in config into the channel error', async () => {
    const ok = { send: async () => 'id' };
    const providers = deliveryProviders<Provider, Factory>(
      { providers: { a: ok }, config: memoryConfig({ 'test.provider': 'nope' }) },
      channel,
    );
    for (const call of [() => providers.chain(), () => providers.run((p) => p.send())]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ChannelError);
      expect(kit.is(error, 'UNKNOWN_PROVIDER')).toBe(true);
    }
  });

  it('passes a permanent provider error through unchanged', async () => {
    const rejected = Object.assign(new Error('bad recipient'), { status: 400 });
    const providers = deliveryProviders<Provider, Factory>(
      { providers: { a: { send: () => Promise.reject(rejected) } } },
      channel,
    );
    await expect(providers.run((p) => p.send())).rejects.toBe(rejected);
  });

  it('checks the options before any I/O, with the channel error', () => {
    const bad = [
      undefined,
      {},
      { providers: { a: {} } },
      { providers: { a: { send: async () => '' } }, providerFactories: { a: () => ({}) } },
      { providerFactories: {} },
      { providerFactories: { a: 'x' } },
      { providerFactories: { a: () => ({}) } },
      { providerFactories: { a: () => ({}) }, config: memoryConfig({}), providersKey: '.' },
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        deliveryProviders(options as never, channel);
      } catch (e) {
        error = e;
      }
      expect(kit.is(error, 'INVALID_OPTIONS'), JSON.stringify(options)).toBe(true);
    }
  });

  it('builds providers from config, translating a bad config into INVALID_PROVIDER_CONFIG', async () => {
    const built: unknown[] = [];
    const providers = deliveryProviders<Provider, Factory>(
      {
        providerFactories: {
          good: (options: never) => {
            built.push(options);
            return { send: async () => 'ok' };
          },
          bad: () => {
            throw new Error('[@app/test] apiKey is missing');
          },
        },
        config: memoryConfig({ 'test.providers.good': { apiKey: 'k' }, 'test.providers.bad': {} }),
        defaultChain: ['good'],
      },
      channel,
    );
    expect((await providers.run((p) => p.send())).value).toBe('ok');
    expect(built).toEqual([{ apiKey: 'k' }]);
    expect(providers.built()).toHaveLength(1);
    const error = await providers.get('bad').catch((e: unknown) => e);
    expect(kit.is(error, 'INVALID_PROVIDER_CONFIG')).toBe(true);
    expect((error as Error).message).toContain(
      "provider 'bad' cannot be built from config key 'test.providers.bad': apiKey is missing",
    );
    expect(await providers.get('missing')).toBeUndefined();
    await providers.close();
    const closed = await providers.run((p) => p.send()).catch((e: unknown) => e);
    expect(kit.is(closed, 'CLOSED')).toBe(true);
  });
});
