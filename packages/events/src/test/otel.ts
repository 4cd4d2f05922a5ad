// Test helpers for the telemetry tests: core's in-memory SDK fixture (reused, not copied), spans in a
// comparable shape, and the scan of every exported attribute.
import type { MetricData } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { expect } from 'vitest';

export { createTestSdk, type TestSdk } from '@app/test-harness/otel';

/** A finished span as plain data (what a child process prints, and what assertions read). */
export interface SpanView {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  links: Array<{ traceId: string; spanId: string }>;
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  status: number;
}

export function viewSpan(span: ReadableSpan): SpanView {
  const sc = span.spanContext();
  return {
    name: span.name,
    kind: span.kind,
    traceId: sc.traceId,
    spanId: sc.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    links: span.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
    attributes: { ...span.attributes },
    events: span.events.map((e) => ({ name: e.name, attributes: { ...(e.attributes ?? {}) } })),
    status: span.status.code,
  };
}

/** The value of `name`'s data points, by the attributes `key` picks out. */
export function points(
  metrics: MetricData[],
  name: string,
): Array<{ attributes: Record<string, unknown>; value: unknown }> {
  const metric = metrics.find((m) => m.descriptor.name === name);
  return (metric?.dataPoints ?? []).map((p) => ({ attributes: { ...p.attributes }, value: p.value }));
}

/** Sum of a counter's points whose attributes include `match`. */
export function total(metrics: MetricData[], name: string, match: Record<string, unknown> = {}): number {
  return points(metrics, name)
    .filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v))
    .reduce((sum, p) => sum + Number(p.value), 0);
}

/**
 * Every string of every exported attribute (span attributes, span events, links, metric points) must hold
 * none of `secrets` (the payload's address, phone number, the payload itself).
 */
export function expectNoSecrets(spans: SpanView[], metrics: MetricData[], secrets: string[]): void {
  const values: string[] = [];
  const collect = (attrs: Record<string, unknown>) => {
    for (const [k, v] of Object.entries(attrs)) values.push(k, JSON.stringify(v));
  };
  for (const s of spans) {
    values.push(s.name);
    collect(s.attributes);
    for (const e of s.events) collect(e.attributes);
  }
  for (const m of metrics) for (const p of m.dataPoints) collect(p.attributes);
  expect(values.length).toBeGreaterThan(0);
  for (const value of values) for (const secret of secrets) expect(value).not.toContain(secret);
}

/** A handler that blocks every call until `release()`: keeps deliveries pending for the gauges. */
export function blockedHandler(): { handler: () => Promise<void>; started(): number; release(): void } {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = 0;
  return {
    handler: async () => {
      started++;
      await gate;
    },
    started: () => started,
    release: () => release(),
  };
}
