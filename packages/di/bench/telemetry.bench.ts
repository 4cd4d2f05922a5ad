// The cost of telemetry on DI resolves. Phase 1, @opentelemetry/api installed and no SDK registered: a
// container with the default `telemetry` against one with `telemetry: false` (compiled out), measured in
// interleaved rounds in one process (the order alternates), ratio per round; the target is within 3%.
// Scenarios: a transient async factory resolved with resolveAsync (the instrumented path: every resolve is
// a creation) and a transient class resolved with resolve (not instrumented). Phase 2, an SDK registered
// (BatchSpanProcessor with a no-op exporter, a MeterProvider whose reader never exports during the run).
// Run: pnpm --filter @app/di bench:telemetry   (DI_TELEMETRY_ROUNDS=n, default 21)
import 'reflect-metadata';
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  type PushMetricExporter,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { type Container, createContainer, createToken } from '../src/index.js';

const ROUNDS = Number(process.env.DI_TELEMETRY_ROUNDS ?? 21);
const BATCH = 100;
const SAMPLE_MS = 200;

class Leaf {}
const ASYNC = createToken<{ n: number }>('AsyncTransient');
const LEAF = createToken<Leaf>('Leaf');
function containerWith(telemetry: false | undefined): Container {
  const c = createContainer({ telemetry });
  c.register(ASYNC, { lifetime: 'transient', useAsyncFactory: async () => ({ n: 1 }) });
  c.register(LEAF, { lifetime: 'transient', useClass: Leaf });
  return c;
}
const on = containerWith(undefined);
const off = containerWith(false);

let sink = 0;
type Task = (c: Container) => Promise<void> | void;
const asyncResolve: Task = async (c) => {
  for (let j = 0; j < BATCH; j++) sink += (await c.resolveAsync(ASYNC)).n;
};
const syncResolve: Task = (c) => {
  for (let j = 0; j < BATCH; j++) if (c.resolve(LEAF)) sink++;
};

// Rates use this process's CPU time (process.cpuUsage), not wall time: on a machine shared with other
// builds, time spent descheduled would otherwise swamp a 3% difference.
function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}
async function sample(task: Task, c: Container): Promise<number> {
  let n = 0;
  const until = process.hrtime.bigint() + BigInt(SAMPLE_MS * 1e6);
  const cpu = cpuMicros();
  while (process.hrtime.bigint() < until) {
    await task(c);
    n++;
  }
  return (n * BATCH) / ((cpuMicros() - cpu) / 1e6);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(0)} k`);

async function compare(label: string, task: Task): Promise<number> {
  await sample(task, on);
  await sample(task, off);
  const ratios: number[] = [];
  const onRates: number[] = [];
  const offRates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const first = r % 2 === 0 ? on : off;
    const x = await sample(task, first);
    const y = await sample(task, first === on ? off : on);
    const [a, b] = first === on ? [x, y] : [y, x];
    onRates.push(a);
    offRates.push(b);
    ratios.push(a / b);
  }
  const sorted = [...ratios].sort((p, q) => p - q);
  const q1 = sorted[Math.floor(sorted.length / 4)]!;
  const q3 = sorted[Math.floor((sorted.length * 3) / 4)]!;
  console.log(
    `| ${label} | ${fmt(median(onRates))} | ${fmt(median(offRates))} | ${median(ratios).toFixed(3)} | ${q1.toFixed(3)}-${q3.toFixed(3)} | ${sorted[0]!.toFixed(3)}-${sorted.at(-1)!.toFixed(3)} |`,
  );
  return median(ratios);
}

console.log(
  `@app/di telemetry cost: ${ROUNDS} interleaved rounds of ~${SAMPLE_MS} ms per side, ${BATCH} resolves per call\n`,
);
console.log(
  '| scenario | default telemetry resolves/s | telemetry: false resolves/s | ratio (median) | IQR | min-max |',
);
console.log('|---|---:|---:|---:|---:|---:|');
const quiet = [
  await compare('API installed, no SDK: transient async factory, resolveAsync', asyncResolve),
  await compare('API installed, no SDK: transient class, resolve', syncResolve),
];

const noopSpans: SpanExporter = { export: (_s, done) => done({ code: 0 }), shutdown: async () => {} };
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
await compare('SDK (span + count + duration): transient async factory, resolveAsync', asyncResolve);
await tracerProvider.shutdown();
await meterProvider.shutdown();
await on.dispose();
await off.dispose();

const worst = Math.min(...quiet);
console.log(
  `\ntarget: API installed, no SDK within 3% of telemetry: false -> worst median ratio ${worst.toFixed(3)} (${worst >= 0.97 ? 'met' : 'NOT met'})`,
);
if (sink === -1) console.log('');
