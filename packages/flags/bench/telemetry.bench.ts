// The cost of telemetry on flag evaluation. Phase 1, @opentelemetry/api installed and no SDK registered:
// the default (`telemetry` unset) against `telemetry: false` (compiled out: no check at all), measured in
// interleaved rounds in one process (the order alternates), ratio per round; the target is within 3%.
// Phase 2, an SDK registered (BatchSpanProcessor with a no-op exporter, a MeterProvider with a reader that
// never exports during the run): the same against `telemetry: false`, measured, no target.
// Run: pnpm --filter @app/flags bench:telemetry   (FLAGS_TELEMETRY_ROUNDS=n, default 21)
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createFlags, type Flags } from '../src/index.js';
import { memoryConfigSource } from '../src/testing.js';
import { setFlag } from '../src/writer.js';

const ROUNDS = Number(process.env.FLAGS_TELEMETRY_ROUNDS ?? 21);
const BATCH = 1_000;
const SAMPLE_MS = 200;
const USERS = Array.from({ length: 10_000 }, (_, i) => ({ userId: `user-${i}` }));

const source = memoryConfigSource();
await setFlag(source, 'rollout', { enabled: true, rollout: 50 });
await setFlag(source, 'variants', {
  enabled: true,
  rollout: 50,
  variants: [
    { name: 'a', weight: 1 },
    { name: 'b', weight: 1 },
  ],
});
async function flagsWith(telemetry: false | undefined): Promise<Flags> {
  const flags = createFlags({ source, telemetry });
  await flags.ready();
  return flags;
}
const off = await flagsWith(false);
const on = await flagsWith(undefined);

let sink = 0;
type Task = (flags: Flags, i: number) => void;
const isEnabled: Task = (flags, i) => {
  for (let j = 0; j < BATCH; j++) if (flags.isEnabled('rollout', USERS[(i + j) % USERS.length])) sink++;
};
const evaluate: Task = (flags, i) => {
  for (let j = 0; j < BATCH; j++)
    if (flags.evaluate('variants', USERS[(i + j) % USERS.length]).enabled) sink++;
};
const inSpan =
  (task: Task): Task =>
  (flags, i) =>
    trace.getTracer('bench').startActiveSpan('request', (span) => {
      task(flags, i);
      span.end();
    });

/** Evaluations per second of `task` on `flags` over about SAMPLE_MS. */
// Rates use this process's CPU time (process.cpuUsage), not wall time: on a machine shared with other
// builds, time spent descheduled would otherwise swamp a 3% difference.
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
function sample(task: Task, flags: Flags): number {
  let n = 0;
  const until = process.hrtime.bigint() + BigInt(SAMPLE_MS * 1e6);
  const cpu = cpuMicros();
  while (process.hrtime.bigint() < until) {
    task(flags, n);
    n++;
  }
  return (n * BATCH) / ((cpuMicros() - cpu) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

/** Interleaved rounds; the ratio is on ÷ off per round (1.00 = no cost). */
function compare(label: string, task: Task) {
  sample(task, on);
  sample(task, off);
  const ratios: number[] = [];
  const onRates: number[] = [];
  const offRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let a: number;
    let b: number;
    if (r % 2 === 0) {
      a = sample(task, on);
      b = sample(task, off);
    } else {
      b = sample(task, off);
      a = sample(task, on);
    }
    onRates.push(a);
    offRates.push(b);
    ratios.push(a / b);
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  const q1 = sorted[Math.floor(sorted.length / 4)]!;
  const q3 = sorted[Math.floor((sorted.length * 3) / 4)]!;
  console.log(
    `| ${label} | ${fmt(median(onRates))} | ${fmt(median(offRates))} | ${median(ratios).toFixed(3)} | ${q1.toFixed(3)}-${q3.toFixed(3)} | ${sorted[0]!.toFixed(3)}-${sorted.at(-1)!.toFixed(3)} |`,
  );
  return median(ratios);
}

console.log(
  `@app/flags telemetry cost: ${ROUNDS} interleaved rounds of ~${SAMPLE_MS} ms per side, ${BATCH} evaluations per call\n`,
);
console.log(
  '| scenario | default telemetry evals/s | telemetry: false evals/s | ratio (median) | IQR | min-max |',
);
console.log('|---|---:|---:|---:|---:|---:|');
const quiet = [
  compare('API installed, no SDK: isEnabled (50% rollout)', isEnabled),
  compare('API installed, no SDK: evaluate (variants)', evaluate),
];

// Phase 2: an SDK that records everything and exports nowhere.
const noopSpans: SpanExporter = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} };
const noopMetrics: PushMetricExporter = {
  export: (_m, done) => done({ code: 0 }),
  shutdown: async () => {},
  forceFlush: async () => {},
};
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(noopSpans)] });
const meterProvider = new MeterProvider({
  readers: [new PeriodicExportingMetricReader({ exporter: noopMetrics, exportIntervalMillis: 60_000 })],
});
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
trace.setGlobalTracerProvider(tracerProvider);
metrics.setGlobalMeterProvider(meterProvider);
compare('SDK, no active span (count only): isEnabled', isEnabled);
compare('SDK, inside a request span (event + count): isEnabled', inSpan(isEnabled));
compare('SDK, inside a request span (event + count): evaluate', inSpan(evaluate));
await tracerProvider.shutdown();
await meterProvider.shutdown();
await on.close();
await off.close();

const worst = Math.min(...quiet);
console.log(
  `\ntarget: API installed, no SDK within 3% of telemetry: false -> worst median ratio ${worst.toFixed(3)} (${worst >= 0.97 ? 'met' : 'NOT met'})`,
);
if (sink === 42) console.log('');
