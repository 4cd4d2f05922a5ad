// The cost of telemetry on an awaited, cached `check`. Phase 1, @opentelemetry/api installed and no SDK
// registered: the default (`telemetry` unset: the global providers) against `telemetry: false` (no check at
// all); target within 3%. Phase 2, an SDK registered (BatchSpanProcessor with a no-op exporter, a
// MeterProvider whose reader does not export during the run): the same, measured, no target — outside any
// span, and inside request spans of 100 checks each (a `permissions.check` event per check).
// Phase 1 runs in three fresh processes (the method): its 3% target is about the size of what one
// process's JIT and allocation luck shifts, so the figure is the median of the three process medians.
// Run: pnpm --filter @app/permissions bench:telemetry   (BENCH_ROUNDS, BENCH_CALLS, BENCH_QUIET_CALLS,
// BENCH_PROCESSES)
import { freshProcessResult, printResult } from '@app/test-harness';
import { type BenchMeasure, recordBenchResults, startNoopOtelSdk } from '@app/test-harness/bench';
import { trace } from '@opentelemetry/api';
import { memoryPermissionStore } from '../src/adapters/memory.js';
import { createPermissionService, memoryPermissionCache, type PermissionService } from '../src/index.js';
import { mulberry32 } from './prng.js';
import { interleavedRounds, median, perRound, quartiles } from './rounds.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 21);
const CALLS = Number(process.env.BENCH_CALLS ?? 100_000);
// The no-SDK comparison looks for a 3% difference: samples of 1,000,000 checks (~150 ms) keep a GC pause or
// a scheduler blip from deciding a round (100,000 gave per-round quartiles of +-8%, 1,000,000 +-2%).
const QUIET_CALLS = Number(process.env.BENCH_QUIET_CALLS ?? 1_000_000);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 3);
/** Set in a child: it measures phase 1 only and prints its times. */
const CHILD = process.env.TELEMETRY_CHILD === '1';
const USERS = 2_000;
const QUERIES = 1 << 14;
const M = QUERIES - 1;

const rand = mulberry32(19);
const pick = (n: number) => Math.floor(rand() * n);
const store = memoryPermissionStore();
async function service(telemetry: false | undefined): Promise<PermissionService> {
  const s = createPermissionService({
    store,
    cache: memoryPermissionCache({ maxEntries: USERS * 2, ttlMs: 3_600_000 }),
    telemetry,
  });
  for (let u = 0; u < USERS; u++) await s.check(`user${u}`, 'read', 'doc');
  return s;
}
for (let r = 0; r < 100; r++) {
  await store.addRule(`role${r}`, { effect: 'allow', resource: `doc${r % 10}`, action: 'read' });
  await store.addRule(`role${r}`, { effect: 'deny', resource: `doc${r % 10}`, action: 'delete' });
}
for (let u = 0; u < USERS; u++)
  await store.assign({ subject: `user${u}`, role: `role${pick(100)}`, scope: {} });
const queries = Array.from({ length: QUERIES }, () => ({
  user: `user${pick(USERS)}`,
  action: rand() < 0.5 ? 'read' : 'delete',
  resource: `doc${pick(10)}`,
}));
const on = await service(undefined);
const off = await service(false);
// The same two again, created in the opposite order. Which of two identical services was built first
// shifts its speed by a few per cent (allocation order; measured both ways round), as much as the 3% sought:
// each side runs half its calls on each copy, so the order cancels out.
const off2 = await service(false);
const on2 = await service(undefined);
const halves =
  (a: (calls: number) => Promise<number>, b: (calls: number) => Promise<number>) => async (calls: number) =>
    (await a(calls >> 1)) + (await b(calls - (calls >> 1)));

const checks = (permissions: PermissionService) => async (calls: number) => {
  let n = 0;
  for (let i = 0; i < calls; i++) {
    const q = queries[i & M]!;
    if (await permissions.check(q.user, q.action, q.resource)) n++;
  }
  return n;
};
const inRequests = (permissions: PermissionService) => async (calls: number) => {
  const run = checks(permissions);
  const tracer = trace.getTracer('bench');
  for (let i = 0; i < calls; i += 100)
    await tracer.startActiveSpan('request', async (span) => {
      await run(100);
      span.end();
    });
};

