// @app/events as OpenTelemetry sees it (the messaging semantic conventions): a producer span per event
// published, its W3C trace context carried in the event's headers (stream field `h`, outbox column
// `headers`), a consumer `process` span per handler attempt, parented on and linked to the producer, and
// counters, a duration histogram and lag/pending gauges. With no SDK registered, or `telemetry: false`,
// the bus checks one field and calls nothing here.
import {
  createTelemetry,
  extractTraceContext,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetryCounter,
  type TelemetryGauge,
  type TelemetryHistogram,
  type TelemetrySetting,
  type TelemetrySpan,
  type TelemetrySpanContext,
  type TelemetryTally,
} from '@app/core';
import type { EventRecord, EventTransport, GroupStats, StoredEvent } from './types.js';

/** The instrumentation scope of every span and metric of this package. */
export const EVENTS_SCOPE = '@app/events';

/** What a handler attempt ended as: the `app.events.outcome` attribute. */
export type AttemptOutcome = 'success' | 'retry' | 'dead_letter';

/** The `messaging.system` of a transport that does not name one. */
const CUSTOM_SYSTEM = 'custom';

/** The transport's `messaging.system`. */
export function systemOf(transport: Pick<EventTransport, 'system'>): string {
  return typeof transport.system === 'string' && transport.system !== '' ? transport.system : CUSTOM_SYSTEM;
}

/** Who handles a delivery, for the consumer span and the metrics. */
export interface ConsumerInfo {
  /** The subscription's name (its consumer group when durable). */
  subscription: string;
  /** The transport's `messaging.system`. */
  system: string;
  /** The retry policy's `maxAttempts`: an attempt failing at it is dead-lettered. */
  maxAttempts: number;
}

function producerAttributes(
  rec: EventRecord,
  system: string,
  operation: 'send' | 'create',
): TelemetryAttributes {
  return {
    'messaging.system': system,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': rec.name,
    'messaging.message.id': rec.id,
  };
}

function consumerAttributes(stored: StoredEvent, info: ConsumerInfo, attempt: number): TelemetryAttributes {
  return {
    'messaging.system': info.system,
    'messaging.operation.type': 'process',
    'messaging.operation.name': 'process',
    'messaging.destination.name': stored.name,
    'messaging.consumer.group.name': info.subscription,
    'messaging.message.id': stored.id,
    'app.events.attempt': attempt,
  };
}

function metricAttributes(name: string, subscription: string, system: string): TelemetryAttributes {
  return {
    'messaging.system': system,
    'messaging.destination.name': name,
    'messaging.consumer.group.name': subscription,
  };
}

/** The counters: name, unit, description. */
const COUNTERS = {
  published: [
    'app.events.published',
    '{event}',
    'Events stored by a transport (or written to the outbox), by name and system.',
  ],
  handled: [
    'app.events.handled',
    '{event}',
    'Deliveries a handler finished successfully, by name and subscription.',
  ],
  retried: [
    'app.events.retried',
    '{attempt}',
    'Handler attempts that failed and will be retried, by name and subscription.',
  ],
  deadLettered: [
    'app.events.dead_lettered',
    '{event}',
    'Deliveries given up on and stored as dead letters, by name and subscription.',
  ],
} as const;

/** The events package's spans and metrics, on `@app/core`'s telemetry shim. @internal */
export class EventsTelemetry {
  readonly telemetry: Telemetry;
  private readonly counters: Record<Exclude<keyof typeof COUNTERS, 'published'>, TelemetryCounter>;
  /** Tallied in process, read at collection: counted on every publish, the hot path. */
  private readonly published: TelemetryTally;
  private readonly duration: TelemetryHistogram;
  private readonly gauges: TelemetryGauge[] = [];

