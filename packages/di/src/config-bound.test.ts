import type { StandardSchemaV1 } from '@app/core';
import { describe, expect, it, vi } from 'vitest';
import { CONFIG_SOURCE, createContainer, createToken, DiError, DiErrorCode } from './index.js';
import { deferred, flush, memoryConfig } from './test/helpers.js';

interface Provider {
  readonly name: string;
  readonly id: number;
  disposed: boolean;
}
const EMAIL = createToken<Provider>('EmailProvider');

function setup(initial: unknown = 'ses') {
  const config = memoryConfig({ 'email.provider': initial });
  const events: string[] = [];
  const errors: unknown[] = [];
  let id = 0;
  let gate: Promise<void> | undefined;
  let failNext: Error | undefined;
  const container = createContainer({ config, onError: (e) => errors.push(e) });
  container.register(EMAIL, {
    configKey: 'email.provider',
    useConfigFactory: async (value) => {
      const n = ++id;
      events.push(`build ${value} #${n}`);
      if (gate) await gate;
      if (failNext) {
        const err = failNext;
        failNext = undefined;
        throw err;
      }
      return { name: String(value), id: n, disposed: false };
    },
    dispose: (p) => {
      events.push(`dispose ${p.name} #${p.id}`);
      p.disposed = true;
    },
  });
  return {
    config,
    container,
    events,
    errors,
    hold() {
      const d = deferred();
      gate = d.promise;
      return () => {
        gate = undefined;
        d.resolve();
      };
    },
    failNextBuild(err: Error) {
      failNext = err;
    },
  };
}

