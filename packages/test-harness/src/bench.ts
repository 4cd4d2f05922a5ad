// Bench helpers (`@app/test-harness/bench`, not published): interleaved on/off comparisons measured in CPU time,
// and an OpenTelemetry SDK that records everything and exports nowhere. The telemetry-cost benches of every
// package (di, flags, ...) use these, so they measure the same way.
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { median, recordBenchResults } from './bench-results.js';

export { type BenchMeasure, median, recordBenchResults } from './bench-results.js';

import type { BenchMeasure } from './bench-results.js';

/** `1.23 M` / `456 k`: a rate for a table. */
export const formatRate = (x: number): string =>
  x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`;

// This process's CPU time in µs: on a machine shared with other builds, time spent descheduled would
// otherwise swamp a few-percent difference.
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** One side's work: `batch` operations on `subject`; may be sync or async. */
export type BenchTask<S> = (subject: S, call: number) => unknown;

/** Options of {@link compareInterleaved}. */
export interface InterleavedOptions<S> {
  /** The table row's label. */
  label: string;
  /** The subject measured as "on" (e.g. default telemetry) and as "off" (e.g. `telemetry: false`). */
  on: S;
  off: S;
  /** What one call does to a subject. */
  task: BenchTask<S>;
  /** Rounds (each measures both sides; the side that goes first alternates). */
  rounds: number;
  /** Operations per task call, to turn calls/s into operations/s. */
  batch: number;
  /** How long each side samples per round, in ms. */
  sampleMs: number;
  /**
   * A second `on` and `off`, built in the opposite order (`off` first). Which of two identical subjects was
   * built first can move a ratio by a few per cent by itself (allocation order), as much as a 3% target:
   * with copies, each sample runs half its time on each, so the order cancels out. @default undefined
   */
  copies?: { on: S; off: S };
}

/** What {@link compareInterleaved} measured: on ÷ off per round (1.00 = no cost), and the rates. */
export interface InterleavedResult {
  ratios: number[];
  onRates: number[];
  offRates: number[];
  median: number;
}

/** Operations per second of CPU time of `task`, the sample's time split evenly between `subjects`. */
async function sampleRate<S>(
  task: BenchTask<S>,
  subjects: readonly S[],
  batch: number,
  sampleMs: number,
): Promise<number> {
  let n = 0;
  const cpu = cpuMicros();
  for (const subject of subjects) {
    const until = process.hrtime.bigint() + BigInt(Math.round((sampleMs / subjects.length) * 1e6));
    while (process.hrtime.bigint() < until) {
      const pending = task(subject, n);
      if (pending instanceof Promise) await pending;
      n++;
    }
  }
  return (n * batch) / ((cpuMicros() - cpu) / 1e6);
}

/**
 * Prints the title and the header of the table {@link compareInterleaved} fills, one row per call.
 *
 * @example
 * ```ts
 * printInterleavedHeader('@app/di telemetry cost: 21 rounds', 'resolves/s');
 * ```
 */
export function printInterleavedHeader(title: string, unit: string): void {
  console.log(`${title}\n`);
  console.log(
    `| scenario | default telemetry ${unit} | telemetry: false ${unit} | ratio (median) | IQR | min-max |`,
  );
  console.log('|---|---:|---:|---:|---:|---:|');
}

/**
 * Measures `task` on `on` and on `off` in interleaved rounds (CPU-time rates), prints a Markdown row
 * `| label | on/s | off/s | median ratio | IQR | min-max |` and returns the per-round figures.
 *
 * @example
 * ```ts
 * const r = await compareInterleaved({ label: 'resolve', on, off, task, rounds: 21, batch: 100, sampleMs: 200 });
 * ```
 */
export async function compareInterleaved<S>(o: InterleavedOptions<S>): Promise<InterleavedResult> {
  const on = o.copies ? [o.on, o.copies.on] : [o.on];
  const off = o.copies ? [o.off, o.copies.off] : [o.off];
  await sampleRate(o.task, on, o.batch, o.sampleMs);
  await sampleRate(o.task, off, o.batch, o.sampleMs);
  const result: InterleavedResult = { ratios: [], onRates: [], offRates: [], median: 0 };
  for (let r = 0; r < o.rounds; r++) {
    const onFirst = r % 2 === 0;
    const x = await sampleRate(o.task, onFirst ? on : off, o.batch, o.sampleMs);
    const y = await sampleRate(o.task, onFirst ? off : on, o.batch, o.sampleMs);
    const [a, b] = onFirst ? [x, y] : [y, x];
    result.onRates.push(a);
    result.offRates.push(b);
    result.ratios.push(a / b);
  }
  result.median = median(result.ratios);
  const sorted = [...result.ratios].sort((p, q) => p - q);
  const q1 = sorted[Math.floor(sorted.length / 4)] as number;
  const q3 = sorted[Math.floor((sorted.length * 3) / 4)] as number;
  const range = `${(sorted[0] as number).toFixed(3)}-${(sorted.at(-1) as number).toFixed(3)}`;
  console.log(
    `| ${o.label} | ${formatRate(median(result.onRates))} | ${formatRate(median(result.offRates))} | ${result.median.toFixed(3)} | ${q1.toFixed(3)}-${q3.toFixed(3)} | ${range} |`,
  );
  return result;
}

/**
 * The {@link BenchMeasure} of an interleaved comparison: its per-round ratios and both sides' rates.
 *
 * @example
 * ```ts
 * recordBenchResults(dir, '@app/di', [interleavedMeasure('telemetry cost: resolve', 'telemetry: false', r, 'resolves/s', 0.97)]);
 * ```
 */
export function interleavedMeasure(
  measure: string,
  anchor: string,
  result: InterleavedResult,
  unit: string,
  target?: number,
): BenchMeasure {
  const m: BenchMeasure = {
    measure,
    anchor,
    ratios: result.ratios,
    ours: result.onRates,
    anchorValues: result.offRates,
    unit,
  };
  if (target !== undefined) m.target = target;
  return m;
}

/**
 * An OpenTelemetry tracer provider and meter provider that record everything and export nowhere
 * (`BatchSpanProcessor` with a no-op exporter, a `MeterProvider` whose reader does not export during a run),
 * not registered globally: pass them to a package's `telemetry` option.
 *
 * @example
 * ```ts
 * const sdk = noopOtelProviders();
 * createOtpService({ ...options, telemetry: { tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider } });
 * await sdk.shutdown();
 * ```
 */
export function noopOtelProviders(): {
  tracerProvider: BasicTracerProvider;
  meterProvider: MeterProvider;
  shutdown(): Promise<void>;
} {
  const noopSpans: SpanExporter = { export: (_s, done) => done({ code: 0 }), shutdown: async () => {} };
  const noopMetrics: PushMetricExporter = {
    export: (_m, done) => done({ code: 0 }),
    shutdown: async () => {},
    forceFlush: async () => {},
  };
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(noopSpans)] });
  const meterProvider = new MeterProvider({
    readers: [new PeriodicExportingMetricReader({ exporter: noopMetrics, exportIntervalMillis: 3_600_000 })],
  });
  return {
    tracerProvider,
    meterProvider,
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/**
 * Registers, globally, an OpenTelemetry SDK that records everything and exports nowhere
 * (`BatchSpanProcessor` with a no-op exporter, a `MeterProvider` whose reader does not export during a
 * run, an AsyncLocalStorage context manager): the "SDK installed" phase of a telemetry-cost bench.
 *
 * @example
 * ```ts
 * const sdk = startNoopOtelSdk();
 * await compareInterleaved({ ... });
 * await sdk.shutdown();
 * ```
 */
export function startNoopOtelSdk(): { shutdown(): Promise<void> } {
  const sdk = noopOtelProviders();
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(sdk.tracerProvider);
  metrics.setGlobalMeterProvider(sdk.meterProvider);
  return { shutdown: () => sdk.shutdown() };
}

/** Options of {@link interleavedSuite}: a table's title and unit, and what every row compares. */
export interface InterleavedSuiteOptions<S> extends Omit<InterleavedOptions<S>, 'label' | 'task'> {
  /** Printed above the table. */
  title: string;
  /** The rates' unit in the column headers, e.g. `evals/s`. */
  unit: string;
}

/**
 * Prints the table header ({@link printInterleavedHeader}) and returns `compare(label, task)`, which runs
 * {@link compareInterleaved} with the suite's subjects and sizes and prints one row.
 *
 * @example
 * ```ts
 * const compare = interleavedSuite({ title: '@app/di telemetry cost', unit: 'resolves/s', on, off, rounds: 21, batch: 100, sampleMs: 200 });
 * const r = await compare('resolve', task);
 * ```
 */
export function interleavedSuite<S>(
  o: InterleavedSuiteOptions<S>,
): (label: string, task: BenchTask<S>) => Promise<InterleavedResult> {
  printInterleavedHeader(o.title, o.unit);
  const { title: _title, unit: _unit, ...shared } = o;
  return (label, task) => compareInterleaved({ ...shared, label, task });
}

/** One row of {@link telemetryCostBench}: a task, its label in the table and its name in the results. */
export interface TelemetryCostCase<S> {
  /** The table row, e.g. `API installed, no SDK: isEnabled`. */
  label: string;
  /** The measure recorded in bench/results.json, e.g. `telemetry cost, no SDK: isEnabled`. */
  measure: string;
  task: BenchTask<S>;
}

/** Options of {@link telemetryCostBench}. */
export interface TelemetryCostOptions<S> extends InterleavedSuiteOptions<S> {
  /** The bench folder results are recorded in (`import.meta.dirname`). */
  benchDir: string;
  /** The package, e.g. `@app/flags`. */
  pkg: string;
  /** What `off` is, e.g. ``the same flags with `telemetry: false` ``. */
  anchor: string;
  /** Measured with @opentelemetry/api installed and no SDK registered; the target is within 3% of `off`. */
  noSdk: TelemetryCostCase<S>[];
  /** Measured with {@link startNoopOtelSdk} registered; no target. @default [] */
  withSdk?: TelemetryCostCase<S>[];
}

/**
 * The telemetry-cost bench of a package, in two phases: every `noSdk` case with @opentelemetry/api installed
 * and no SDK (target: within 3% of `telemetry: false`), then every `withSdk` case with an SDK that records
 * everything and exports nowhere. Prints the table and the verdict, and records every case in
 * bench/results.json; answers the results in the order of the cases.
 *
 * @example
 * ```ts
 * await telemetryCostBench({
 *   benchDir: import.meta.dirname, pkg: '@app/flags', anchor: 'the same flags with `telemetry: false`',
 *   title: '@app/flags telemetry cost', unit: 'evals/s', on, off, rounds: 21, batch: 1000, sampleMs: 200,
 *   noSdk: [{ label: 'API installed, no SDK: isEnabled', measure: 'telemetry cost, no SDK: isEnabled', task }],
 * });
 * ```
 */
export async function telemetryCostBench<S>(o: TelemetryCostOptions<S>): Promise<InterleavedResult[]> {
  const { benchDir, pkg, anchor, noSdk, withSdk = [], ...suite } = o;
  const compare = interleavedSuite(suite);
  const quiet: InterleavedResult[] = [];
  for (const c of noSdk) quiet.push(await compare(c.label, c.task));
  const loud: InterleavedResult[] = [];
  if (withSdk.length > 0) {
    const sdk = startNoopOtelSdk();
    for (const c of withSdk) loud.push(await compare(c.label, c.task));
    await sdk.shutdown();
  }
  const worst = Math.min(...quiet.map((q) => q.median));
  console.log(
    `\ntarget: API installed, no SDK within 3% of telemetry: false -> worst median ratio ${worst.toFixed(3)} (${worst >= 0.97 ? 'met' : 'NOT met'})`,
  );
  const unit = `${o.unit} (CPU time)`;
  recordBenchResults(benchDir, pkg, [
    ...noSdk.map((c, i) => interleavedMeasure(c.measure, anchor, quiet[i]!, unit, 0.97)),
    ...withSdk.map((c, i) => interleavedMeasure(c.measure, anchor, loud[i]!, unit)),
  ]);
  return [...quiet, ...loud];
}
