// One trace across processes: a publish here and its handler in a child process (its own SDK), over real
// Redis, directly and through the Prisma outbox on PostgreSQL.
import type { ChildProcess } from 'node:child_process';
import { requirePostgres, requireRedis } from '@app/test-harness';
import { createTestPrisma } from '@app/test-harness/prisma';
import * as api from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { prismaOutbox, prismaOutboxRelay } from './adapters/prisma.js';
import { redisEventTransport } from './adapters/redis/index.js';
import { createEventBus } from './bus.js';
import { runFixture } from './test/fixture-process.js';
import {
  blockedHandler,
  createTestSdk,
  expectNoSecrets,
  type SpanView,
  type TestSdk,
  total,
  viewSpan,
} from './test/otel.js';
import { eventually } from './testing.js';

const redis = await requireRedis();
const db = await requirePostgres({ migrations: ['events'] });

interface Events {
  'order.placed': { orderId: string; email: string; phone: string };
}
const PAYLOAD = { orderId: 'o1', email: 'bob@example.org', phone: '+33 6 12 34 56 78' };
const SECRETS = ['bob@example.org', '+33 6 12 34 56 78', JSON.stringify(PAYLOAD)];

/** Starts the child consumer; resolves once it is subscribed, with a promise of the spans it prints. */
async function startChild(
  prefix: string,
  group: string,
  failTimes: number,
  expectedSpans: number,
): Promise<{ child: ChildProcess; spans: Promise<SpanView[]> }> {
  let ready!: () => void;
  const isReady = new Promise<void>((resolve) => {
    ready = resolve;
  });
  let printed!: (spans: SpanView[]) => void;
  const spans = new Promise<SpanView[]>((resolve) => {
    printed = resolve;
  });
  const options = {
    url: redis.url,
    keyPrefix: prefix,
    event: 'order.placed',
    group,
    failTimes,
    expectedSpans,
  };
  const fixture = runFixture('otel-consumer.ts', [JSON.stringify(options)], (line) => {
    if (line === 'ready') ready();
    if (line.startsWith('spans ')) printed(JSON.parse(line.slice(6)) as SpanView[]);
  });
  const child = fixture.child;
  const ended = fixture.exited.then((code) => {
    throw new Error(`child exited (${code}) before printing its spans`);
  });
  const result = Promise.race([spans, ended]);
  result.catch(() => {});
  await Promise.race([isReady, result]);
  return { child, spans: result };
}

let sdk: TestSdk;
let child: ChildProcess | undefined;
beforeEach(() => {
  sdk = createTestSdk();
});
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  await sdk.shutdown();
});

describe.skipIf(!redis.available)('one trace across processes over real Redis', () => {
  it('publish here, handler in a child that fails twice then succeeds: three consumer spans in the trace', async () => {
    const prefix = `${redis.prefix}otel1:`;
    const started = await startChild(prefix, 'billing', 2, 3);
    child = started.child;
    const bus = createEventBus<Events>({
      transport: redisEventTransport({ client: redis.client(), keyPrefix: prefix }),
    });
    const published = await api.trace.getTracer('test').startActiveSpan('POST /orders', async (span) => {
      try {
        return await bus.publish('order.placed', PAYLOAD);
      } finally {
        span.end();
      }
    });
    const remote = await started.spans;
    const mine = sdk.spans().map(viewSpan);
    const request = mine.find((s) => s.name === 'POST /orders')!;
    const producer = mine.find((s) => s.name === 'send order.placed')!;
    expect(producer).toMatchObject({
      traceId: request.traceId,
      parentSpanId: request.spanId,
      attributes: { 'messaging.system': 'redis', 'messaging.message.id': published.id },
    });
    expect(remote).toHaveLength(3);
    for (const [i, span] of remote.entries()) {
      expect(span).toMatchObject({
        name: 'process order.placed',
        kind: 4,
        traceId: request.traceId,
        parentSpanId: producer.spanId,
        links: [{ traceId: request.traceId, spanId: producer.spanId }],
        attributes: {
          'messaging.system': 'redis',
          'messaging.consumer.group.name': 'billing',
          'messaging.message.id': published.id,
          'app.events.attempt': i + 1,
          'app.events.outcome': i < 2 ? 'retry' : 'success',
        },
      });
    }
    // The stream entry holds the context in field `h`, and nothing else new.
    const entries = (await redis.client().xrange(`${prefix}e:{order.placed}`, '-', '+')) as Array<
      [string, string[]]
    >;
    const fields = entries[0]![1];
    expect(JSON.parse(fields[fields.indexOf('h') + 1]!)).toEqual({
      traceparent: `00-${producer.traceId}-${producer.spanId}-01`,
    });
    expectNoSecrets([...mine, ...remote], await sdk.metrics(), SECRETS);
    await bus.close();
  });

  it('reports lag and pending of a Redis consumer group (XINFO GROUPS) as gauges', async () => {
    const prefix = `${redis.prefix}otel2:`;
    const bus = createEventBus<Events>({
      transport: redisEventTransport({ client: redis.client(), keyPrefix: prefix }),
    });
    const slow = blockedHandler();
    await bus.subscribe('order.placed', slow.handler, { group: 'slow', concurrency: 1 });
    await bus.publishMany(
      Array.from({ length: 5 }, () => ({ name: 'order.placed' as const, data: PAYLOAD })),
    );
    await eventually(() => expect(slow.started()).toBe(1));
    const metrics = await sdk.metrics();
    const where = { 'messaging.consumer.group.name': 'slow', 'messaging.destination.name': 'order.placed' };
    const pending = total(metrics, 'app.events.consumer.pending', where);
    const lag = total(metrics, 'app.events.consumer.lag', where);
    // Redis hands a member up to its read COUNT at once: those are pending, the rest lag.
    expect(pending).toBeGreaterThanOrEqual(1);
    expect(pending + lag).toBe(5);
    slow.release();
    await bus.close();
  });
});

