// The cost of telemetry on DI resolves. Phase 1, @opentelemetry/api installed and no SDK registered: a
// container with the default `telemetry` against one with `telemetry: false` (compiled out), measured in
// interleaved rounds in one process (the order alternates), ratio per round; the target is within 3%.
// Scenarios: a transient async factory resolved with resolveAsync (the instrumented path: every resolve is
// a creation) and a transient class resolved with resolve (not instrumented). Phase 2, an SDK registered
// (BatchSpanProcessor with a no-op exporter, a MeterProvider whose reader never exports during the run).
// Run: pnpm --filter @app/di bench:telemetry   (DI_TELEMETRY_ROUNDS=n, default 21)
import 'reflect-metadata';
import { telemetryCostBench } from '@app/test-harness/bench';
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
// The same again, built the other way round: each sample runs half on each copy (see `copies`).
const off2 = containerWith(false);
const on2 = containerWith(undefined);

let sink = 0;
type Task = (c: Container) => Promise<void> | void;
const asyncResolve: Task = async (c) => {
  for (let j = 0; j < BATCH; j++) sink += (await c.resolveAsync(ASYNC)).n;
};
const syncResolve: Task = (c) => {
  for (let j = 0; j < BATCH; j++) if (c.resolve(LEAF)) sink++;
};

await telemetryCostBench({
  benchDir: import.meta.dirname,
  pkg: '@app/di',
  anchor: 'the same container with `telemetry: false`',
  title: `@app/di telemetry cost: ${ROUNDS} interleaved rounds of ~${SAMPLE_MS} ms per side, ${BATCH} resolves per call`,
  unit: 'resolves/s',
  on,
  off,
  copies: { on: on2, off: off2 },
  rounds: ROUNDS,
  batch: BATCH,
  sampleMs: SAMPLE_MS,
  noSdk: [
    {
      label: 'API installed, no SDK: transient async factory, resolveAsync',
      measure: 'telemetry cost, no SDK: async factory, resolveAsync',
      task: asyncResolve,
    },
    {
      label: 'API installed, no SDK: transient class, resolve',
      measure: 'telemetry cost, no SDK: transient class, resolve',
      task: syncResolve,
    },
  ],
  withSdk: [
    {
      label: 'SDK (span + count + duration): transient async factory, resolveAsync',
      measure: 'telemetry cost, SDK (span + count + duration): resolveAsync',
      task: asyncResolve,
    },
  ],
});
for (const c of [on, off, on2, off2]) await c.dispose();
if (sink === -1) console.log('');
