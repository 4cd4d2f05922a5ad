import { describe, expect, it } from 'vitest';
import type { ConfigSource, ConfiguredProvidersOptions, Logger } from './index.js';
import {
  ConfiguredProvidersError,
  ConfiguredProvidersErrorCode,
  configuredProviders,
  createProviderRouter,
  isAppError,
} from './index.js';
import { deferred, memoryConfigSource as memoryConfig } from './testing.js';

interface Fake {
  id: number;
  token: string;
  closed: boolean;
  close(): Promise<void>;
}

/** A factory that validates `{ token: string }` and records what it built. */
function fakeFactory(log: string[] = []) {
  let next = 0;
  const built: Fake[] = [];
  const factory = (options: unknown): Fake => {
    const token = (options as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token === '') {
      log.push('invalid');
      throw new TypeError('token must be a non-empty string');
    }
    const fake: Fake = {
      id: ++next,
      token,
      closed: false,
      async close() {
        fake.closed = true;
        log.push(`dispose ${fake.id}`);
      },
    };
    log.push(`build ${fake.id} (${token})`);
    built.push(fake);
    return fake;
  };
  return { factory, built, log };
}

function spyLogger(): Logger & { entries: Array<{ level: string; msg?: string; obj: object }> } {
  const entries: Array<{ level: string; msg?: string; obj: object }> = [];
  const at = (level: string) => (obj: object, msg?: string) => entries.push({ level, msg, obj });
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Runs every pending microtask (the memory config and the fake factory never wait on I/O). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Providers over `config` (prefix `p`) with one fake factory, `a`. */
function fakeProviders(
  config: ConfigSource,
  factory: (options: unknown) => Fake,
  more: Partial<ConfiguredProvidersOptions<Fake>> = {},
) {
  return configuredProviders<Fake>({ config, keyPrefix: 'p', factories: { a: factory }, ...more });
}

/** Providers over `config` (prefix `p`) whose one factory, `a`, runs `step(token)` and builds `{ token }`. */
function tokenProviders(
  config: ConfigSource,
  step: (token: string) => unknown,
  more: Partial<ConfiguredProvidersOptions<{ token: string }>> = {},
) {
  return configuredProviders<{ token: string }>({
    config,
    keyPrefix: 'p',
    factories: {
      a: async (options) => {
        const token = (options as { token: string }).token;
        await step(token);
        return { token };
      },
    },
    ...more,
  });
}

describe('configuredProviders', () => {
  it('builds nothing and reads nothing before the first use', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' } });
    const { factory, built } = fakeFactory();
    const providers = configuredProviders<Fake>({ config, keyPrefix: 'p', factories: { a: factory } });
    expect(providers.names).toEqual(['a']);
    expect(built).toHaveLength(0);
    expect(config.reads).toBe(0);
    expect(config.watcherCount('p.a')).toBe(0);
    expect(providers.peek('a')).toBeUndefined();
    expect((await providers.get('a')).token).toBe('t1');
    expect(providers.peek('a')?.token).toBe('t1');
    expect(config.watcherCount('p.a')).toBe(1);
    await providers.close();
  });

  it('builds once for 1,000 concurrent first uses (single flight)', async () => {
    const config = memoryConfig({ 'email.providers.a': { token: 't1' } });
    const gate = deferred();
    let calls = 0;
    const providers = configuredProviders<{ token: string }>({
      config,
      keyPrefix: 'email.providers.',
      factories: {
        a: async (options) => {
          calls++;
          await gate.promise;
          return { token: (options as { token: string }).token };
        },
      },
    });
    const all = Array.from({ length: 1000 }, (_, i) =>
      i % 2 ? providers.get('a') : providers.use('a', (p) => p),
    );
    await settle();
    gate.resolve();
    const results = await Promise.all(all);
    expect(calls).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(config.reads).toBe(1);
    expect(config.watcherCount('email.providers.a')).toBe(1);
    await providers.close();
  });

  it('passes the factory error through and caches nothing, so a fixed config works on the next use', async () => {
    const config = memoryConfig({ 'p.a': { token: '' } });
    const { factory, built } = fakeFactory();
    const providers = configuredProviders<Fake>({ config, keyPrefix: 'p', factories: { a: factory } });
    let called = false;
    await expect(
      providers.use('a', () => {
        called = true;
      }),
    ).rejects.toThrow(TypeError);
    expect(called).toBe(false);
    await expect(providers.get('a')).rejects.toThrow('token must be a non-empty string');
    config.set('p.a', { token: 'fixed' });
    await settle();
    expect(built).toHaveLength(0); // nothing built yet: the change alone builds nothing
    expect((await providers.get('a')).token).toBe('fixed');
    await providers.close();
  });

  it('rebuilds when the key changes: builds the new one, swaps it in, then disposes the old one', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' }, 'p.b': { token: 'b1' } });
    const log: string[] = [];
    const { factory } = fakeFactory(log);
    const logger = spyLogger();
    const providers = configuredProviders<Fake>({
      config,
      keyPrefix: 'p',
      factories: { a: factory, b: factory },
      dispose: async (p, name) => {
        // At disposal time the new provider is already the one handed out.
        log.push(`dispose ${p.id} of ${name}; current is ${providers.peek(name)?.id}`);
        await p.close();
      },
      logger,
    });
    const first = await providers.get('a');
    await providers.get('b');
    config.set('p.a', { token: 't2' });
    await settle();
    const second = await providers.get('a');
    expect(second.token).toBe('t2');
    expect(first.closed).toBe(true);
    expect(second.closed).toBe(false);
    expect(log).toEqual([
      'build 1 (t1)',
      'build 2 (b1)',
      'build 3 (t2)',
      'dispose 1 of a; current is 3',
      'dispose 1',
    ]);
    expect(logger.entries.map((e) => e.msg)).toContain('provider rebuilt from its new config');
    expect(JSON.stringify(logger.entries)).not.toContain('t2'); // never logs the options
    await providers.close();
  });

  it('does not rebuild for an equal value, and coalesces a burst of changes', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' } });
    const { factory, built } = fakeFactory();
    const providers = configuredProviders<Fake>({ config, keyPrefix: 'p', factories: { a: factory } });
    await providers.get('a');
    config.set('p.a', { token: 't1' });
    await settle();
    expect(built).toHaveLength(1);
    config.set('p.a', { token: 'x' });
    config.set('p.a', { token: 'y' });
    config.set('p.a', { token: 'z' });
    await settle();
    expect((await providers.get('a')).token).toBe('z');
    expect(built.map((b) => b.token)).toEqual(['t1', 'z']);
    await providers.close();
  });

  it('keeps the old provider when a rebuild fails, logs it, and rebuilds on the next valid change', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' } });
    const { factory, built } = fakeFactory();
    const logger = spyLogger();
    const providers = fakeProviders(config, factory, { logger });
    const first = await providers.get('a');
    config.set('p.a', { token: 42 });
    await settle();
    expect(await providers.get('a')).toBe(first);
    expect(first.closed).toBe(false);
    const failure = logger.entries.find((e) => e.level === 'error');
    expect(failure?.msg).toMatch(/keeping the previous one/);
    expect(failure?.obj).toMatchObject({ provider: 'a', key: 'p.a' });
    expect((failure?.obj as { err?: unknown } | undefined)?.err).toBeInstanceOf(TypeError);

    config.set('p.a', { token: 't3' });
    await settle();
    expect((await providers.get('a')).token).toBe('t3');
    expect(first.closed).toBe(true);
    expect(built).toHaveLength(2);
    await providers.close();
  });

  it('keeps the old provider when config cannot be read during a rebuild', async () => {
    const inner = memoryConfig({ 'p.a': { token: 't1' } });
    let down = false;
    const config: ConfigSource = {
      get: (key) => (down ? Promise.reject(new Error('store down')) : inner.get(key)),
      watch: (key, cb) => inner.watch(key, cb),
    };
    const { factory } = fakeFactory();
    const logger = spyLogger();
    const providers = fakeProviders(config, factory, { logger });
    const first = await providers.get('a');
    down = true;
    inner.set('p.a', { token: 't2' });
    await settle();
    expect(await providers.get('a')).toBe(first);
    expect(logger.entries.filter((e) => e.level === 'error')).toHaveLength(1);
    await providers.close();
  });

  it('disposes a replaced provider only after the calls in flight on it settle', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' } });
    const log: string[] = [];
    const { factory } = fakeFactory(log);
    const providers = configuredProviders<Fake>({ config, keyPrefix: 'p', factories: { a: factory } });
    const release = deferred();
    const inFlight = providers.use('a', async (p) => {
      await release.promise;
      log.push(`call on ${p.id} done (closed: ${p.closed})`);
      return p.id;
    });
    await settle();
    config.set('p.a', { token: 't2' });
    await settle();
    // The new one is served while the old one still has a call in flight.
    expect(await providers.use('a', (p) => p.id)).toBe(2);
    expect(log).toEqual(['build 1 (t1)', 'build 2 (t2)']);
    release.resolve();
    expect(await inFlight).toBe(1);
    await settle();
    expect(log).toEqual(['build 1 (t1)', 'build 2 (t2)', 'call on 1 done (closed: false)', 'dispose 1']);
    await providers.close();
  });

  it('rebuilds after a first build during which the key changed', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' } });
    const gate = deferred();
    const tokens: string[] = [];
    const providers = tokenProviders(config, async (token) => {
      tokens.push(token);
      if (token === 't1') await gate.promise;
    });
    const first = providers.get('a');
    await settle();
    config.set('p.a', { token: 't2' });
    gate.resolve();
    expect((await first).token).toBe('t1');
    await settle();
    expect((await providers.get('a')).token).toBe('t2');
    expect(tokens).toEqual(['t1', 't2']);
    await providers.close();
  });

  it('close() stops watching, waits for calls in flight, disposes everything, and refuses later use', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' }, 'p.b': { token: 'b1' } });
    const log: string[] = [];
    const { factory, built } = fakeFactory(log);
    const providers = configuredProviders<Fake>({
      config,
      keyPrefix: 'p',
      factories: { a: factory, b: factory },
    });
    await providers.get('a');
    await providers.get('b');
    const release = deferred();
    const inFlight = providers.use('a', () => release.promise.then(() => log.push('call done')));
    await settle();
    const closing = providers.close();
    expect(config.watcherCount('p.a')).toBe(0);
    expect(config.watcherCount('p.b')).toBe(0);
    await settle();
    expect(built[0]?.closed).toBe(false); // a call is still running on it
    expect(built[1]?.closed).toBe(true);
    release.resolve();
    await inFlight;
    await closing;
    expect(built.every((b) => b.closed)).toBe(true);
    expect(log.indexOf('call done')).toBeLessThan(log.indexOf('dispose 1'));
    expect(providers.close()).toBe(closing);
    const error = await providers.get('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfiguredProvidersError);
    expect(isAppError(error, '@app/core', ConfiguredProvidersErrorCode.CLOSED)).toBe(true);
    await expect(providers.use('b', () => 1)).rejects.toMatchObject({ code: 'CLOSED' });
    expect(built).toHaveLength(2);
  });

  it('close() during a first build disposes what that build made and rejects its callers', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' } });
    const gate = deferred();
    const disposed: string[] = [];
    const providers = tokenProviders(config, () => gate.promise, {
      dispose: (p) => {
        disposed.push(p.token);
      },
      packageName: '@app/email',
    });
    const pending = providers.get('a');
    await settle();
    const closing = providers.close();
    gate.resolve();
    await expect(pending).rejects.toSatisfy((e) => isAppError(e, '@app/email', 'CLOSED'));
    await closing;
    expect(disposed).toEqual(['t1']);
  });

  it('logs a failing dispose instead of throwing', async () => {
    const config = memoryConfig({ 'p.a': { token: 't1' } });
    const logger = spyLogger();
    const providers = configuredProviders<{ token: string }>({
      config,
      keyPrefix: 'p',
      factories: { a: (o) => ({ token: (o as { token: string }).token }) },
      dispose: () => {
        throw new Error('boom');
      },
      logger,
    });
    await providers.get('a');
    await providers.close();
    expect(logger.entries.find((e) => e.level === 'error')?.msg).toBe('could not dispose a provider');
  });

  it('rejects unusable options and unknown names with typed errors', async () => {
    const config = memoryConfig();
    const make = (o: object) => () =>
      configuredProviders({ config, keyPrefix: 'p', factories: { a: () => ({}) }, ...o });
    expect(make({ keyPrefix: '' })).toThrow(/keyPrefix/);
    expect(make({ factories: {} })).toThrow(/at least one provider/);
    expect(make({ factories: { a: 'nope' } })).toThrow(/'a' is not a function/);
    expect(make({ config: { get: async () => undefined } })).toThrow(/config source/);
    try {
      make({ keyPrefix: '.' })();
      expect.unreachable();
    } catch (error) {
      expect(isAppError(error, '@app/core', ConfiguredProvidersErrorCode.INVALID_OPTIONS)).toBe(true);
    }
    const providers = make({})();
    await expect(providers.get('b')).rejects.toMatchObject({
      code: ConfiguredProvidersErrorCode.UNKNOWN_PROVIDER,
      message: "[@app/core] no factory for provider 'b' (known: 'a')",
    });
    await expect(providers.get('__proto__')).rejects.toMatchObject({ code: 'UNKNOWN_PROVIDER' });
    await providers.close();
  });
});

