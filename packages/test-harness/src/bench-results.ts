import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

/** One measure of a benchmark: ours against an anchor, as ratios from repeated runs in one process. */
export interface BenchMeasure {
  /** What is measured, e.g. `permission check, cached (awaited) vs CASL can`. */
  measure: string;
  /** The anchor it is compared with, e.g. `CASL createMongoAbility(...).can`. */
  anchor: string;
  /** Ratio per run (ours / anchor for throughput; anchor / ours for latency: above 1 is always better). */
  ratios: number[];
  /** The target ratio (>=), when the issue sets one. */
  target?: number;
  /** A note shown beside the figure (what a ratio means here, the workload). */
  note?: string;
  /** Our figure per run (same runs as `ratios`), for scale: e.g. operations/s. @default undefined */
  ours?: number[];
  /** The anchor's figure per run (same runs as `ratios`). @default undefined */
  anchorValues?: number[];
  /** The unit of `ours` and `anchorValues`, e.g. `resolves/s` or `ms p99`. @default undefined */
  unit?: string;
}

/** The median of `xs` (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** A measure as stored in `bench/results.json`: the medians, the spread and the earlier runs' medians. */
export interface RecordedMeasure extends BenchMeasure {
  median: number;
  min: number;
  max: number;
  met: boolean | null;
  /** When this measure was recorded, and the machine's 1-minute load average then. */
  at: string;
  load: number;
  oursMedian?: number;
  anchorMedian?: number;
  /** The same measure's earlier recordings, newest first (at most {@link HISTORY}). */
  earlier: Array<{ at: string; median: number; min: number; max: number; load: number }>;
}

/** How many earlier recordings of a measure `bench/results.json` keeps. */
const HISTORY = 4;
const round = (x: number) => Number(x.toFixed(3));

function previous(file: string): Map<string, RecordedMeasure> {
  if (!existsSync(file)) return new Map();
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as { measures?: RecordedMeasure[] };
    return new Map((data.measures ?? []).map((m) => [m.measure, m]));
  } catch {
    return new Map();
  }
}

/**
 * Records measures in `bench/results.json` of a package: each measure's per-run ratios, median, spread
 * (min-max over the runs), whether the target is met, when it ran, and the medians of its earlier
 * recordings. A measure replaces the one of the same name; other measures in the file are kept, so several
 * bench files of a package can record into it. `node scripts/collect-benchmarks.mjs` merges every package's
 * file into `bench-results.json` and regenerates docs/benchmarks.md's table from it, so the doc never
 * disagrees with a run.
 *
 * @example
 * ```ts
 * recordBenchResults(import.meta.dirname, '@app/otp', [
 *   { measure: 'verify, 64 concurrent', anchor: 'raw EVALSHA', ratios: [0.61, 0.58, 0.64], target: 0.5 },
 * ]);
 * ```
 */
export function recordBenchResults(benchDir: string, pkg: string, measures: BenchMeasure[]): void {
  const file = join(benchDir, 'results.json');
  const kept = previous(file);
  const at = new Date().toISOString();
  const load = round(loadavg()[0] ?? 0);
  for (const m of measures) {
    const med = median(m.ratios);
    const before = kept.get(m.measure);
    const earlier = before
      ? [
          { at: before.at, median: before.median, min: before.min, max: before.max, load: before.load },
          ...(before.earlier ?? []),
        ].slice(0, HISTORY)
      : [];
    kept.set(m.measure, {
      ...m,
      median: round(med),
      min: round(Math.min(...m.ratios)),
      max: round(Math.max(...m.ratios)),
      met: m.target === undefined ? null : med >= m.target,
      at,
      load,
      ...(m.ours ? { oursMedian: round(median(m.ours)) } : {}),
      ...(m.anchorValues ? { anchorMedian: round(median(m.anchorValues)) } : {}),
      earlier,
    });
  }
  mkdirSync(benchDir, { recursive: true });
  const machine = { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg: loadavg() };
  const body = { package: pkg, at, machine, measures: [...kept.values()] };
  writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  for (const m of measures) {
    const r = kept.get(m.measure) as RecordedMeasure;
    const verdict = r.met === null ? '' : r.met ? ' (target met)' : ` (target ${r.target}x MISSED)`;
    console.log(`${pkg}: ${r.measure}: median ${r.median}x of ${r.anchor} [${r.min}-${r.max}]${verdict}`);
  }
}
