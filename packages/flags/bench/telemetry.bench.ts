// The cost of telemetry on flag evaluation. Phase 1, @opentelemetry/api installed and no SDK registered:
// the default (`telemetry` unset) against `telemetry: false` (compiled out: no check at all), measured in
// interleaved rounds in one process (the order alternates), ratio per round; the target is within 3%.
// Phase 2, an SDK registered (BatchSpanProcessor with a no-op exporter, a MeterProvider with a reader that
// never exports during the run): the same against `telemetry: false`, measured, no target.
// Run: pnpm --filter @app/flags bench:telemetry   (FLAGS_TELEMETRY_ROUNDS=n, default 21)
import { telemetryCostBench } from '@app/test-harness/bench';
import { trace } from '@opentelemetry/api';
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
// The same again, built the other way round: each sample runs half on each copy (see `copies`).
const on2 = await flagsWith(undefined);
const off2 = await flagsWith(false);

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

const row = (label: string, measure: string, task: Task) => ({ label, measure, task });
await telemetryCostBench({
  benchDir: import.meta.dirname,
  pkg: '@app/flags',
  anchor: 'the same flags with `telemetry: false`',
  title: `@app/flags telemetry cost: ${ROUNDS} interleaved rounds of ~${SAMPLE_MS} ms per side, ${BATCH} evaluations per call`,
  unit: 'evals/s',
  on,
  off,
  copies: { on: on2, off: off2 },
  rounds: ROUNDS,
  batch: BATCH,
  sampleMs: SAMPLE_MS,
  noSdk: [
    row('API installed, no SDK: isEnabled (50% rollout)', 'telemetry cost, no SDK: isEnabled', isEnabled),
    row('API installed, no SDK: evaluate (variants)', 'telemetry cost, no SDK: evaluate', evaluate),
  ],
  // Phase 2: an SDK that records everything and exports nowhere.
  withSdk: [
    row('SDK, no active span (count only): isEnabled', 'telemetry cost, SDK: isEnabled, no span', isEnabled),
    row(
      'SDK, inside a request span (event + count): isEnabled',
      'telemetry cost, SDK: isEnabled in a span',
      inSpan(isEnabled),
    ),
    row(
      'SDK, inside a request span (event + count): evaluate',
      'telemetry cost, SDK: evaluate in a span',
      inSpan(evaluate),
    ),
  ],
});
for (const f of [on, off, on2, off2]) await f.close();
if (sink === 42) console.log('');
