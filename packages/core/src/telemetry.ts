// The one telemetry shim every @app package instruments through: spans, span events and metrics on
// `@opentelemetry/api` (an optional peer), built only when somebody listens. With the API absent, with no
// SDK registered, or with `telemetry: false`, every call is a check of a field or two: no span object, no
// attribute object, no promise.
import type * as OtelApi from '@opentelemetry/api';
import { type Api, activeGlobals, loadApi, refreshGlobals } from './telemetry-api.js';
import { scrubAttributes, type TelemetryAttributes } from './telemetry-scrub.js';
import { injectTraceContext, type TelemetrySpanContext, type TraceCarrier } from './trace-context.js';

/** A span as the shim needs it (the API's `Span`, structurally). */
export interface TelemetrySpanLike {
  setAttribute(key: string, value: NonNullable<TelemetryAttributes[string]>): unknown;
  setAttributes(attributes: TelemetryAttributes): unknown;
  addEvent(name: string, attributes?: TelemetryAttributes): unknown;
  setStatus(status: { code: number; message?: string }): unknown;
  end(): void;
  isRecording(): boolean;
  spanContext(): TelemetrySpanContext;
}

/** A tracer (the API's `Tracer`, structurally). */
export interface TracerLike {
  startSpan(name: string, options?: object, context?: unknown): TelemetrySpanLike;
}

/** A tracer provider: an SDK's `BasicTracerProvider`/`NodeTracerProvider`, or the API's global one. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): TracerLike;
}

/** A meter (the API's `Meter`, structurally). */
export interface MeterLike {
  createCounter(
    name: string,
    options?: object,
  ): { add(value: number, attributes?: TelemetryAttributes): void };
  createUpDownCounter(
    name: string,
    options?: object,
  ): { add(value: number, attributes?: TelemetryAttributes): void };
  createHistogram(
    name: string,
    options?: object,
  ): { record(value: number, attributes?: TelemetryAttributes): void };
  /** Present on every real meter; optional so that a minimal fake meter still fits. */
  createObservableGauge?(name: string, options?: object): ObservableLike;
  /** Present on every real meter; optional so that a minimal fake meter still fits. */
  createObservableCounter?(name: string, options?: object): ObservableLike;
}

/** An observable instrument (the API's `Observable`, structurally). */
export interface ObservableLike {
  addCallback(callback: (result: ObservableResultLike) => void | Promise<void>): void;
  removeCallback(callback: (result: ObservableResultLike) => void | Promise<void>): void;
}

/** What an observable callback reports into (the API's `ObservableResult`, structurally). */
export interface ObservableResultLike {
  observe(value: number, attributes?: TelemetryAttributes): void;
}

/** A meter provider: an SDK's `MeterProvider`, or the API's global one. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): MeterLike;
}

/**
 * The `telemetry` option every @app package takes. Both providers default to the global ones (what an
 * SDK's `register()`/`NodeSDK.start()` installs); `false` turns the package's telemetry off.
 */
export interface TelemetryOptions {
  /** Where spans go. @default the global tracer provider (`trace.getTracerProvider()`) */
  tracerProvider?: TracerProviderLike;
  /** Where metrics go. @default the global meter provider (`metrics.getMeterProvider()`) */
  meterProvider?: MeterProviderLike;
}

/** The value of a package's `telemetry` option: providers, or `false` for none. */
export type TelemetrySetting = TelemetryOptions | false;

/** Attributes, or a function computing them: called only when they will be recorded. */
export type AttributesInput = TelemetryAttributes | (() => TelemetryAttributes);

/** The span kinds of OpenTelemetry, by name. */
export type TelemetrySpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** How a span starts. */
export interface TelemetrySpanOptions {
  /** The span kind. @default 'internal' */
  kind?: TelemetrySpanKind;
  /** A remote parent (from {@link extractTraceContext}) instead of the active span. @default the active span */
  parent?: TelemetrySpanContext;
  /** Spans this one is linked to (a consumer span to its producer's, say). @default [] */
  links?: readonly TelemetrySpanContext[];
  /** Start a new trace, ignoring the active span. @default false */
  root?: boolean;
}

