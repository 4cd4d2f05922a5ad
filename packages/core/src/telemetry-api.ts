// The one place that finds `@opentelemetry/api` (an optional peer) and tells, cheaply, whether anybody
// listens. Nothing here imports the API statically: it is required once, synchronously, on first use.
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';

/** The slice of `@opentelemetry/api` the shim uses. */
export type Api = typeof OtelApi;

let api: Api | null | undefined;

/** Loads `@opentelemetry/api` once; `null` when it is not installed. */
export function loadApi(): Api | null {
  if (api !== undefined) return api;
  try {
    // A synchronous probe in both builds: tsup's `shims` turn `import.meta.url` into the CJS file's URL.
    const loaded = createRequire(import.meta.url)('@opentelemetry/api') as Api;
    api = typeof loaded?.trace?.getTracerProvider === 'function' ? loaded : null;
  } catch {
    api = null;
  }
  if (api !== null) initGlobals(api);
  return api;
}

/** For tests of the "API absent" path: pretend the API is (not) installed. */
export function setApiForTesting(value: Api | null | undefined): void {
  api = value;
  if (value) initGlobals(value);
}

/**
 * How often, in calls, a quiet process re-reads the global registry in full. Between re-reads a quiet
 * check is one property read on the API's own proxy provider (which an SDK registering through the same
 * API copy fills at once); the full re-read catches a meter provider alone, or an SDK registered through
 * another copy of the API.
 */
const RECHECK_EVERY = 1024;

interface GlobalState {
  /** The API's proxy tracer provider seen last; `getDelegate()` leaves the no-op when an SDK registers. */
  proxy: { getDelegate(): unknown } | undefined;
  noopTracerProvider: unknown;
  noopMeter: unknown;
  /** The global tracer provider when it records, else undefined. */
  tracerProvider: OtelApi.TracerProvider | undefined;
  /** The global meter provider when it is not the no-op, else undefined. */
  meterProvider: OtelApi.MeterProvider | undefined;
  /** Last meter provider seen (noop or not), to avoid re-probing the same one. */
  seenMeterProvider: unknown;
  quiet: boolean;
  countdown: number;
}

const state: GlobalState = {
  proxy: undefined,
  noopTracerProvider: undefined,
  noopMeter: undefined,
  tracerProvider: undefined,
  meterProvider: undefined,
  seenMeterProvider: undefined,
  quiet: true,
  countdown: RECHECK_EVERY,
};

function initGlobals(a: Api): void {
  state.noopTracerProvider = new a.ProxyTracerProvider().getDelegate();
  state.noopMeter = a.createNoopMeter();
  state.seenMeterProvider = undefined;
  refreshGlobals();
}

/** Re-reads the global tracer and meter providers (a few registry look-ups). */
export function refreshGlobals(): void {
  const a = api;
  state.countdown = RECHECK_EVERY;
  if (!a) {
    state.quiet = true;
    state.tracerProvider = undefined;
    state.meterProvider = undefined;
    return;
  }
  const tp = a.trace.getTracerProvider() as OtelApi.TracerProvider & { getDelegate?: () => unknown };
  if (typeof tp.getDelegate === 'function') {
    state.proxy = tp as { getDelegate(): unknown };
    state.tracerProvider = tp.getDelegate() === state.noopTracerProvider ? undefined : tp;
  } else {
    state.tracerProvider = tp === state.noopTracerProvider ? undefined : tp;
  }
  const mp = a.metrics.getMeterProvider();
  if (mp !== state.seenMeterProvider) {
    state.seenMeterProvider = mp;
    state.meterProvider = mp.getMeter('@app/core') === state.noopMeter ? undefined : mp;
  }
  state.quiet = state.tracerProvider === undefined && state.meterProvider === undefined;
}

/**
 * The global providers that listen, or `undefined` when none does. A quiet process pays one property
 * read (and a counter) per call; a listening one re-reads the registry every call, so a provider
 * replaced or disabled is followed at once.
 */
export function activeGlobals(): GlobalState | undefined {
  if (state.quiet) {
    const proxy = state.proxy;
    if ((proxy === undefined || proxy.getDelegate() === state.noopTracerProvider) && --state.countdown > 0)
      return undefined;
  }
  refreshGlobals();
  return state.quiet ? undefined : state;
}
