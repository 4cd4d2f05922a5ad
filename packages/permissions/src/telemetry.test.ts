// The one in-memory OpenTelemetry SDK of the tests (not published), with explicit providers here.
import { createTestSdk } from '@app/test-harness/otel';
import { trace } from '@opentelemetry/api';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryPermissionStore } from './adapters/memory.js';
import { createPermissionService } from './service.js';

const sdks: ReturnType<typeof createTestSdk>[] = [];
const sdk = () => {
  const made = createTestSdk({ global: false });
  sdks.push(made);
  return made;
};
afterAll(async () => {
  for (const made of sdks) await made.shutdown();
});

// Personal data an app may well use as ids: none of it may reach a span, an event or a metric.
const SUBJECT = 'alice@example.com';
const SECRET_ID = 'patient-4711';
const TENANT = 'acme-clinic';

describe('permissions telemetry', () => {
  it('a span per check that reaches the cache or store, an event for a cached one; decisions and cache hits counted; no subject, id or tenant', async () => {
    const t = sdk();
    const permissions = createPermissionService({
      store: memoryPermissionStore(),
      telemetry: { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider },
    });
    await permissions.grant('viewer', 'record:read');
    await permissions.deny('viewer', 'record:delete');
    await permissions.assign(SUBJECT, 'viewer', { tenant: TENANT });
    const tracer = t.tracerProvider.getTracer('app');
    await tracer.startActiveSpan('request', async (request) => {
      const where = { type: 'record', id: SECRET_ID, tenant: TENANT };
      expect(await permissions.check(SUBJECT, 'read', where)).toBe(true); // cold: a span
      expect(await permissions.check(SUBJECT, 'delete', where)).toBe(false); // cached: an event
      expect(await permissions.check(SUBJECT, 'write', where)).toBe(false); // cached: an event
      request.end();
    });
    const spans = t.spans();
    const check = spans.find((s) => s.name === 'permissions.check')!;
    const request = spans.find((s) => s.name === 'request')!;
    expect(check.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(check.attributes).toMatchObject({
      'app.permissions.decision': 'allow',
      'app.permissions.reason': 'allowed',
      'app.permissions.action': 'read',
      'app.permissions.resource.type': 'record',
      'app.permissions.role': 'viewer',
    });
    const events = request.events.filter((e) => e.name === 'permissions.check');
    expect(events.map((e) => e.attributes)).toEqual([
      {
        'app.permissions.decision': 'deny',
        'app.permissions.reason': 'denied-by-rule',
        'app.permissions.action': 'delete',
        'app.permissions.resource.type': 'record',
        'app.permissions.role': 'viewer',
        'app.permissions.cache.result': 'hit',
      },
      {
        'app.permissions.decision': 'deny',
        'app.permissions.reason': 'no-matching-rule',
        'app.permissions.action': 'write',
        'app.permissions.resource.type': 'record',
        'app.permissions.cache.result': 'hit',
      },
    ]);
    const metrics = await t.metrics();
    const points = (name: string) =>
      metrics.find((m) => m.descriptor.name === name)!.dataPoints.map((p) => [p.attributes, p.value]);
    expect(points('app.permissions.checks')).toEqual(
      expect.arrayContaining([
        [{ 'app.permissions.decision': 'allow', 'app.permissions.reason': 'allowed' }, 1],
        [{ 'app.permissions.decision': 'deny', 'app.permissions.reason': 'denied-by-rule' }, 1],
        [{ 'app.permissions.decision': 'deny', 'app.permissions.reason': 'no-matching-rule' }, 1],
      ]),
    );
    expect(points('app.permissions.cache.lookups')).toEqual(
      expect.arrayContaining([
        [{ 'app.permissions.cache.result': 'miss' }, 1],
        [{ 'app.permissions.cache.result': 'hit' }, 2],
      ]),
    );
    // Scan everything exported for the subject, the id and the tenant.
    const exported = JSON.stringify([
      spans.map((s) => [s.name, s.attributes, s.events.map((e) => [e.name, e.attributes])]),
      metrics.map((m) => m.dataPoints.map((p) => p.attributes)),
    ]);
    for (const secret of [SUBJECT, SECRET_ID, TENANT]) expect(exported).not.toContain(secret);
    await permissions.close();
  });

  it('records a failed check as a failed span, and nothing at all with telemetry: false', async () => {
    const t = sdk();
    const failing = memoryPermissionStore();
    failing.loadSubject = async () => {
      throw new Error('database down');
    };
    const observed = createPermissionService({
      store: failing,
      telemetry: { tracerProvider: t.tracerProvider, meterProvider: t.meterProvider },
    });
    await expect(observed.check('u', 'read', 'doc')).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(t.spans().map((s) => [s.name, s.status.code, s.attributes['error.type']])).toEqual([
      ['permissions.check', 2, 'STORE_FAILED'],
    ]);
    const quiet = sdk();
    const off = createPermissionService({ store: memoryPermissionStore(), telemetry: false });
    await off.grant('r', 'doc:read');
    await off.assign('u', 'r');
    await quiet.tracerProvider.getTracer('app').startActiveSpan('request', async (span) => {
      expect(await off.check('u', 'read', 'doc')).toBe(true);
      expect(await off.check('u', 'read', 'doc')).toBe(true);
      span.end();
      expect(trace.getActiveSpan()).toBe(span);
    });
    expect(quiet.spans().flatMap((s) => s.events)).toEqual([]);
    expect(quiet.spans().map((s) => s.name)).toEqual(['request']);
  });
});
