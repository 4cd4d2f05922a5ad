// Observable gauges: read at collection time only, attached to the meter that listens, scrubbed, and
// detachable; nothing registered when nobody listens.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestSdk, type TestSdk } from './otel-sdk.fixture.js';
import { createTelemetry } from './telemetry.js';

let sdk: TestSdk | undefined;
afterEach(async () => {
  await sdk?.shutdown();
  sdk = undefined;
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
