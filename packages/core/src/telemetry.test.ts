// The shim against the real SDK with in-memory exporters: spans, nesting, failure, links, events, metrics.

import { createTestSdk, type TestSdk } from '@app/test-harness/otel';
import { metrics as metricsApi, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTelemetry } from './telemetry.js';
import { REDACTED_ATTRIBUTE } from './telemetry-scrub.js';
import { extractTraceContext, injectTraceContext } from './trace-context.js';

let sdk: TestSdk | undefined;
afterEach(async () => {
  await sdk?.shutdown();
  sdk = undefined;
});

describe('telemetry with a global SDK', () => {
  it('records a span with its attributes, nested spans as children, and events on the active span', async () => {
    sdk = createTestSdk();
    const telemetry = createTelemetry('@app/test', undefined, '1.2.3');
    expect(telemetry.tracing()).toBe(true);
    const value = await telemetry.withSpan(
      'app.test.outer',
      () => ({ 'app.test.kind': 'outer' }),
      async (outer) => {
        expect(outer).toBeDefined();
        await Promise.resolve();
        telemetry.addEvent('app.test.event', () => ({ 'app.test.n': 1 }));
        return telemetry.withSpan('app.test.inner', { 'app.test.kind': 'inner' }, () => 7);
      },
    );
    expect(value).toBe(7);
    const spans = sdk.spans();
    const outer = spans.find((s) => s.name === 'app.test.outer')!;
    const inner = spans.find((s) => s.name === 'app.test.inner')!;
    expect(outer.attributes).toEqual({ 'app.test.kind': 'outer' });
    expect(outer.instrumentationScope).toMatchObject({ name: '@app/test', version: '1.2.3' });
    expect(inner.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(inner.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(outer.events.map((e) => [e.name, e.attributes])).toEqual([
      ['app.test.event', { 'app.test.n': 1 }],
    ]);
    expect(outer.status.code).toBe(0);
  });

  it('fails the span on a throw or a rejection, with error.type and a scrubbed exception event', async () => {
    sdk = createTestSdk();
    const telemetry = createTelemetry('@app/test');
    const error = Object.assign(new Error('cannot reach alice@example.com'), { code: 'SEND_FAILED' });
    await expect(
      telemetry.withSpan('app.test.reject', undefined, async () => {
        throw error;
      }),
    ).rejects.toBe(error);
    expect(() =>
      telemetry.withSpan('app.test.throw', undefined, () => {
        throw new TypeError('bad');
      }),
    ).toThrow('bad');
    const [rejected, thrown] = sdk.spans();
    expect(rejected!.status.code).toBe(2);
    expect(rejected!.attributes['error.type']).toBe('SEND_FAILED');
    expect(rejected!.events[0]!.attributes).toEqual({
      'exception.type': 'SEND_FAILED',
      [REDACTED_ATTRIBUTE]: 1,
    });
    expect(thrown!.attributes['error.type']).toBe('TypeError');
    expect(thrown!.events[0]!.attributes).toEqual({
      'exception.type': 'TypeError',
      'exception.message': 'bad',
    });
  });

  it('scrubs span attributes', () => {
    sdk = createTestSdk();
    const telemetry = createTelemetry('@app/test');
    telemetry.withSpan(
      'app.test.scrub',
      { 'app.test.ok': 'login', 'user.email': 'x', 'app.to': '+15555550123' },
      () => 1,
    );
    expect(sdk.spans()[0]!.attributes).toEqual({ 'app.test.ok': 'login', [REDACTED_ATTRIBUTE]: 2 });
  });

  it('carries trace context through a string map: a consumer span linked to (or parented on) its producer', () => {
    sdk = createTestSdk();
    const telemetry = createTelemetry('@app/test');
    const carrier = telemetry.withSpan('orders publish', undefined, (span) => span!.inject({}), {
      kind: 'producer',
    });
    expect(carrier.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const producer = sdk.spans()[0]!;
    const remote = extractTraceContext(carrier)!;
    telemetry.withSpan('orders process', undefined, () => undefined, { kind: 'consumer', links: [remote] });
    telemetry.withSpan('orders child', undefined, () => undefined, { parent: remote });
    const [, linked, child] = sdk.spans();
    expect(linked!.kind).toBe(4);
    expect(linked!.links[0]!.context.spanId).toBe(producer.spanContext().spanId);
    expect(linked!.spanContext().traceId).not.toBe(producer.spanContext().traceId);
    expect(child!.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(child!.spanContext().traceId).toBe(producer.spanContext().traceId);
    // The active span's context is injected too.
    telemetry.withSpan('outer', undefined, () => {
      expect(injectTraceContext({}).traceparent).toContain(trace.getActiveSpan()!.spanContext().spanId);
    });
  });

  it('records counters and histograms, created when first used', async () => {
    sdk = createTestSdk();
    const telemetry = createTelemetry('@app/test');
    const counter = telemetry.counter('app.test.count', { unit: '{thing}', description: 'things' });
    const histogram = telemetry.histogram('app.test.duration', { unit: 's', boundaries: [0.1, 1] });
    counter.add(2, { 'app.test.kind': 'a' });
    counter.add(1, () => ({ 'app.test.kind': 'b', phone: '+1 415 555 0123' }));
    histogram.record(0.5);
    const data = await sdk.metrics();
    const count = data.find((m) => m.descriptor.name === 'app.test.count')!;
    expect(count.descriptor.unit).toBe('{thing}');
    expect(count.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'app.test.kind': 'a' }, 2],
      [{ 'app.test.kind': 'b', [REDACTED_ATTRIBUTE]: 1 }, 1],
    ]);
    const duration = data.find((m) => m.descriptor.name === 'app.test.duration')!;
    expect(duration.dataPoints[0]!.value).toMatchObject({
      count: 1,
      sum: 0.5,
      buckets: { boundaries: [0.1, 1] },
    });
  });

  it('follows an SDK registered after the telemetry was created', async () => {
    const telemetry = createTelemetry('@app/test');
    const counter = telemetry.counter('app.test.late');
    expect(telemetry.tracing()).toBe(false);
    counter.add(1);
    sdk = createTestSdk();
    expect(telemetry.tracing()).toBe(true);
    telemetry.withSpan('app.test.late', undefined, () => undefined);
    counter.add(1);
    expect(sdk.spans().map((s) => s.name)).toEqual(['app.test.late']);
    const [late] = await sdk.metrics();
    expect(late!.dataPoints[0]!.value).toBe(1);
  });

  it('follows a meter provider registered alone, within the re-check interval', async () => {
    const telemetry = createTelemetry('@app/test');
    const counter = telemetry.counter('app.test.alone');
    sdk = createTestSdk({ global: false });
    metricsApi.setGlobalMeterProvider(sdk.meterProvider);
    for (let i = 0; i < 2_000; i++) counter.add(1);
    const [alone] = await sdk.metrics();
    expect(alone!.dataPoints[0]!.value).toBeGreaterThan(2_000 - 1_024 - 1);
  });
});

describe('telemetry with explicit providers', () => {
  it('records to the providers given, not the global ones', async () => {
    sdk = createTestSdk({ global: false });
    const telemetry = createTelemetry('@app/test', {
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
    });
    expect(trace.getTracerProvider().getTracer('x').startSpan('y').isRecording()).toBe(false);
    telemetry.withSpan('app.test.explicit', undefined, () => undefined);
    telemetry.counter('app.test.explicit').add(3);
    expect(sdk.spans().map((s) => s.name)).toEqual(['app.test.explicit']);
    expect((await sdk.metrics())[0]!.dataPoints[0]!.value).toBe(3);
  });
});

describe('Telemetry.observableGauge', () => {
  it('reports what its callback observes when the SDK collects, scrubbed, until detached', async () => {
    sdk = createTestSdk();
    const callback = vi.fn((observe: (v: number, a?: Record<string, string>) => void) => {
      observe(7, { 'app.queue': 'orders' });
      observe(1, { 'app.queue': 'alice@example.com' });
    });
    const gauge = createTelemetry('@app/test').observableGauge('app.test.lag', { unit: '{event}' }, callback);
    gauge.attach();
    gauge.attach();
    expect(callback).not.toHaveBeenCalled();
    const points = (await sdk.metrics()).find((m) => m.descriptor.name === 'app.test.lag')!.dataPoints;
    expect(callback).toHaveBeenCalledTimes(1);
    expect(points.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'app.queue': 'orders' }, 7],
      [{ 'app.telemetry.redacted': 1 }, 1],
    ]);
    gauge.detach();
    await sdk.metrics();
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('registers nothing when no SDK listens', () => {
    const callback = vi.fn();
    createTelemetry('@app/test').observableGauge('app.test.lag', {}, callback).attach();
    expect(callback).not.toHaveBeenCalled();
  });
});