/** A started span, as handed to instrumented code. */
export interface TelemetrySpan {
  /** Adds attributes (scrubbed). */
  setAttributes(attributes: TelemetryAttributes): void;
  /** Adds an event (attributes scrubbed). */
  addEvent(name: string, attributes?: TelemetryAttributes): void;
  /** Marks the span failed: status ERROR, `error.type`, and an `exception` event whose message is scrubbed. */
  fail(error: unknown): void;
  /** Ends the span (once; later calls do nothing). */
  end(): void;
  /** The span's identity, e.g. to link to it. */
  spanContext(): TelemetrySpanContext;
  /** Writes this span's W3C trace context into `carrier` (see {@link injectTraceContext}). */
  inject(carrier?: TraceCarrier): TraceCarrier;
}

/** Options of an instrument. */
export interface InstrumentOptions {
  /** What it measures. @default '' */
  description?: string;
  /** UCUM unit: `s`, `ms`, `By`, `{evaluation}`. @default '' */
  unit?: string;
  /** Histogram bucket boundaries (advice to the SDK). @default the SDK's */
  boundaries?: number[];
}

/** A counter (or up-down counter), created on its meter when first used with a listening provider. */
export interface TelemetryCounter {
  /** Adds `value`; `attributes` (scrubbed) are computed only when recorded. */
  add(value: number, attributes?: AttributesInput): void;
}

/** A histogram, created on its meter when first used with a listening provider. */
export interface TelemetryHistogram {
  /** Records `value`; `attributes` (scrubbed) are computed only when recorded. */
  record(value: number, attributes?: AttributesInput): void;
}

/** Reports the values of an observable gauge: call `observe` once per attribute set. */
export type GaugeCallback = (
  observe: (value: number, attributes?: TelemetryAttributes) => void,
) => void | Promise<void>;

/**
 * An observable gauge: its callback runs when the SDK collects, never on a hot path. It registers on the
 * meter listening when {@link TelemetryGauge.attach} is called (a field compare when already registered).
 */
export interface TelemetryGauge {
  /** Registers the callback on the meter now listening, if it is not yet; nothing when nobody listens. */
  attach(): void;
  /** Unregisters the callback (on close). */
  detach(): void;
}

/**
 * A monotonic counter for a hot path, counted in process and reported when the SDK collects (an observable
 * counter): an `add` is a map lookup and an increment, where a synchronous counter asks the SDK to find the
 * attribute set's accumulator on every call. Same metric for the reader: a monotonic sum per attribute set.
 * Meant for a bounded set of attribute sets named by `key` (decision x reason, hit/miss, flag x variant);
 * past 1,999 keys, new ones count under `otel.metric.overflow: true`, as the SDK's own cardinality limit does.
 */
export interface TelemetryTally {
  /**
   * Adds `value` (default 1) to the attribute set named `key`; `attributes` (scrubbed) are computed the first
   * time `key` is seen under a listening meter. Nothing when nobody listens.
   */
  add(key: string, attributes: AttributesInput, value?: number): void;
}

/** A package's telemetry: see {@link createTelemetry}. */
export interface Telemetry {
  /** The instrumentation scope (the package name). */
  readonly scope: string;
  /** Whether spans or metrics would be recorded now. Cheap: a field or two when nobody listens. */
  enabled(): boolean;
  /** Whether a span started now would go to a tracer provider that records. */
  tracing(): boolean;
  /** Whether a measurement now would go to a meter provider that records. */
  metering(): boolean;
  /**
   * Runs `fn` in a span named `name` (active while `fn` runs, so nested spans are its children), ending it
   * when `fn` returns or its promise settles, and failing it when that throws or rejects. When nobody
   * listens, `fn(undefined)` runs as is: no span, `attributes` never called, nothing wrapped or awaited.
   */
  withSpan<T>(
    name: string,
    attributes: AttributesInput | undefined,
    fn: (span: TelemetrySpan | undefined) => T,
    options?: TelemetrySpanOptions,
  ): T;
  /** Starts a span that the caller ends; `undefined` when nobody listens. Not made active. */
  startSpan(
    name: string,
    attributes?: AttributesInput,
    options?: TelemetrySpanOptions,
  ): TelemetrySpan | undefined;
  /** Adds an event to the active span when it records (e.g. `feature_flag.evaluation`). */
  addEvent(name: string, attributes: AttributesInput): void;
  /** A monotonic counter. */
  counter(name: string, options?: InstrumentOptions): TelemetryCounter;
  /** A counter that goes up and down (pending messages, open connections). */
  upDownCounter(name: string, options?: InstrumentOptions): TelemetryCounter;
  /** A histogram (durations in seconds, sizes in bytes). */
  histogram(name: string, options?: InstrumentOptions): TelemetryHistogram;
  /** An observable gauge (consumer lag, pending messages) read by `callback` at collection time. */
  observableGauge(name: string, options: InstrumentOptions, callback: GaugeCallback): TelemetryGauge;
  /** A monotonic counter for a hot path, tallied in process and read at collection time. */
  tally(name: string, options?: InstrumentOptions): TelemetryTally;
}