  constructor(setting: TelemetrySetting | undefined) {
    const t = createTelemetry(EVENTS_SCOPE, setting);
    this.telemetry = t;
    const { published, ...delivery } = COUNTERS;
    this.published = t.tally(published[0], { unit: published[1], description: published[2] });
    const entries = Object.entries(delivery).map(([key, [name, unit, description]]) => [
      key,
      t.counter(name, { unit, description }),
    ]);
    this.counters = Object.fromEntries(entries) as typeof this.counters;
    this.duration = t.histogram('app.events.handler.duration', {
      unit: 's',
      description: 'Duration of one handler attempt, by name, subscription and outcome.',
      boundaries: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
  }

  /** Whether anything would be recorded now (a field or two when nobody listens). */
  enabled(): boolean {
    return this.telemetry.enabled();
  }

  /**
   * Starts one producer span per record (parent: the active span, or with `fromHeaders` the context the
   * record already carries, as for an outbox row) and writes its context into the record's headers.
   * `undefined` when nobody traces; the headers are then left as they are.
   */
  startProducers(
    records: readonly EventRecord[],
    system: string,
    operation: 'send' | 'create',
    options: { fromHeaders?: boolean; link?: TelemetrySpanContext } = {},
  ): Array<TelemetrySpan | undefined> | undefined {
    const t = this.telemetry;
    if (!t.tracing()) return undefined;
    return records.map((rec) => {
      const parent = options.fromHeaders ? extractTraceContext(rec.headers) : undefined;
      const span = t.startSpan(`${operation} ${rec.name}`, () => producerAttributes(rec, system, operation), {
        kind: 'producer',
        ...(parent === undefined ? {} : { parent }),
        ...(options.link === undefined ? {} : { links: [options.link] }),
      });
      if (span !== undefined) {
        const { traceparent: _p, tracestate: _s, ...rest } = rec.headers ?? {};
        rec.headers = span.inject(rest);
      }
      return span;
    });
  }

  /** Ends producer spans (failed with `error` when given) and counts what was published. */
  endProducers(
    records: readonly EventRecord[],
    spans: Array<TelemetrySpan | undefined> | undefined,
    system: string,
    error?: unknown,
  ): void {
    if (spans !== undefined) {
      for (const span of spans) {
        if (error !== undefined) span?.fail(error);
        span?.end();
      }
    }
    if (error === undefined && this.telemetry.metering()) {
      for (const rec of records) {
        this.published.add(`${system}\u0000${rec.name}`, () => ({
          'messaging.system': system,
          'messaging.destination.name': rec.name,
        }));
      }
    }
  }

  /**
   * Publishes `records` with `send` inside their producer spans (see {@link startProducers}). Only called
   * when {@link enabled}.
   */
  publish<T>(
    records: readonly EventRecord[],
    system: string,
    send: () => Promise<T>,
    operation: 'send' | 'create' = 'send',
  ): Promise<T> {
    const spans = this.startProducers(records, system, operation);
    let pending: Promise<T>;
    try {
      pending = send();
    } catch (error) {
      this.endProducers(records, spans, system, error);
      throw error;
    }
    return pending.then(
      (value) => {
        this.endProducers(records, spans, system);
        return value;
      },
      (error: unknown) => {
        this.endProducers(records, spans, system, error);
        throw error;
      },
    );
  }

  /**
   * Runs one handler attempt in a consumer span (child of the producer's context, and linked to it), and
   * records its duration and outcome. Rejects as `call` does. Only called when {@link enabled}.
   */
  attempt(stored: StoredEvent, info: ConsumerInfo, attempt: number, call: () => unknown): Promise<void> {
    const t = this.telemetry;
    const metering = t.metering();
    if (metering) this.attachGauges();
    const started = metering ? performance.now() : 0;
    const producer = t.tracing() ? extractTraceContext(stored.headers) : undefined;
    const settle = (span: TelemetrySpan | undefined, outcome: AttemptOutcome) => {
      span?.setAttributes({ 'app.events.outcome': outcome });
      if (outcome === 'dead_letter') {
        span?.addEvent('app.events.dead_letter', { 'app.events.attempts': attempt });
      }
      if (!metering) return;
      const attributes = metricAttributes(stored.name, info.subscription, info.system);
      this.duration.record((performance.now() - started) / 1000, () => ({
        ...attributes,
        'app.events.outcome': outcome,
      }));
      const { handled, retried, deadLettered } = this.counters;
      const counter = outcome === 'success' ? handled : outcome === 'retry' ? retried : deadLettered;
      counter.add(1, attributes);
    };
    return t.withSpan(
      `process ${stored.name}`,
      () => consumerAttributes(stored, info, attempt),
      async (span) => {
        try {
          await call();
        } catch (error) {
          settle(span, attempt >= info.maxAttempts ? 'dead_letter' : 'retry');
          throw error;
        }
        settle(span, 'success');
      },
      { kind: 'consumer', ...(producer === undefined ? {} : { parent: producer, links: [producer] }) },
    );
  }

  /**
   * Records a delivery dead-lettered without a handler attempt (its JSON is broken, or earlier members used
   * its attempts up): a consumer span with the outcome, and the counter.
   */
  deadLetterWithoutAttempt(stored: StoredEvent, info: ConsumerInfo, error: unknown): void {
    const t = this.telemetry;
    if (!t.enabled()) return;
    const producer = t.tracing() ? extractTraceContext(stored.headers) : undefined;
    const span = t.startSpan(
      `process ${stored.name}`,
      () => ({ ...consumerAttributes(stored, info, 0), 'app.events.outcome': 'dead_letter' }),
      { kind: 'consumer', ...(producer === undefined ? {} : { parent: producer, links: [producer] }) },
    );
    span?.addEvent('app.events.dead_letter', { 'app.events.attempts': 0 });
    span?.fail(error);
    span?.end();
    if (t.metering()) {
      this.counters.deadLettered.add(1, () => metricAttributes(stored.name, info.subscription, info.system));
    }
  }

  /**
   * Reports `transport.groupStats()` as the `app.events.consumer.lag` and `app.events.consumer.pending`
   * gauges, read when the SDK collects (one reading serves both gauges). Attached now if a meter listens,
   * and again by {@link attachGauges} later.
   */
  watchGroups(transport: EventTransport): void {
    const stats = transport.groupStats?.bind(transport);
    if (stats === undefined || this.gauges.length > 0) return;
    let reading: { at: number; stats: Promise<GroupStats[]> } | undefined;
    const read = () => {
      const now = Date.now();
      if (reading === undefined || now - reading.at > 1000) {
        reading = { at: now, stats: stats().catch(() => []) };
      }
      return reading.stats;
    };
    const system = systemOf(transport);
    const gauge = (name: string, description: string, pick: (s: GroupStats) => number | undefined) =>
      this.telemetry.observableGauge(name, { unit: '{event}', description }, async (observe) => {
        for (const s of await read()) {
          const value = pick(s);
          if (value !== undefined) observe(value, metricAttributes(s.name, s.group, system));
        }
      });
    this.gauges.push(
      gauge(
        'app.events.consumer.lag',
        'Events in a log that a durable group has not been handed yet.',
        (s) => s.lag,
      ),
      gauge(
        'app.events.consumer.pending',
        'Events handed to a durable group member and not acknowledged yet.',
        (s) => s.pending,
      ),
    );
    this.attachGauges();
  }

  /** Registers the gauges on the meter listening now, if any (a compare when already registered). */
  attachGauges(): void {
    for (const g of this.gauges) g.attach();
  }

  /** Unregisters the gauges. */
  detachGauges(): void {
    for (const g of this.gauges) g.detach();
  }
}