describe('Telemetry.tally', () => {
  it('counts per key in process and reports monotonic sums when the SDK collects, scrubbed', async () => {
    sdk = createTestSdk();
    const tally = createTelemetry('@app/test').tally('app.test.checks', { unit: '{check}' });
    const attributes = vi.fn(() => ({ 'app.test.decision': 'allow' }));
    for (let i = 0; i < 5; i++) tally.add('allow', attributes);
    tally.add('deny', { 'app.test.decision': 'deny' }, 2);
    tally.add('who', () => ({ 'app.test.who': 'alice@example.com' }));
    expect(attributes).toHaveBeenCalledTimes(1);
    const read = async () =>
      (await sdk!.metrics())
        .find((m) => m.descriptor.name === 'app.test.checks')!
        .dataPoints.map((p) => [p.attributes, p.value]);
    expect(await read()).toEqual([
      [{ 'app.test.decision': 'allow' }, 5],
      [{ 'app.test.decision': 'deny' }, 2],
      [{ 'app.telemetry.redacted': 1 }, 1],
    ]);
    tally.add('allow', attributes);
    expect((await read())[0]).toEqual([{ 'app.test.decision': 'allow' }, 6]);
  });

  it('counts keys past the 1,999th under otel.metric.overflow, and nothing when no SDK listens', async () => {
    const quiet = createTelemetry('@app/test').tally('app.test.quiet');
    const unused = vi.fn(() => ({}));
    quiet.add('k', unused);
    expect(unused).not.toHaveBeenCalled();
    sdk = createTestSdk();
    const tally = createTelemetry('@app/test').tally('app.test.many');
    for (let i = 0; i < 2_005; i++) tally.add(`k${i}`, { 'app.test.i': i });
    const points = (await sdk.metrics()).find((m) => m.descriptor.name === 'app.test.many')!.dataPoints;
    expect(points).toHaveLength(2_000);
    expect(points.find((p) => p.attributes['otel.metric.overflow'] === true)?.value).toBe(6);
  });

  it('starts from zero on a new provider, like a counter created then', async () => {
    sdk = createTestSdk();
    const tally = createTelemetry('@app/test').tally('app.test.moved');
    tally.add('a', { 'app.test.k': 'a' }, 3);
    await sdk.shutdown();
    sdk = createTestSdk();
    tally.add('a', { 'app.test.k': 'a' });
    const points = (await sdk.metrics()).find((m) => m.descriptor.name === 'app.test.moved')!.dataPoints;
    expect(points.map((p) => p.value)).toEqual([1]);
  });
});

describe('Telemetry.tally, several services in one process', () => {
  it('sums what every service tallies under one instrument, as one synchronous counter would', async () => {
    sdk = createTestSdk();
    const first = createTelemetry('@app/test').tally('app.test.shared');
    const second = createTelemetry('@app/test').tally('app.test.shared');
    first.add('x', { 'app.test.k': 'x' }, 2);
    second.add('x', { 'app.test.k': 'x' }, 3);
    second.add('y', { 'app.test.k': 'y' });
    const points = (await sdk.metrics()).filter((m) => m.descriptor.name === 'app.test.shared');
    expect(points).toHaveLength(1);
    expect(points[0]!.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ 'app.test.k': 'x' }, 5],
      [{ 'app.test.k': 'y' }, 1],
    ]);
  });
});
