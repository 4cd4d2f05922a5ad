// With the API installed but no SDK registered (and with the API absent), nothing is built: no span, no
// attribute object, no wrapped promise. Counted, not timed.
import * as api from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTelemetry } from './telemetry.js';
import { loadApi, setApiForTesting } from './telemetry-api.js';
import { quietListener } from './telemetry-listening.js';
import { extractTraceContext, injectTraceContext } from './trace-context.js';

afterEach(() => {
  vi.restoreAllMocks();
  setApiForTesting(undefined);
});

function exercise(telemetry: ReturnType<typeof createTelemetry>, thunk: () => api.Attributes) {
  const counter = telemetry.counter('app.test.count');
  const histogram = telemetry.histogram('app.test.duration', { unit: 's' });
  const results: unknown[] = [];
  for (let i = 0; i < 2_000; i++) {
    results.push(telemetry.withSpan('app.test.sync', thunk, (span) => span));
    counter.add(1, thunk);
    histogram.record(0.5, thunk);
    telemetry.addEvent('app.test.event', thunk);
    results.push(telemetry.startSpan('app.test.manual', thunk));
  }
  return results;
}

describe('telemetry with the API installed and no SDK', () => {
  it('starts no span, computes no attributes, and hands fn no span', async () => {
    const startSpan = vi.spyOn(api.ProxyTracer.prototype, 'startSpan');
    const getTracer = vi.spyOn(api.ProxyTracerProvider.prototype, 'getTracer');
    const thunk = vi.fn(() => ({ 'app.test': 'x' }));
    const telemetry = createTelemetry('@app/test');
    expect(loadApi()).not.toBeNull();
    expect(telemetry.enabled()).toBe(false);
    expect(telemetry.tracing()).toBe(false);
    expect(telemetry.metering()).toBe(false);
    const results = exercise(telemetry, thunk);
    expect(results.every((r) => r === undefined)).toBe(true);
    expect(startSpan).not.toHaveBeenCalled();
    expect(getTracer).not.toHaveBeenCalled();
    expect(thunk).not.toHaveBeenCalled();
  });

  it('returns fn’s own promise: nothing wrapped, nothing awaited', async () => {
    const telemetry = createTelemetry('@app/test');
    const promise = Promise.resolve(42);
    expect(telemetry.withSpan('app.test.async', undefined, () => promise)).toBe(promise);
  });

  it('injects nothing and extracts what a producer wrote', () => {
    expect(injectTraceContext({})).toEqual({});
    const sc = extractTraceContext({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    });
    expect(sc).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    });
  });
});

describe('telemetry with the API absent', () => {
  it('does nothing and throws nothing', () => {
    setApiForTesting(null);
    const thunk = vi.fn(() => ({ 'app.test': 'x' }));
    const telemetry = createTelemetry('@app/test', {
      tracerProvider: {
        getTracer: () => {
          throw new Error('never');
        },
      },
    });
    expect(telemetry.enabled()).toBe(false);
    expect(exercise(telemetry, thunk).every((r) => r === undefined)).toBe(true);
    expect(thunk).not.toHaveBeenCalled();
    expect(injectTraceContext({})).toEqual({});
    expect(
      extractTraceContext({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
    ).toBe(undefined);
  });
});

describe('telemetry: false', () => {
  it('records nothing even through an explicit provider', () => {
    const getTracer = vi.fn();
    const telemetry = createTelemetry('@app/test', false);
    expect(telemetry.enabled()).toBe(false);
    const thunk = vi.fn(() => ({}));
    exercise(telemetry, thunk);
    expect(getTracer).not.toHaveBeenCalled();
    expect(thunk).not.toHaveBeenCalled();
  });
});

describe('quietListener', () => {
  it('asks once every `every` calls while nobody listens, and on every call while somebody does', () => {
    let listens = false;
    const enabled = vi.fn(() => listens);
    const listening = quietListener({ enabled }, 4);
    const quiet = Array.from({ length: 10 }, () => listening());
    expect(quiet.every((x) => x === false)).toBe(true);
    // Asked on calls 1, 6 (after 4 skipped) and 11 would be next: twice in ten calls.
    expect(enabled).toHaveBeenCalledTimes(2);
    listens = true;
    const answers = Array.from({ length: 6 }, () => listening());
    // Seen within `every` calls of starting to listen, then asked on every call.
    expect(answers.indexOf(true)).toBeLessThanOrEqual(4);
    expect(answers.slice(answers.indexOf(true)).every((x) => x)).toBe(true);
    enabled.mockClear();
    listening();
    listening();
    expect(enabled).toHaveBeenCalledTimes(2);
  });
});
