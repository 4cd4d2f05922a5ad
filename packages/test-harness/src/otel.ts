// Test helper (`@app/test-harness/otel`, not published): an OpenTelemetry SDK with in-memory span and metric
// exporters, registered globally or handed over as explicit providers. The one copy every package's telemetry
// tests use.
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  type MetricData,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** An OpenTelemetry SDK recording in memory: what {@link createTestSdk} returns. */
export interface TestSdk {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  spans(): ReadableSpan[];
  /** Collects and returns every metric recorded so far (cumulative). */
  metrics(): Promise<MetricData[]>;
  shutdown(): Promise<void>;
}

/**
 * Starts an OpenTelemetry SDK with in-memory exporters and an AsyncLocalStorage context manager, registered
 * globally unless `global: false` (then pass `tracerProvider`/`meterProvider` explicitly). Call `shutdown()`
 * in `afterEach`/`afterAll`: it unregisters every global.
 *
 * @example
 * ```ts
 * const sdk = createTestSdk();
 * await service.doSomething();
 * expect(sdk.spans().map((s) => s.name)).toContain('otp.send');
 * await sdk.shutdown();
 * ```
 */
export function createTestSdk(options: { global?: boolean } = {}): TestSdk {
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  if (options.global !== false) {
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
  }
  return {
    tracerProvider,
    meterProvider,
    spans: () => spanExporter.getFinishedSpans(),
    async metrics() {
      metricExporter.reset();
      await reader.forceFlush();
      return metricExporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    },
    async shutdown() {
      trace.disable();
      metrics.disable();
      context.disable();
      propagation.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}
