// Configuration as OpenTelemetry sees it, through @app/core's shim (built only when somebody listens):
// - `app.config.get` span for a read below the in-process cache, with the layer that answered;
//   a cache hit is an `app.config.get` event on the active span (no span of its own: hits are the hot path);
// - `app.config.set` span per write;
// - `app.config.propagation` span (kind consumer) per change received from another instance;
// - metrics: `app.config.cache.lookups` (by result and layer: the hit ratio) and
//   `app.config.propagation.delay` (seconds from the writer's publish to this instance's receipt).
import {
  createTelemetry,
  type Telemetry,
  type TelemetryAttributes,
  type TelemetrySetting,
  type TelemetrySpan,
} from '@app/core';

/** Which layer answered a `get`: the in-process cache, the shared cache (Redis), or the store. */
export type ConfigLayer = 'memory' | 'shared' | 'store';

/** The config service's instruments. */
export interface ConfigObserver {
  readonly telemetry: Telemetry;
  /** A `get` answered by the in-process cache (call only when `telemetry.enabled()`). */
  hit(key: string): void;
  /** Runs a read below the in-process cache in an `app.config.get` span; `layer()` says who answered. */
  miss<T>(
    key: string,
    read: (span: TelemetrySpan | undefined) => Promise<T>,
    layer: () => string,
  ): Promise<T>;
  /** Runs a write in an `app.config.set` span. */
  set<T extends number>(key: string, write: () => Promise<T>): Promise<T>;
  /** A change from another instance arrived (`sentAt`: the writer's clock at publish, when the sync tells). */
  received(key: string, version: number, sentAt: number | undefined): void;
}

/** The instruments of one config service. */
export function configObserver(setting: TelemetrySetting | undefined): ConfigObserver {
  const telemetry = createTelemetry('@app/config', setting);
  // Tallied in process, read when the SDK collects: a cached read is the hottest path of the package, and a
  // synchronous counter's add (the SDK finding the attribute set's accumulator) cost more than the read.
  const lookups = telemetry.tally('app.config.cache.lookups', {
    unit: '{lookup}',
    description:
      'Config reads by result (hit: the in-process cache answered; miss; stale: served from the in-process cache while the store was unreachable) and the layer that answered (memory, shared, store).',
  });
  const delay = telemetry.histogram('app.config.propagation.delay', {
    unit: 's',
    description:
      "Time from a change's publish on one instance to its receipt on another (the writer's clock).",
    boundaries: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const hitAttributes: TelemetryAttributes = {
    'app.config.cache.result': 'hit',
    'app.config.layer': 'memory',
  };
  return {
    telemetry,
    hit(key) {
      lookups.add('hit memory', hitAttributes);
      telemetry.addEvent('app.config.get', () => ({ 'app.config.key': key, ...hitAttributes }));
    },
    miss(key, read, layer) {
      return telemetry.withSpan(
        'app.config.get',
        () => ({ 'app.config.key': key }),
        async (span) => {
          const value = await read(span);
          const answered = layer();
          const result = answered === 'memory' ? 'stale' : 'miss';
          span?.setAttributes({ 'app.config.cache.result': result, 'app.config.layer': answered });
          lookups.add(`${result} ${answered}`, () => ({
            'app.config.cache.result': result,
            'app.config.layer': answered,
          }));
          return value;
        },
      );
    },
    set(key, write) {
      return telemetry.withSpan(
        'app.config.set',
        () => ({ 'app.config.key': key }),
        async (span) => {
          const version = await write();
          span?.setAttributes({ 'app.config.version': version });
          return version;
        },
      );
    },
    received(key, version, sentAt) {
      const seconds = sentAt === undefined ? undefined : Math.max(0, Date.now() - sentAt) / 1000;
      const attributes = (): TelemetryAttributes => ({
        'app.config.key': key,
        'app.config.version': version,
        ...(seconds === undefined ? {} : { 'app.config.propagation.delay_s': seconds }),
      });
      telemetry.startSpan('app.config.propagation', attributes, { kind: 'consumer', root: true })?.end();
      if (seconds !== undefined) delay.record(seconds);
    },
  };
}