describe('createProviderRouter over configuredProviders', () => {
  class HttpError extends Error {
    constructor(readonly status: number) {
      super(`HTTP ${status}`);
    }
  }
  const classify = (e: unknown) =>
    e instanceof HttpError && e.status >= 500
      ? { kind: 'transient' as const }
      : { kind: 'permanent' as const };

  it('picks providers from config, resolves them lazily, and uses a rebuilt one on the next call', async () => {
    const config = memoryConfig({
      'x.provider': 'b',
      'x.providers.a': { token: 'a1' },
      'x.providers.b': { token: 'b1' },
    });
    const { factory, built } = fakeFactory();
    const providers = configuredProviders<Fake>({
      config,
      keyPrefix: 'x.providers',
      factories: { a: factory, b: factory },
    });
    const router = createProviderRouter({ providers, config, providerKey: 'x.provider', classify });
    expect(await router.chain()).toEqual(['b']);
    expect((await router.run(async (p) => p.token)).value).toBe('b1');
    expect(built.map((b) => b.token)).toEqual(['b1']); // 'a' is never built while unused

    config.set('x.providers.b', { token: 'b2' });
    await settle();
    expect(await router.run(async (p) => p.token)).toEqual({
      value: 'b2',
      provider: 'b',
      attempts: 1,
      failovers: 0,
    });

    config.set('x.provider', 'a');
    expect((await router.run(async (p) => p.token)).value).toBe('a1');

    config.set('x.provider', 'c');
    await expect(router.run(async (p) => p.token)).rejects.toMatchObject({ code: 'UNKNOWN_PROVIDER' });
    await providers.close();
  });

  it('rejects with the factory error, without any attempt, when the config is invalid', async () => {
    const config = memoryConfig({ 'x.providers.a': { token: 1 } });
    const { factory } = fakeFactory();
    const providers = configuredProviders<Fake>({
      config,
      keyPrefix: 'x.providers',
      factories: { a: factory },
    });
    const router = createProviderRouter({ providers, classify: () => ({ kind: 'provider' }) });
    let calls = 0;
    await expect(router.run(async () => ++calls)).rejects.toThrow(TypeError);
    expect(calls).toBe(0);
    await providers.close();
  });

  it('a retry runs on the provider rebuilt since the failed attempt', async () => {
    const config = memoryConfig({ 'x.providers.a': { token: 'old' } });
    const { factory } = fakeFactory();
    const providers = configuredProviders<Fake>({
      config,
      keyPrefix: 'x.providers',
      factories: { a: factory },
    });
    const router = createProviderRouter({ providers, classify, retry: { baseDelayMs: 1, maxDelayMs: 1 } });
    const seen: string[] = [];
    const result = await router.run(async (p) => {
      seen.push(p.token);
      if (p.token === 'old') {
        config.set('x.providers.a', { token: 'new' });
        await settle();
        throw new HttpError(503);
      }
      return p.token;
    });
    expect(result).toEqual({ value: 'new', provider: 'a', attempts: 2, failovers: 0 });
    expect(seen).toEqual(['old', 'new']);
    await providers.close();
  });
});
