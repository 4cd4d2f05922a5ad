import { mkdirSync, writeFileSync } from 'node:fs';
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
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/**
 * Writes `bench/results.json` of a package: each measure's per-run ratios, median, spread and whether the
 * target is met. `node scripts/collect-benchmarks.mjs` merges every package's file into `bench-results.json`
 * and regenerates the summary of docs/benchmarks.md from it, so the doc never disagrees with a run.
 *
 * @example
 * ```ts
 * recordBenchResults(import.meta.dirname, '@app/otp', [
 *   { measure: 'verify, 64 concurrent', anchor: 'raw EVALSHA', ratios: [0.61, 0.58, 0.64], target: 0.5 },
 * ]);
 * ```
 */
export function recordBenchResults(benchDir: string, pkg: string, measures: BenchMeasure[]): void {
  const rows = measures.map((m) => {
    const med = median(m.ratios);
    return {
      ...m,
      median: Number(med.toFixed(3)),
      min: Number(Math.min(...m.ratios).toFixed(3)),
      max: Number(Math.max(...m.ratios).toFixed(3)),
      met: m.target === undefined ? null : med >= m.target,
    };
  });
  mkdirSync(benchDir, { recursive: true });
  writeFileSync(
    join(benchDir, 'results.json'),
    `${JSON.stringify(
      {
        package: pkg,
        at: new Date().toISOString(),
        machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavg: loadavg() },
        measures: rows,
      },
      null,
      2,
    )}\n`,
  );
  for (const r of rows) {
    const verdict = r.met === null ? '' : r.met ? ' (target met)' : ` (target ${r.target}x MISSED)`;
    console.log(`${pkg}: ${r.measure}: median ${r.median}x of ${r.anchor} [${r.min}-${r.max}]${verdict}`);
  }
}
