import { createTestSdk } from '@app/test-harness/otel';
import { metrics, trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { sendgridProvider } from './adapters/sendgrid.js';
import { sesProvider } from './adapters/ses.js';
import { createEmailService } from './service.js';
import { startFakeSendgrid, startFakeSes } from './test/fake-http.js';

// The harness' SDK with in-memory exporters, passed to the service as explicit providers (nothing global but
// the context manager, which nests the attempt spans under the send span).
const sdk = createTestSdk({ global: false });
const { tracerProvider, meterProvider } = sdk;
const [sendgridFake, sesFake] = await Promise.all([startFakeSendgrid(), startFakeSes()]);
afterAll(async () => {
  await Promise.all([sendgridFake.close(), sesFake.close(), sdk.shutdown()]);
});

const RECIPIENT = 'grace.hopper@example.com';
const SUBJECT = 'Your receipt 4711';
const BODY = 'Thanks for your order, call +14155550123';

function service(telemetry?: Pick<typeof sdk, 'tracerProvider' | 'meterProvider'>) {
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

    const finished = sdk.spans();
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

    const recorded = await sdk.metrics();
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
    const before = sdk.spans().length; // the first test's spans stay in the exporter
    const email = service(); // the global providers: no SDK registered
    sendgridFake.fail({ status: 503 });
    expect(await email.send({ to: RECIPIENT, subject: SUBJECT, text: BODY })).toMatchObject({
      provider: 'sendgrid',
      attempts: 2,
    });
    await email.close();
    expect(sdk.spans().slice(before)).toEqual([]);
  });
});