const KIND: Record<TelemetrySpanKind, number> = {
  internal: 0,
  server: 1,
  client: 2,
  producer: 3,
  consumer: 4,
};
const STATUS_ERROR = 2;

function attributesOf(input: AttributesInput | undefined): TelemetryAttributes {
  return scrubAttributes(typeof input === 'function' ? input() : input);
}

/**
 * The `error.type` of an error: its `code` when it has a string one, else its class name.
 *
 * @example
 * ```ts
 * errorType(new OtpError('RATE_LIMITED', 'slow down')); // 'RATE_LIMITED'
 * errorType(new TypeError('x')); // 'TypeError'
 * ```
 */
export function errorType(error: unknown): string {
  if (error !== null && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name;
  }
  return '_OTHER';
}

class SpanHandle implements TelemetrySpan {
  private ended = false;
  constructor(readonly span: OtelApi.Span) {}
  setAttributes(attributes: TelemetryAttributes): void {
    this.span.setAttributes(scrubAttributes(attributes));
  }
  addEvent(name: string, attributes?: TelemetryAttributes): void {
    this.span.addEvent(name, scrubAttributes(attributes));
  }
  fail(error: unknown): void {
    const type = errorType(error);
    this.span.setStatus({ code: STATUS_ERROR });
    this.span.setAttribute('error.type', type);
    const message = error instanceof Error ? error.message : undefined;
    this.span.addEvent(
      'exception',
      scrubAttributes({ 'exception.type': type, 'exception.message': message }),
    );
  }
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.end();
  }
  spanContext(): TelemetrySpanContext {
    return this.span.spanContext();
  }
  inject(carrier?: TraceCarrier): TraceCarrier {
    return injectTraceContext(carrier, this.span.spanContext());
  }
}

class InstrumentHandle implements TelemetryCounter, TelemetryHistogram {
  private meter: MeterLike | undefined;
  private instrument: {
    add?(v: number, a?: TelemetryAttributes): void;
    record?(v: number, a?: TelemetryAttributes): void;
  } = {};
  constructor(
    private readonly owner: TelemetryImpl,
    private readonly kind: 'counter' | 'upDownCounter' | 'histogram',
    private readonly name: string,
    private readonly options: InstrumentOptions,
  ) {}
  private resolve(): typeof this.instrument | undefined {
    const meter = this.owner.activeMeter();
    if (meter === undefined) return undefined;
    if (meter !== this.meter) {
      this.meter = meter;
      const { boundaries, ...rest } = this.options;
      const opts = boundaries ? { ...rest, advice: { explicitBucketBoundaries: boundaries } } : rest;
      this.instrument =
        this.kind === 'counter'
          ? meter.createCounter(this.name, opts)
          : this.kind === 'upDownCounter'
            ? meter.createUpDownCounter(this.name, opts)
            : meter.createHistogram(this.name, opts);
    }
    return this.instrument;
  }
  add(value: number, attributes?: AttributesInput): void {
    this.resolve()?.add?.(value, attributesOf(attributes));
  }
  record(value: number, attributes?: AttributesInput): void {
    this.resolve()?.record?.(value, attributesOf(attributes));
  }
}

class GaugeHandle implements TelemetryGauge {
  private meter: MeterLike | undefined;
  private gauge: ObservableLike | undefined;
  private readonly observer = (result: ObservableResultLike) =>
    this.callback((value, attributes) => result.observe(value, scrubAttributes(attributes)));
  constructor(
    private readonly owner: TelemetryImpl,
    private readonly name: string,
    private readonly options: InstrumentOptions,
    private readonly callback: GaugeCallback,
  ) {}
  attach(): void {
    const meter = this.owner.activeMeter();
    if (meter === undefined || meter === this.meter) return;
    this.detach();
    this.meter = meter;
    const { boundaries: _, ...options } = this.options;
    this.gauge = meter.createObservableGauge?.(this.name, options);
    this.gauge?.addCallback(this.observer);
  }
  detach(): void {
    this.gauge?.removeCallback(this.observer);
    this.gauge = undefined;
    this.meter = undefined;
  }
}

