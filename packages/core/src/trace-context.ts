// W3C trace context (traceparent, tracestate) over a plain string map: what a message carries so that its
// consumer, in any process, continues the producer's trace. Works with the API alone (no propagator
// registered); a registered global propagator adds its own fields (baggage, say) as well.
import { loadApi } from './telemetry-api.js';

/** A span's identity (the API's `SpanContext`, structurally). */
export interface TelemetrySpanContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** Bit 0: sampled. */
  traceFlags: number;
  /** Whether it came from another process. */
  isRemote?: boolean;
  /** The API's `TraceState`, when there is one. */
  traceState?: { serialize(): string };
}

/** A carrier of trace context: a plain map of strings (a stream entry's fields, an outbox row's column). */
export type TraceCarrier = Record<string, string>;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const INVALID_TRACE = '00000000000000000000000000000000';
const INVALID_SPAN = '0000000000000000';

/**
 * Writes the current trace context (the active span's, or `spanContext`'s) into `carrier` as W3C
 * `traceparent`/`tracestate` and returns it. Writes nothing when there is no valid span context: with no
 * SDK registered the carrier stays empty and nothing is built.
 *
 * @example
 * ```ts
 * const headers = injectTraceContext({});
 * await redis.xadd(stream, '*', 'data', body, 'tc', JSON.stringify(headers));
 * ```
 */
export function injectTraceContext(
  carrier: TraceCarrier = {},
  spanContext?: TelemetrySpanContext,
): TraceCarrier {
  const api = loadApi();
  if (!api) return carrier;
  const sc = spanContext ?? api.trace.getSpanContext(api.context.active());
  if (sc === undefined || sc.traceId === INVALID_TRACE || sc.spanId === INVALID_SPAN) return carrier;
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, '0');
  carrier.traceparent = `00-${sc.traceId}-${sc.spanId}-${flags}`;
  const state = sc.traceState?.serialize();
  if (state) carrier.tracestate = state;
  if (spanContext === undefined) api.propagation.inject(api.context.active(), carrier);
  return carrier;
}

/**
 * Reads a W3C `traceparent` (and `tracestate`) from `carrier`: the remote span context to link to or to
 * parent on, or `undefined` when the carrier has none (or the API is not installed).
 *
 * @example
 * ```ts
 * const producer = extractTraceContext(JSON.parse(entry.tc));
 * telemetry.withSpan('orders process', attrs, handle, { kind: 'consumer', links: producer ? [producer] : [] });
 * ```
 */
export function extractTraceContext(
  carrier: Readonly<TraceCarrier> | undefined,
): TelemetrySpanContext | undefined {
  const api = loadApi();
  if (!api || carrier === undefined) return undefined;
  const header = carrier.traceparent;
  if (typeof header !== 'string') return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (match === null || match[1] === 'ff') return undefined;
  const [, , traceId, spanId, flags] = match as unknown as [string, string, string, string, string];
  if (traceId === INVALID_TRACE || spanId === INVALID_SPAN) return undefined;
  const sc: TelemetrySpanContext = {
    traceId,
    spanId,
    traceFlags: Number.parseInt(flags, 16),
    isRemote: true,
  };
  const state = carrier.tracestate;
  if (typeof state === 'string' && state !== '' && typeof api.createTraceState === 'function')
    sc.traceState = api.createTraceState(state);
  return sc;
}