describe('config-bound factories', () => {
  it('builds from the config value and rebuilds when it changes: new built, swapped, old disposed', async () => {
    const { config, container, events } = setup();
    const first = await container.resolveAsync(EMAIL);
    expect(first.name).toBe('ses');
    config.set('email.provider', 'sendgrid');
    await flush();
    const second = await container.resolveAsync(EMAIL);
    expect(second.name).toBe('sendgrid');
    expect(first.disposed).toBe(true);
    expect(second.disposed).toBe(false);
    expect(events).toEqual(['build ses #1', 'build sendgrid #2', 'dispose ses #1']);
  });

  it('shares one rebuild among the resolves that arrive during it', async () => {
    const { config, container, events, hold } = setup();
    const first = await container.resolveAsync(EMAIL);
    const release = hold();
    config.set('email.provider', 'sendgrid');
    await flush();
    const during = Array.from({ length: 100 }, () => container.resolveAsync(EMAIL));
    expect(first.disposed).toBe(false); // still serving while the replacement is built
    release();
    const got = await Promise.all(during);
    expect(new Set(got).size).toBe(1);
    expect(got[0]?.name).toBe('sendgrid');
    await flush();
    expect(events.filter((e) => e.startsWith('build'))).toEqual(['build ses #1', 'build sendgrid #2']);
    expect(first.disposed).toBe(true);
  });

  it('keeps the old instance when a rebuild fails, reports the error, and recovers on the next change', async () => {
    const { config, container, errors, failNextBuild } = setup();
    const first = await container.resolveAsync(EMAIL);
    failNextBuild(new Error('bad credentials'));
    config.set('email.provider', 'sendgrid');
    await flush();
    expect(await container.resolveAsync(EMAIL)).toBe(first);
    expect(first.disposed).toBe(false);
    expect(errors).toHaveLength(1);
    const err = errors[0] as DiError;
    expect(err).toBeInstanceOf(DiError);
    expect(err.code).toBe(DiErrorCode.REBUILD_FAILED);
    expect((err.cause as Error).message).toBe('bad credentials');

    config.set('email.provider', 'mailgun');
    await flush();
    expect((await container.resolveAsync(EMAIL)).name).toBe('mailgun');
    expect(first.disposed).toBe(true);
  });

  it('logs background failures through the logger', async () => {
    const config = memoryConfig({ k: 1 });
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const c = createContainer({ config, logger });
    let n = 0;
    c.register('svc', {
      configKey: 'k',
      useConfigFactory: () => {
        if (++n > 1) throw new Error('nope');
        return {};
      },
    });
    await c.resolveAsync('svc');
    config.set('k', 2);
    await flush();
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]?.[0]).toMatchObject({ token: 'svc' });
  });

  it('does not rebuild when the value did not change', async () => {
    const { config, container, events } = setup({ region: 'eu', pool: 2 });
    const first = await container.resolveAsync(EMAIL);
    config.set('email.provider', { region: 'eu', pool: 2 });
    await flush();
    expect(await container.resolveAsync(EMAIL)).toBe(first);
    expect(events).toHaveLength(1);
  });

  it('rebuilds again when the value changes during the first build', async () => {
    const { config, container, hold } = setup();
    const release = hold();
    const pending = container.resolveAsync(EMAIL);
    await flush();
    config.set('email.provider', 'sendgrid');
    release();
    expect((await pending).name).toBe('ses');
    await flush();
    await flush();
    expect((await container.resolveAsync(EMAIL)).name).toBe('sendgrid');
  });

  it('invalidate() rebuilds on demand and rejects (keeping the old instance) when that fails', async () => {
    const { container, events, failNextBuild } = setup();
    const first = await container.resolveAsync(EMAIL);
    await container.invalidate(EMAIL);
    const second = await container.resolveAsync(EMAIL);
    expect(second).not.toBe(first);
    expect(first.disposed).toBe(true);
    expect(events).toEqual(['build ses #1', 'build ses #2', 'dispose ses #1']);

    failNextBuild(new Error('boom'));
    const err = await container.invalidate(EMAIL).catch((e: unknown) => e);
    expect((err as DiError).code).toBe(DiErrorCode.REBUILD_FAILED);
    expect(await container.resolveAsync(EMAIL)).toBe(second);
  });

  it('drops the cached instances that were built with the old one', async () => {
    const { config, container } = setup();
    const SIGNUP = createToken<{ email: Provider }>('Signup');
    container.register(SIGNUP, {
      lifetime: 'singleton',
      useAsyncFactory: async (r) => ({ email: await r.resolveAsync(EMAIL) }),
      dispose: () => {},
    });
    const before = await container.resolveAsync(SIGNUP);
    expect(before.email.name).toBe('ses');
    config.set('email.provider', 'sendgrid');
    await flush();
    const after = await container.resolveAsync(SIGNUP);
    expect(after).not.toBe(before);
    expect(after.email.name).toBe('sendgrid');
  });

  it('validates the value with a Standard Schema and types the factory argument', async () => {
    const provider: StandardSchemaV1<unknown, 'ses' | 'sendgrid'> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate: (v) =>
          v === 'ses' || v === 'sendgrid' ? { value: v } : { issues: [{ message: 'unknown provider' }] },
      },
    };
    const config = memoryConfig({ 'email.provider': 'pigeon' });
    const c = createContainer({ config });
    c.register(EMAIL, {
      configKey: 'email.provider',
      schema: provider,
      useConfigFactory: (value: 'ses' | 'sendgrid') => ({ name: value, id: 1, disposed: false }),
    });
    const err = (await c.resolveAsync(EMAIL).catch((e: unknown) => e)) as DiError;
    expect(err.code).toBe(DiErrorCode.INVALID_CONFIG);
    expect(err.message).toContain('unknown provider');
    config.set('email.provider', 'ses');
    expect((await c.resolveAsync(EMAIL)).name).toBe('ses');
  });

  it('needs a config source, and says which provider asked for it', async () => {
    const c = createContainer();
    c.register(EMAIL, {
      configKey: 'email.provider',
      useConfigFactory: (v) => ({ name: String(v), id: 0, disposed: false }),
    });
    const err = (await c.resolveAsync(EMAIL).catch((e: unknown) => e)) as DiError;
    expect(err.code).toBe(DiErrorCode.NOT_REGISTERED);
    expect(err.message).toContain('EmailProvider -> ConfigSource');
    c.register(CONFIG_SOURCE, { useValue: memoryConfig({ 'email.provider': 'ses' }) });
    expect((await c.resolveAsync(EMAIL)).name).toBe('ses');
  });

  it('stops watching on dispose and ignores later changes', async () => {
    const { config, container, events } = setup();
    await container.resolveAsync(EMAIL);
    expect(config.watcherCount('email.provider')).toBe(1);
    await container.dispose();
    expect(config.watcherCount('email.provider')).toBe(0);
    config.set('email.provider', 'sendgrid');
    await flush();
    expect(events).toEqual(['build ses #1', 'dispose ses #1']);
  });
});
