// DI through OpenTelemetry: spans for async factory and config-bound creations and rebuilds, creation
// counts and durations, with the SDK's in-memory exporters; nothing built when nobody listens.

import { createTestSdk, type TestSdk } from '@app/test-harness/otel';
import * as api from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createContainer, createToken } from './index.js';
import { flush, memoryConfig } from './test/helpers.js';

let sdk: TestSdk | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await sdk?.shutdown();
  sdk = undefined;
});

const DB = createToken<{ url: string }>('Database');
const REPO = createToken<{ db: { url: string } }>('UserRepository');
const MAILER = createToken<{ provider: string }>('Mailer');

function points(metrics: Awaited<ReturnType<TestSdk['metrics']>>, name: string) {
  return metrics.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
}

/** Each data point of metric `name` as `[...the named attributes, value]`. */
function rows(metrics: Awaited<ReturnType<TestSdk['metrics']>>, name: string, ...attributes: string[]) {
  return points(metrics, name).map((p) => [...attributes.map((a) => p.attributes[a]), p.value]);
}

describe('DI telemetry with an SDK', () => {
  it('gives every async creation a span named after its token, nested as resolution nests', async () => {
    sdk = createTestSdk();
    const container = createContainer();
    container.register(DB, {
      lifetime: 'singleton',
      useAsyncFactory: async () => ({ url: 'postgres://db' }),
    });
    container.register(REPO, {
      lifetime: 'transient',
      useAsyncFactory: async (r) => ({ db: await r.resolveAsync(DB) }),
    });
    await container.resolveAsync(REPO);
    await container.resolveAsync(REPO);
    const spans = sdk.spans();
    expect(spans.map((s) => s.name).sort()).toEqual([
      'app.di.create Database',
      'app.di.create UserRepository',
      'app.di.create UserRepository',
    ]);
    const db = spans.find((s) => s.name === 'app.di.create Database')!;
    const firstRepo = spans.find((s) => s.spanContext().spanId === db.parentSpanContext?.spanId)!;
    expect(firstRepo.name).toBe('app.di.create UserRepository');
    expect(db.attributes).toEqual({
      'app.di.token_name': 'Database',
      'app.di.provider': 'async',
      'app.di.lifetime': 'singleton',
    });
    expect(firstRepo.attributes['app.di.lifetime']).toBe('transient');
    const metrics = await sdk.metrics();
    const creations = rows(metrics, 'app.di.creations', 'app.di.token_name', 'app.di.outcome');
    expect(creations).toEqual(
      expect.arrayContaining([
        ['Database', 'success', 1],
        ['UserRepository', 'success', 2],
      ]),
    );
    const duration = points(metrics, 'app.di.creation.duration').find(
      (p) => p.attributes['app.di.token_name'] === 'UserRepository',
    )!;
    expect(duration.value).toMatchObject({ count: 2 });
    expect(metrics.find((m) => m.descriptor.name === 'app.di.creation.duration')!.descriptor.unit).toBe('s');
    await container.dispose();
  });

  it('fails the span of a factory that throws, and counts the error', async () => {
    sdk = createTestSdk();
    const container = createContainer();
    container.register(DB, {
      useAsyncFactory: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
    });
    await expect(container.resolveAsync(DB)).rejects.toThrow('ECONNREFUSED');
    const [span] = sdk.spans();
    expect(span!.status.code).toBe(2);
    expect(span!.attributes['error.type']).toBe('ECONNREFUSED');
    const [point] = points(await sdk.metrics(), 'app.di.creations');
    expect(point!.attributes).toMatchObject({ 'app.di.outcome': 'error', 'error.type': 'ECONNREFUSED' });
    await container.dispose();
  });

  it('traces config-bound creation and every rebuild with its trigger and outcome', async () => {
    sdk = createTestSdk();
    const config = memoryConfig({ 'mail.provider': 'ses' });
    const container = createContainer({ config });
    let fail = false;
    container.register(MAILER, {
      configKey: 'mail.provider',
      useConfigFactory: async (value) => {
        if (fail) throw new Error('bad provider');
        return { provider: String(value) };
      },
    });
    await container.resolveAsync(MAILER);
    config.set('mail.provider', 'sendgrid'); // replaced
    expect(await container.resolveAsync(MAILER)).toEqual({ provider: 'sendgrid' });
    config.set('mail.provider', 'sendgrid'); // same value: unchanged
    await container.resolveAsync(MAILER);
    await container.invalidate(MAILER); // forced: replaced
    fail = true;
    config.set('mail.provider', 'twilio'); // failed: the old instance stays
    expect(await container.resolveAsync(MAILER)).toEqual({ provider: 'sendgrid' });
    await flush();
    const spans = sdk.spans();
    expect(spans[0]!.name).toBe('app.di.create Mailer');
    expect(spans[0]!.attributes['app.di.provider']).toBe('config');
    const rebuilds = spans
      .filter((s) => s.name === 'app.di.rebuild Mailer')
      .map((s) => [
        s.attributes['app.di.rebuild.trigger'],
        s.attributes['app.di.rebuild.outcome'],
        s.status.code,
      ]);
    expect(rebuilds).toEqual([
      ['config_change', 'replaced', 0],
      ['config_change', 'unchanged', 0],
      ['invalidate', 'replaced', 0],
      ['config_change', 'failed', 2],
    ]);
    const counted = rows(
      await sdk.metrics(),
      'app.di.rebuilds',
      'app.di.rebuild.trigger',
      'app.di.rebuild.outcome',
    );
    expect(counted).toEqual(
      expect.arrayContaining([
        ['config_change', 'replaced', 1],
        ['config_change', 'unchanged', 1],
        ['invalidate', 'replaced', 1],
        ['config_change', 'failed', 1],
      ]),
    );
    await container.dispose();
  });

  it('records nothing with telemetry: false', async () => {
    sdk = createTestSdk();
    const container = createContainer({ telemetry: false });
    container.register(DB, { useAsyncFactory: async () => ({ url: 'x' }) });
    await container.resolveAsync(DB);
    expect(sdk.spans()).toEqual([]);
    expect(points(await sdk.metrics(), 'app.di.creations')).toEqual([]);
    await container.dispose();
  });
});

describe('DI telemetry with no SDK', () => {
  it('starts no span and reads no context on async creations', async () => {
    const startSpan = vi.spyOn(api.ProxyTracer.prototype, 'startSpan');
    const active = vi.spyOn(api.context, 'active');
    const container = createContainer();
    container.register(REPO, { lifetime: 'transient', useAsyncFactory: async () => ({ db: { url: 'x' } }) });
    for (let i = 0; i < 3_000; i++) await container.resolveAsync(REPO);
    expect(startSpan).not.toHaveBeenCalled();
    expect(active).not.toHaveBeenCalled();
    await container.dispose();
  });
});