describe.skipIf(!redis.available || !db.available)('one trace through the Prisma outbox (PostgreSQL)', () => {
  it('request -> outbox row -> relay -> Redis -> handler in another process', async () => {
    const prefix = `${redis.prefix}otel3:`;
    const started = await startChild(prefix, 'shipping', 0, 1);
    child = started.child;
    const prisma = createTestPrisma(db);
    const outbox = prismaOutbox<Events>();
    const written = await api.trace.getTracer('test').startActiveSpan('POST /checkout', async (span) => {
      try {
        return await prisma.$transaction((tx) => outbox.publish(tx, 'order.placed', PAYLOAD));
      } finally {
        span.end();
      }
    });
    const { rows } = await db.query<{ headers: Record<string, string> }>(
      'SELECT headers FROM app_events_outbox WHERE id = $1',
      [written.id],
    );
    const mine0 = sdk.spans().map(viewSpan);
    const request = mine0.find((s) => s.name === 'POST /checkout')!;
    const create = mine0.find((s) => s.name === 'create order.placed')!;
    expect(create).toMatchObject({
      kind: 3,
      traceId: request.traceId,
      parentSpanId: request.spanId,
      attributes: { 'messaging.operation.type': 'create', 'messaging.message.id': written.id },
    });
    expect(rows[0]!.headers).toEqual({ traceparent: `00-${create.traceId}-${create.spanId}-01` });

    const relay = prismaOutboxRelay({
      prisma,
      transport: redisEventTransport({ client: redis.client(), keyPrefix: prefix }),
    });
    expect(await relay.runOnce()).toBe(1);
    const remote = await started.spans;
    const mine = sdk.spans().map(viewSpan);
    const batch = mine.find((s) => s.name === 'app.events.outbox.relay')!;
    const send = mine.find((s) => s.name === 'send order.placed')!;
    expect(batch.attributes).toMatchObject({ 'app.events.outbox.rows': 1, 'db.system.name': 'postgresql' });
    expect(send).toMatchObject({
      traceId: request.traceId,
      parentSpanId: create.spanId,
      links: [{ traceId: batch.traceId, spanId: batch.spanId }],
      attributes: { 'messaging.system': 'redis', 'messaging.message.id': written.id },
    });
    expect(remote).toHaveLength(1);
    expect(remote[0]).toMatchObject({
      traceId: request.traceId,
      parentSpanId: send.spanId,
      links: [{ spanId: send.spanId }],
      attributes: { 'app.events.outcome': 'success', 'messaging.consumer.group.name': 'shipping' },
    });
    expectNoSecrets([...mine, ...remote], await sdk.metrics(), SECRETS);
    await relay.close();
  });
});