const measures: BenchMeasure[] = [];
type Times = Record<string, number[]>;

/** CPU ns per check of the two sides, interleaved rounds. */
const time = (
  withTelemetry: (calls: number) => unknown,
  without: (calls: number) => unknown,
  calls: number,
) =>
  interleavedRounds(
    [
      { name: 'default', run: withTelemetry },
      { name: 'telemetry: false', run: without },
    ],
    { rounds: ROUNDS, calls },
  );

/** Prints a row and records it; `runs` are one or more processes' times. Returns the median ratio. */
function report(label: string, runs: Times[], calls: number, target?: number): number {
  // telemetry: false time / default time: 1.00 = no cost, 0.97 = 3% slower.
  const perRun = runs.map((ns) => perRound(ns, 'telemetry: false', 'default'));
  const medians = perRun.map(median);
  const [q1, q3] = quartiles(perRun.flat());
  const ns = (side: string) => median(runs.map((r) => median(r[side]!))).toFixed(1);
  const perProcess = runs.length > 1 ? ` (processes ${medians.map((m) => m.toFixed(3)).join(' / ')})` : '';
  console.log(
    `| ${label} | ${ns('default')} | ${ns('telemetry: false')} | ${median(medians).toFixed(3)}${perProcess} | ${q1.toFixed(3)}-${q3.toFixed(3)} |`,
  );
  measures.push({
    measure: `telemetry: ${label}`,
    anchor: 'the same check with telemetry: false',
    // One process: its rounds; several: each process's median.
    ratios: runs.length > 1 ? medians : perRun[0]!,
    ...(target === undefined ? {} : { target }),
    note:
      runs.length > 1
        ? `awaited cached check; each ratio is one fresh process's median over ${ROUNDS} interleaved rounds of ${calls} calls, CPU time; 1.00 = no cost`
        : `awaited cached check, ${ROUNDS} interleaved rounds of ${calls} calls, CPU time; 1.00 = no cost`,
  });
  return median(medians);
}

const quietPhase = () =>
  time(halves(checks(on), checks(on2)), halves(checks(off), checks(off2)), QUIET_CALLS);

if (CHILD) {
  printResult(await quietPhase());
} else {
  console.log(
    `@app/permissions telemetry cost: ${ROUNDS} interleaved rounds of ${QUIET_CALLS} (no SDK; ${PROCESSES} fresh processes) or ${CALLS} (SDK) awaited cached checks; Node ${process.version}\n`,
  );
  console.log(
    '| scenario | default ns/check | telemetry: false ns/check | ratio (median, false/default) | IQR of rounds |',
  );
  console.log('|---|---:|---:|---:|---:|');
  const runs: Times[] = [];
  for (let p = 0; p < PROCESSES; p++)
    runs.push(await freshProcessResult<Times>(import.meta.filename, { TELEMETRY_CHILD: '1' }));
  const quiet = report('API installed, no SDK', runs, QUIET_CALLS, 0.97);

  const sdk = startNoopOtelSdk();
  report(
    'SDK + no-op exporter, no active span (counters only)',
    [await time(checks(on), checks(off), CALLS)],
    CALLS,
  );
  report(
    'SDK + no-op exporter, in request spans (event + counters)',
    [await time(inRequests(on), inRequests(off), CALLS)],
    CALLS,
  );
  await sdk.shutdown();

  // recordBenchResults keeps the anchor bench's measures in the package's results.json.
  recordBenchResults(import.meta.dirname, '@app/permissions', measures);
  console.log(
    `\ntarget: API installed, no SDK within 3% of telemetry: false -> ${quiet.toFixed(3)} (${quiet >= 0.97 ? 'met' : 'NOT met'})`,
  );
}
await Promise.all([on, off, on2, off2].map((p) => p.close()));
