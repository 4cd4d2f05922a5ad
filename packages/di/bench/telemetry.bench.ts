// The cost of telemetry on DI resolves. Phase 1, @opentelemetry/api installed and no SDK registered: a
// container with the default `telemetry` against one with `telemetry: false` (compiled out), measured in
// interleaved rounds in one process (the order alternates), ratio per round; the target is within 3%.
// Scenarios: a transient async factory resolved with resolveAsync (the instrumented path: every resolve is
// a creation) and a transient class resolved with resolve (not instrumented). Phase 2, an SDK registered
// (BatchSpanProcessor with a no-op exporter, a MeterProvider whose reader never exports during the run).
// Run: pnpm --filter @app/di bench:telemetry   (DI_TELEMETRY_ROUNDS=n, default 21)
import 'reflect-metadata';
import {
  interleavedMeasure,
  interleavedSuite,
  recordBenchResults,
  startNoopOtelSdk,
} from '@app/test-harness/bench';
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

const compare = interleavedSuite({
  title: `@app/di telemetry cost: ${ROUNDS} interleaved rounds of ~${SAMPLE_MS} ms per side, ${BATCH} resolves per call`,
  unit: 'resolves/s',
  on,
  off,
  rounds: ROUNDS,
  batch: BATCH,
  sampleMs: SAMPLE_MS,
});
const quiet = [
  await compare('API installed, no SDK: transient async factory, resolveAsync', asyncResolve),
  await compare('API installed, no SDK: transient class, resolve', syncResolve),
];

const sdk = startNoopOtelSdk();
const withSdk = await compare(
  'SDK (span + count + duration): transient async factory, resolveAsync',
  asyncResolve,
);
await sdk.shutdown();
await on.dispose();
await off.dispose();

const worst = Math.min(...quiet.map((q) => q.median));
console.log(
  `\ntarget: API installed, no SDK within 3% of telemetry: false -> worst median ratio ${worst.toFixed(3)} (${worst >= 0.97 ? 'met' : 'NOT met'})`,
);
const OFF = 'the same container with `telemetry: false`';
const UNIT = 'resolves/s (CPU time)';
recordBenchResults(import.meta.dirname, '@app/di', [
  interleavedMeasure('telemetry cost, no SDK: async factory, resolveAsync', OFF, quiet[0]!, UNIT, 0.97),
  interleavedMeasure('telemetry cost, no SDK: transient class, resolve', OFF, quiet[1]!, UNIT, 0.97),
  interleavedMeasure('telemetry cost, SDK (span + count + duration): resolveAsync', OFF, withSdk, UNIT),
]);
if (sink === -1) console.log('');