/**
 * Distinct attribute sets a tally keeps before counting new ones as overflow: with the overflow set, 2,000
 * points, the SDK's default cardinality limit (past which it would merge sets itself).
 */
const TALLY_KEYS = 1999;
const OVERFLOW = { 'otel.metric.overflow': true };
/** Not a key a caller can pass by accident (callers build theirs from names). */
const OVERFLOW_KEY = '\u0000otel.metric.overflow';

/** Per key of a tally: its attributes and its total since the meter was first seen. */
type TallyTotals = Map<string, { attributes: TelemetryAttributes; value: number }>;

/**
 * The totals of every tally, per meter and instrument name: every service of a process that tallies the same
 * instrument (two flag clients, two permission services) adds into one total with one callback, so the reader
 * sees their sum, as with one synchronous counter; and a closed service leaves nothing registered behind.
 */
const tallies = new WeakMap<MeterLike, Map<string, TallyTotals>>();

function tallyTotals(meter: MeterLike, name: string, options: InstrumentOptions): TallyTotals {
  let byName = tallies.get(meter);
  if (byName === undefined) {
    byName = new Map();
    tallies.set(meter, byName);
  }
  let totals = byName.get(name);
  if (totals === undefined) {
    const created: TallyTotals = new Map();
    const { boundaries: _, ...instrumentOptions } = options;
    meter.createObservableCounter?.(name, instrumentOptions).addCallback((result) => {
      for (const total of created.values()) result.observe(total.value, total.attributes);
    });
    byName.set(name, created);
    totals = created;
  }
  return totals;
}

class TallyHandle implements TelemetryTally {
  private meter: MeterLike | undefined;
  private totals: TallyTotals = new Map();
  constructor(
    private readonly owner: TelemetryImpl,
    private readonly name: string,
    private readonly options: InstrumentOptions,
  ) {}
  add(key: string, attributes: AttributesInput, value = 1): void {
    const meter = this.owner.activeMeter();
    if (meter === undefined) return;
    // A new meter (a provider registered or replaced) has totals of its own, from zero.
    if (meter !== this.meter) {
      this.meter = meter;
      this.totals = tallyTotals(meter, this.name, this.options);
    }
    let total = this.totals.get(key);
    if (total === undefined) {
      const full = this.totals.size >= TALLY_KEYS;
      const k = full ? OVERFLOW_KEY : key;
      total = full ? this.totals.get(OVERFLOW_KEY) : undefined;
      if (total === undefined) {
        total = { attributes: full ? OVERFLOW : attributesOf(attributes), value: 0 };
        this.totals.set(k, total);
      }
    }
    total.value += value;
  }
}

class TelemetryImpl implements Telemetry {
  private readonly api: Api | null;
  private readonly off: boolean;
  private readonly explicit: boolean;
  private tracerFrom: unknown;
  private tracer: OtelApi.Tracer | undefined;
  private meterFrom: unknown;
  private meter: MeterLike | undefined;

  constructor(
    readonly scope: string,
    private readonly version: string | undefined,
    private readonly tracerProvider: TracerProviderLike | undefined,
    private readonly meterProvider: MeterProviderLike | undefined,
    disabled: boolean,
  ) {
    this.api = disabled ? null : loadApi();
    this.off = this.api === null;
    this.explicit = tracerProvider !== undefined || meterProvider !== undefined;
    // A process that registered its SDK (through any copy of the API) before creating us is seen at once.
    if (!this.off) refreshGlobals();
  }

  enabled(): boolean {
    if (this.off) return false;
    return this.explicit || activeGlobals() !== undefined;
  }

  tracing(): boolean {
    return this.activeTracer() !== undefined;
  }

  metering(): boolean {
    return this.activeMeter() !== undefined;
  }

  activeTracer(): OtelApi.Tracer | undefined {
    if (this.off) return undefined;
    const provider = this.tracerProvider ?? activeGlobals()?.tracerProvider;
    if (provider === undefined) return undefined;
    if (provider !== this.tracerFrom) {
      this.tracerFrom = provider;
      this.tracer = provider.getTracer(this.scope, this.version) as OtelApi.Tracer;
    }
    return this.tracer;
  }

