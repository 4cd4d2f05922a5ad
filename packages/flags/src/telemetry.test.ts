// Evaluations through OpenTelemetry: `feature_flag.evaluation` events on the active span and the
// `app.flags.evaluations` count, with the SDK's in-memory exporters; nothing built when nobody listens.
import { isSensitiveValue } from '@app/core';
import { createTestSdk, type TestSdk } from '@app/test-harness/otel';
import * as api from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFlags } from './flags.js';
import { memoryConfigSource } from './memory-source.js';
import { setFlag } from './writer.js';

let sdk: TestSdk | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await sdk?.shutdown();
  sdk = undefined;
});

async function demoFlags(telemetry?: Parameters<typeof createFlags>[0]['telemetry']) {
  const source = memoryConfigSource();
  await setFlag(source, 'new-checkout', {
    enabled: true,
    overrides: { 'alice@example.com': 'b' },
    rules: [
      { conditions: [{ attribute: 'phone', operator: 'STR_STARTS_WITH', values: ['+33'] }], variant: 'a' },
    ],
    variants: [
      { name: 'a', weight: 1 },
      { name: 'b', weight: 1 },
    ],
  });
  await setFlag(source, 'dark-mode', { enabled: false });
  const flags = createFlags({ source, telemetry });
  await flags.ready();
  return flags;
}

const USER = { userId: 'alice@example.com', phone: '+33612345678', email: 'alice@example.com' };

describe('flag evaluations with an SDK', () => {
  it('adds a feature_flag.evaluation event (semantic-convention attributes) to the active span', async () => {
    sdk = createTestSdk();
    const flags = await demoFlags();
    const tracer = api.trace.getTracer('test');
    tracer.startActiveSpan('request', (span) => {
      flags.evaluate('new-checkout', USER);
      flags.isEnabled('dark-mode', USER);
      flags.getVariant('missing', USER);
      span.end();
    });
    const [request] = sdk.spans();
    expect(request!.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        'feature_flag.evaluation',
        {
          'feature_flag.key': 'new-checkout',
          'feature_flag.result.variant': 'b',
          'feature_flag.result.reason': 'targeting_match',
          'feature_flag.provider.name': '@app/flags',
        },
      ],
      [
        'feature_flag.evaluation',
        {
          'feature_flag.key': 'dark-mode',
          'feature_flag.result.variant': 'off',
          'feature_flag.result.reason': 'disabled',
          'feature_flag.provider.name': '@app/flags',
        },
      ],
      [
        'feature_flag.evaluation',
        {
          'feature_flag.key': 'missing',
          'feature_flag.result.variant': 'off',
          'feature_flag.result.reason': 'error',
          'error.type': 'flag_not_found',
          'error.message': 'flag "missing" is not defined',
          'feature_flag.provider.name': '@app/flags',
        },
      ],
    ]);
    await flags.close();
  });

  it('counts evaluations by key, variant and reason, with or without an active span', async () => {
    sdk = createTestSdk();
    const flags = await demoFlags();
    for (let i = 0; i < 3; i++) flags.isEnabled('new-checkout', USER);
    flags.evaluateAll({ userId: 'u-1' });
    const metrics = await sdk.metrics();
    const evaluations = metrics.find((m) => m.descriptor.name === 'app.flags.evaluations')!;
    expect(evaluations.descriptor.unit).toBe('{evaluation}');
    const points = evaluations.dataPoints.map((p) => [
      p.attributes['feature_flag.key'],
      p.attributes['feature_flag.result.variant'],
      p.attributes['feature_flag.result.reason'],
      p.value,
    ]);
    expect(points).toContainEqual(['new-checkout', 'b', 'targeting_match', 3]);
    expect(points).toContainEqual(['dark-mode', 'off', 'disabled', 1]);
    expect(points.reduce((n, p) => n + (p[3] as number), 0)).toBe(5);
    await flags.close();
  });

  it('exports no address, phone number or context value in any attribute (scan of a full scenario)', async () => {
    sdk = createTestSdk();
    const flags = await demoFlags();
    const tracer = api.trace.getTracer('test');
    tracer.startActiveSpan('request', (span) => {
      flags.evaluateAll(USER);
      flags.isEnabled('new-checkout', { userId: '+14155550123', sessionId: 'bob@example.org' });
      flags.getVariant('new-checkout', { userId: '(415) 555-0123' });
      span.end();
    });
    const values: unknown[] = [];
    for (const span of sdk.spans()) {
      values.push(...Object.values(span.attributes));
      for (const event of span.events) values.push(...Object.values(event.attributes ?? {}));
    }
    for (const metric of await sdk.metrics())
      for (const point of metric.dataPoints) values.push(...Object.values(point.attributes));
    expect(values.length).toBeGreaterThan(10);
    for (const value of values.flat()) {
      if (typeof value === 'string') expect(isSensitiveValue(value), value).toBe(false);
      expect(String(value)).not.toMatch(/example\.(com|org)|4155550123|612345678/);
    }
    await flags.close();
  });

  it('sees an SDK registered after it started evaluating within 64 evaluations', async () => {
    const flags = await demoFlags();
    // Nobody listens yet: the look at the globals finds nothing, and the next looks are spaced out.
    expect(flags.isEnabled('dark-mode', USER)).toBe(false);
    sdk = createTestSdk();
    api.trace.getTracer('test').startActiveSpan('request', (span) => {
      for (let i = 0; i < 65; i++) flags.isEnabled('dark-mode', USER);
      span.end();
    });
    const recorded = sdk.spans()[0]!.events.filter((e) => e.name === 'feature_flag.evaluation').length;
    expect(recorded).toBeGreaterThanOrEqual(1);
    expect(65 - recorded).toBeLessThanOrEqual(64);
    await flags.close();
  });

  it('records nothing with telemetry: false', async () => {
    sdk = createTestSdk();
    const flags = await demoFlags(false);
    api.trace.getTracer('test').startActiveSpan('request', (span) => {
      flags.evaluate('new-checkout', USER);
      span.end();
    });
    expect(sdk.spans()[0]!.events).toEqual([]);
    expect((await sdk.metrics()).filter((m) => m.descriptor.name === 'app.flags.evaluations')).toEqual([]);
    await flags.close();
  });
});

describe('flag evaluations with no SDK', () => {
  it('builds no span, reads no active span and computes no attributes', async () => {
    const flags = await demoFlags();
    const startSpan = vi.spyOn(api.ProxyTracer.prototype, 'startSpan');
    const activeSpan = vi.spyOn(api.trace, 'getActiveSpan');
    const active = vi.spyOn(api.context, 'active');
    for (let i = 0; i < 5_000; i++) {
      flags.isEnabled('new-checkout', { userId: `u-${i}` });
      flags.evaluate('new-checkout', { userId: `u-${i}` });
      flags.getVariant('dark-mode', { userId: `u-${i}` });
    }
    expect(startSpan).not.toHaveBeenCalled();
    expect(activeSpan).not.toHaveBeenCalled();
    expect(active).not.toHaveBeenCalled();
    await flags.close();
  });
});
