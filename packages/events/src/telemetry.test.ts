// The bus under a real OpenTelemetry SDK (in-memory exporters), on the memory transport: producer and
// consumer spans of one trace, retries and dead letters visible, metrics, nothing sensitive exported.
import * as api from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { memoryEventTransport } from './adapters/memory.js';
import { createEventBus } from './bus.js';
import {
  blockedHandler,
  createTestSdk,
  expectNoSecrets,
  points,
  type TestSdk,
  total,
  viewSpan,
} from './test/otel.js';
import { eventually } from './testing.js';

interface Events {
  'user.registered': { userId: string; email: string; phone: string };
}

const PAYLOAD = { userId: 'u1', email: 'alice@example.com', phone: '+14155550123' };
const SECRETS = ['alice@example.com', '+14155550123', '4155550123', JSON.stringify(PAYLOAD)];
const CONSUMER = 4;
const PRODUCER = 3;

describe('events telemetry with an SDK (memory transport)', () => {
  let sdk: TestSdk;
  beforeEach(() => {
    sdk = createTestSdk();
  });
  afterEach(async () => {
    await sdk.shutdown();
  });

  it('one trace: the request span, a producer span per publish, a consumer span per attempt (child and link)', async () => {
    const transport = memoryEventTransport();
    const bus = createEventBus<Events>({ transport, retry: { baseDelayMs: 1, maxDelayMs: 1 } });
    let calls = 0;
    const done = new Promise<void>((resolve) => {
      void bus.subscribe(
        'user.registered',
        async () => {
          calls++;
          if (calls <= 2) throw new Error(`attempt ${calls} failed for alice@example.com`);
          resolve();
        },
        { group: 'welcome', retry: { maxAttempts: 3 } },
      );
    });
    const tracer = api.trace.getTracer('test');
    const published = await tracer.startActiveSpan('POST /signup', async (request) => {
      try {
        return await bus.publish('user.registered', PAYLOAD);
      } finally {
        request.end();
      }
    });
    await done;
    await eventually(() =>
      expect(sdk.spans().filter((s) => s.name === 'process user.registered')).toHaveLength(3),
    );
    const spans = sdk.spans().map(viewSpan);
    const request = spans.find((s) => s.name === 'POST /signup')!;
    const producer = spans.find((s) => s.name === 'send user.registered')!;
    expect(producer).toMatchObject({
      kind: PRODUCER,
      traceId: request.traceId,
      parentSpanId: request.spanId,
      attributes: {
        'messaging.system': 'memory',
        'messaging.destination.name': 'user.registered',
        'messaging.message.id': published.id,
        'messaging.operation.type': 'send',
      },
    });
    // The stored event carries the producer's context.
    const [stored] = await transport.history('user.registered', { limit: 1, order: 'asc' });
    expect(stored!.headers?.traceparent).toBe(`00-${producer.traceId}-${producer.spanId}-01`);

    const consumers = spans.filter((s) => s.name === 'process user.registered');
    expect(consumers.map((s) => s.attributes['app.events.attempt'])).toEqual([1, 2, 3]);
    expect(consumers.map((s) => s.attributes['app.events.outcome'])).toEqual(['retry', 'retry', 'success']);
    expect(consumers.map((s) => s.status)).toEqual([2, 2, 0]);
    for (const c of consumers) {
      expect(c).toMatchObject({
        kind: CONSUMER,
        traceId: request.traceId,
        parentSpanId: producer.spanId,
        links: [{ traceId: producer.traceId, spanId: producer.spanId }],
        attributes: {
          'messaging.system': 'memory',
          'messaging.operation.type': 'process',
          'messaging.destination.name': 'user.registered',
          'messaging.consumer.group.name': 'welcome',
          'messaging.message.id': published.id,
        },
      });
    }

    const metrics = await sdk.metrics();
    const where = { 'messaging.destination.name': 'user.registered' };
    expect(total(metrics, 'app.events.published', where)).toBe(1);
    expect(
      total(metrics, 'app.events.retried', { ...where, 'messaging.consumer.group.name': 'welcome' }),
    ).toBe(2);
    expect(
      total(metrics, 'app.events.handled', { ...where, 'messaging.consumer.group.name': 'welcome' }),
    ).toBe(1);
    expect(total(metrics, 'app.events.dead_lettered')).toBe(0);
    const durations = points(metrics, 'app.events.handler.duration');
    expect(
      durations.map((p) => [p.attributes['app.events.outcome'], (p.value as { count: number }).count]).sort(),
    ).toEqual([
      ['retry', 2],
      ['success', 1],
    ]);
    expectNoSecrets(spans, metrics, SECRETS);
    await bus.close();
  });

  it('a dead letter is visible: the last attempt span says so, and the counter counts it', async () => {
    const bus = createEventBus<Events>({ retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
    await bus.subscribe(
      'user.registered',
      () => {
        throw new Error('no mailbox for alice@example.com');
      },
      { group: 'mailer' },
    );
    await bus.publish('user.registered', PAYLOAD);
    await eventually(async () => expect(await bus.listDeadLetters('mailer')).toHaveLength(1));
    await eventually(() =>
      expect(sdk.spans().filter((s) => s.name === 'process user.registered')).toHaveLength(2),
    );
    const consumers = sdk
      .spans()
      .map(viewSpan)
      .filter((s) => s.name === 'process user.registered');
    expect(consumers.map((s) => s.attributes['app.events.outcome'])).toEqual(['retry', 'dead_letter']);
    const last = consumers[1]!;
    expect(last.events.map((e) => e.name)).toEqual(
      expect.arrayContaining(['app.events.dead_letter', 'exception']),
    );
    // The exception's message held an address: it is refused, not exported.
    const exception = last.events.find((e) => e.name === 'exception')!;
    expect(exception.attributes['exception.message']).toBeUndefined();
    const metrics = await sdk.metrics();
    expect(total(metrics, 'app.events.dead_lettered', { 'messaging.consumer.group.name': 'mailer' })).toBe(1);
    expectNoSecrets(sdk.spans().map(viewSpan), metrics, SECRETS);
    await bus.close();
  });

  it('reports consumer lag and pending per group as gauges (memory transport)', async () => {
    const bus = createEventBus<Events>();
    const slow = blockedHandler();
    await bus.subscribe('user.registered', slow.handler, { group: 'slow', concurrency: 1 });
    for (let i = 0; i < 5; i++) await bus.publish('user.registered', PAYLOAD);
    await eventually(() => expect(slow.started()).toBe(1));
    const metrics = await sdk.metrics();
    const where = {
      'messaging.consumer.group.name': 'slow',
      'messaging.destination.name': 'user.registered',
    };
    expect(total(metrics, 'app.events.consumer.pending', where)).toBe(1);
    expect(total(metrics, 'app.events.consumer.lag', where)).toBe(4);
    slow.release();
    await bus.close();
  });

  it('records nothing with telemetry: false, and stores no headers', async () => {
    const transport = memoryEventTransport();
    const bus = createEventBus<Events>({ transport, telemetry: false });
    const handled = vi.fn();
    await bus.subscribe('user.registered', handled, { group: 'g' });
    await api.trace.getTracer('t').startActiveSpan('req', async (span) => {
      await bus.publish('user.registered', PAYLOAD);
      span.end();
    });
    await eventually(() => expect(handled).toHaveBeenCalledTimes(1));
    expect(sdk.spans().map((s) => s.name)).toEqual(['req']);
    const [stored] = await transport.history('user.registered', { limit: 1, order: 'asc' });
    expect(stored!.headers).toBeUndefined();
    expect(total(await sdk.metrics(), 'app.events.published')).toBe(0);
    await bus.close();
  });

  it('takes explicit providers instead of the global ones', async () => {
    await sdk.shutdown();
    sdk = createTestSdk({ global: false });
    const bus = createEventBus<Events>({
      telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider },
    });
    await bus.publish('user.registered', PAYLOAD);
    expect(sdk.spans().map((s) => s.name)).toEqual(['send user.registered']);
    expect(total(await sdk.metrics(), 'app.events.published')).toBe(1);
    await bus.close();
  });
});

describe('events telemetry with the API installed and no SDK', () => {
  it('builds no span and stores no headers', async () => {
    const startSpan = vi.spyOn(api.ProxyTracer.prototype, 'startSpan');
    const transport = memoryEventTransport();
    const bus = createEventBus<Events>({ transport });
    const handled = vi.fn();
    await bus.subscribe('user.registered', handled, { group: 'g' });
    await bus.publish('user.registered', PAYLOAD);
    await eventually(() => expect(handled).toHaveBeenCalledTimes(1));
    expect(startSpan).not.toHaveBeenCalled();
    const [stored] = await transport.history('user.registered', { limit: 1, order: 'asc' });
    expect(stored!.headers).toBeUndefined();
    startSpan.mockRestore();
    await bus.close();
  });
});