  activeMeter(): MeterLike | undefined {
    if (this.off) return undefined;
    const provider = this.meterProvider ?? activeGlobals()?.meterProvider;
    if (provider === undefined) return undefined;
    if (provider !== this.meterFrom) {
      this.meterFrom = provider;
      this.meter = provider.getMeter(this.scope, this.version) as MeterLike;
    }
    return this.meter;
  }

  private start(
    api: Api,
    tracer: OtelApi.Tracer,
    name: string,
    attributes: AttributesInput | undefined,
    options: TelemetrySpanOptions | undefined,
  ): { span: OtelApi.Span; parent: OtelApi.Context } {
    let parent = options?.root === true ? api.ROOT_CONTEXT : api.context.active();
    if (options?.parent !== undefined)
      parent = api.trace.setSpanContext(parent, options.parent as OtelApi.SpanContext);
    const links = options?.links?.map((context) => ({ context: context as OtelApi.SpanContext }));
    const span = tracer.startSpan(
      name,
      { kind: KIND[options?.kind ?? 'internal'], attributes: attributesOf(attributes), links },
      parent,
    );
    return { span, parent };
  }

  withSpan<T>(
    name: string,
    attributes: AttributesInput | undefined,
    fn: (span: TelemetrySpan | undefined) => T,
    options?: TelemetrySpanOptions,
  ): T {
    const tracer = this.activeTracer();
    if (tracer === undefined) return fn(undefined);
    const api = this.api!;
    const { span, parent } = this.start(api, tracer, name, attributes, options);
    const handle = new SpanHandle(span);
    let result: T;
    try {
      result = api.context.with(api.trace.setSpan(parent, span), fn, undefined, handle);
    } catch (error) {
      handle.fail(error);
      handle.end();
      throw error;
    }
    if (result !== null && typeof (result as { then?: unknown })?.then === 'function') {
      return (result as unknown as PromiseLike<unknown>).then(
        (value) => {
          handle.end();
          return value;
        },
        (error: unknown) => {
          handle.fail(error);
          handle.end();
          throw error;
        },
      ) as T;
    }
    handle.end();
    return result;
  }

  startSpan(
    name: string,
    attributes?: AttributesInput,
    options?: TelemetrySpanOptions,
  ): TelemetrySpan | undefined {
    const tracer = this.activeTracer();
    if (tracer === undefined) return undefined;
    return new SpanHandle(this.start(this.api!, tracer, name, attributes, options).span);
  }

  addEvent(name: string, attributes: AttributesInput): void {
    if (this.activeTracer() === undefined) return;
    const span = this.api!.trace.getActiveSpan();
    if (span === undefined || !span.isRecording()) return;
    span.addEvent(name, attributesOf(attributes));
  }

  counter(name: string, options: InstrumentOptions = {}): TelemetryCounter {
    return new InstrumentHandle(this, 'counter', name, options);
  }

  upDownCounter(name: string, options: InstrumentOptions = {}): TelemetryCounter {
    return new InstrumentHandle(this, 'upDownCounter', name, options);
  }

  histogram(name: string, options: InstrumentOptions = {}): TelemetryHistogram {
    return new InstrumentHandle(this, 'histogram', name, options);
  }

  observableGauge(name: string, options: InstrumentOptions, callback: GaugeCallback): TelemetryGauge {
    return new GaugeHandle(this, name, options, callback);
  }

  tally(name: string, options: InstrumentOptions = {}): TelemetryTally {
    return new TallyHandle(this, name, options);
  }
}

/**
 * Creates a package's telemetry: its tracer and meter (instrumentation scope `scope`), resolved lazily
 * from `options` or the global providers. `@opentelemetry/api` is an optional peer: when it is not
 * installed, when no SDK is registered, or with `false`, nothing is recorded and nothing is built.
 *
 * @example
 * ```ts
 * const telemetry = createTelemetry('@app/otp', options.telemetry);
 * const sends = telemetry.counter('app.otp.sends', { unit: '{send}' });
 * await telemetry.withSpan('app.otp.send', () => ({ 'app.otp.purpose': purpose }), async (span) => {
 *   await deliver();
 *   sends.add(1, () => ({ 'app.otp.purpose': purpose, 'app.otp.outcome': 'sent' }));
 * });
 * ```
 */
export function createTelemetry(scope: string, options?: TelemetrySetting, version?: string): Telemetry {
  if (options === false) return new TelemetryImpl(scope, version, undefined, undefined, true);
  return new TelemetryImpl(scope, version, options?.tracerProvider, options?.meterProvider, false);
}
