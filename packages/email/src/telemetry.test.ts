import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, describe, expect, it } from 'vitest';
import { sendgridProvider } from './adapters/sendgrid.js';
import { sesProvider } from './adapters/ses.js';
import { createEmailService } from './service.js';
import { startFakeSendgrid, startFakeSes } from './test/fake-http.js';

// The SDK with in-memory exporters, passed to the service as explicit providers (nothing global but the
// context manager, which nests the attempt spans under the send span).
const spans = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
const [sendgridFake, sesFake] = await Promise.all([startFakeSendgrid(), startFakeSes()]);
afterAll(async () => {
  context.disable();
  await Promise.all([
    sendgridFake.close(),
    sesFake.close(),
    tracerProvider.shutdown(),
    meterProvider.shutdown(),
  ]);
});

const RECIPIENT = 'grace.hopper@example.com';
const SUBJECT = 'Your receipt 4711';
const BODY = 'Thanks for your order, call +14155550123';

function service(telemetry?: { tracerProvider: BasicTracerProvider; meterProvider: MeterProvider }) {
  return createEmailService({
    providers: {
      sendgrid: sendgridProvider({ apiKey: 'SG.test-key', baseUrl: sendgridFake.url }),
      ses: sesProvider({
        clientConfig: {
          region: 'us-east-1',
          endpoint: sesFake.url,
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        },
      }),
    },
    defaultChain: ['sendgrid', 'ses'],
    defaultFrom: 'app@example.com',
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    ...(telemetry ? { telemetry } : {}),
  });
}

describe('email telemetry: a span per send, one child per provider attempt', () => {
  it('shows a send that fails over: two 5xx attempts on SendGrid, then SES', async () => {
    const email = service({ tracerProvider, meterProvider });
    sendgridFake.fail({ status: 503 }, { status: 503 });
    const result = await email.send({ to: RECIPIENT, subject: SUBJECT, text: BODY });
    expect(result).toMatchObject({ provider: 'ses', attempts: 3 });
    await email.close();

    const finished = spans.getFinishedSpans();
    const send = finished.find((s) => s.name === 'email.send');
    const attempts = finished.filter((s) => s.name === 'email.attempt');
    expect(send?.attributes).toMatchObject({ 'app.delivery.provider': 'ses', 'app.delivery.attempts': 3 });
    expect(attempts.map((s) => s.attributes)).toEqual([
      expect.objectContaining({
        'app.delivery.provider': 'sendgrid',
        'app.delivery.attempt': 0,
        'app.delivery.failover': false,
        'http.response.status_class': '5xx',
      }),
      expect.objectContaining({
        'app.delivery.provider': 'sendgrid',
        'app.delivery.attempt': 1,
        'app.delivery.failover': false,
        'http.response.status_class': '5xx',
      }),
      expect.objectContaining({
        'app.delivery.provider': 'ses',
        'app.delivery.attempt': 0,
        'app.delivery.failover': true,
      }),
    ]);
    for (const a of attempts) {
      expect(a.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
      expect(a.spanContext().traceId).toBe(send?.spanContext().traceId);
    }
    expect(attempts.map((a) => a.status.code)).toEqual([2, 2, 0]); // ERROR, ERROR, UNSET

    await reader.forceFlush();
    const recorded = metricExporter.getMetrics().flatMap((rm) => rm.scopeMetrics.flatMap((sm) => sm.metrics));
    const sends = recorded.find((m) => m.descriptor.name === 'app.delivery.sends');
    expect(sends?.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [
        { 'app.delivery.channel': 'email', 'app.delivery.provider': 'ses', 'app.delivery.outcome': 'sent' },
        1,
      ],
    ]);
    const durations = recorded.find((m) => m.descriptor.name === 'app.delivery.attempt.duration');
    expect(durations?.dataPoints.map((p) => p.attributes['app.delivery.outcome']).sort()).toEqual([
      'failed',
      'sent',
    ]);

    // No exported attribute, event or metric label carries an address, a number, a subject or a body.
    const everything = JSON.stringify([
      finished.map((s) => [s.name, s.attributes, s.events.map((e) => [e.name, e.attributes])]),
      recorded.map((m) => m.dataPoints.map((p) => p.attributes)),
    ]);
    for (const secret of [RECIPIENT, 'grace', 'app@example.com', SUBJECT, BODY, '4155550123']) {
      expect(everything).not.toContain(secret);
    }
    expect(everything).not.toMatch(/[\w.+-]+@[\w-]+\.[a-z]{2,}/i); // any address
    expect(everything).not.toMatch(/\+\d{7,}/); // any E.164 number
  });

  it('costs nothing with no SDK: no span, no metric, the same result', async () => {
    expect(trace.getTracerProvider().getTracer('x').startSpan('probe').isRecording()).toBe(false);
    expect(metrics.getMeterProvider()).toBeDefined();
    spans.reset();
    const email = service(); // the global providers: no SDK registered
    sendgridFake.fail({ status: 503 });
    expect(await email.send({ to: RECIPIENT, subject: SUBJECT, text: BODY })).toMatchObject({
      provider: 'sendgrid',
      attempts: 2,
    });
    await email.close();
    expect(spans.getFinishedSpans()).toEqual([]);
  });
});
