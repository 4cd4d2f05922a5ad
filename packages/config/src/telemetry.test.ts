// Config telemetry with the OpenTelemetry SDK's in-memory exporters (core's test SDK), handed over as explicit
// providers.
import { requireRedis } from '@app/test-harness';
// The one test SDK of the repository (core's fixture), rather than a copy.
import { createTestSdk } from '@app/test-harness/otel';
import { context, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { memoryConfigStore } from './adapters/memory.js';
import { redisConfigSync } from './adapters/redis/index.js';
import { inProcessConfigSync } from './in-process-sync.js';
import { createConfigService } from './service.js';

const redis = await requireRedis();
const sdk = createTestSdk({ global: false });
const { tracerProvider } = sdk;
const telemetry = { tracerProvider, meterProvider: sdk.meterProvider };
const spans = {
  getFinishedSpans: () => sdk.spans(),
  reset: () => {
    sdk.spans().length = 0;
  },
};
afterAll(() => sdk.shutdown());

async function metric(name: string) {
  return (await sdk.metrics()).find((m) => m.descriptor.name === name);
}

describe('config telemetry', () => {
  it('get (hit or miss, and the layer that answered), set and propagation; metrics of both', async () => {
    spans.reset();
    const sync = inProcessConfigSync();
    const store = memoryConfigStore();
    const a = createConfigService({ store, sync, telemetry, instanceId: 'a' });
    const b = createConfigService({ store, sync, telemetry, instanceId: 'b' });
    expect(await a.set('email.provider', 'ses')).toBe(1);
    const set = spans.getFinishedSpans().find((s) => s.name === 'app.config.set');
    expect(set?.attributes).toMatchObject({ 'app.config.key': 'email.provider', 'app.config.version': 1 });

    expect(await b.get('email.provider')).toBe('ses');
    const miss = spans.getFinishedSpans().find((s) => s.name === 'app.config.get');
    expect(miss?.attributes).toMatchObject({
      'app.config.key': 'email.provider',
      'app.config.cache.result': 'miss',
      'app.config.layer': 'store',
    });

    // A hit is an event on the caller's span, not a span of its own.
    const request = tracerProvider.getTracer('test').startSpan('request');
    await context.with(trace.setSpan(context.active(), request), () => b.get('email.provider'));
    request.end();
    const parent = spans.getFinishedSpans().find((s) => s.name === 'request');
    expect(parent?.events.map((e) => [e.name, e.attributes])).toEqual([
      [
        'app.config.get',
        {
          'app.config.key': 'email.provider',
          'app.config.cache.result': 'hit',
          'app.config.layer': 'memory',
        },
      ],
    ]);

    await a.set('email.provider', 'sendgrid');
    await vi.waitFor(() => expect(b.peek('email.provider')).toBe('sendgrid'));
    // Every change B heard of (versions 1 and 2), whether or not it had the key cached.
    const received = spans
      .getFinishedSpans()
      .filter((s) => s.name === 'app.config.propagation')
      .at(-1);
    expect(received?.kind).toBe(4); // consumer
    expect(received?.attributes).toMatchObject({
      'app.config.key': 'email.provider',
      'app.config.version': 2,
    });

    const lookups = await metric('app.config.cache.lookups');
    const points = lookups?.dataPoints.map((p) => [p.attributes['app.config.cache.result'], p.value]);
    expect(points).toEqual(
      expect.arrayContaining([
        ['hit', 1],
        ['miss', 1],
      ]),
    );
    const delay = await metric('app.config.propagation.delay');
    expect(delay?.dataPoints[0]?.value).toMatchObject({ count: 2 });
    await a.close();
    await b.close();
  });

  it.skipIf(!redis.available)('a read answered by the Redis cache says so', async () => {
    spans.reset();
    const keyPrefix = `${redis.prefix}otel:`;
    const store = memoryConfigStore();
    const a = createConfigService({ store, sync: redisConfigSync({ client: redis.client(), keyPrefix }) });
    await a.set('k', 1);
    const b = createConfigService({
      store,
      sync: redisConfigSync({ client: redis.client(), keyPrefix }),
      telemetry,
    });
    expect(await b.get('k')).toBe(1);
    const get = spans.getFinishedSpans().find((s) => s.name === 'app.config.get');
    expect(get?.attributes['app.config.layer']).toBe('shared');
    await a.close();
    await b.close();
  });

  it('records nothing with telemetry: false', async () => {
    spans.reset();
    const config = createConfigService({ store: memoryConfigStore(), telemetry: false });
    await config.set('k', 1);
    await config.get('k');
    expect(spans.getFinishedSpans()).toEqual([]);
    await config.close();
  });
});
