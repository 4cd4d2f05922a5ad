/**
 * Interleaved rounds, the way every @app/otp benchmark compares two things on a shared, noisy machine: each
 * round runs a short block of each task (order flipped every round, so drifting load hits both alike) and
 * gives one throughput ratio per task against the first task (the anchor).
 */

/** A task: one call (resolving when done). */
export type BenchTask = () => Promise<unknown>;

/** Calls per second of `batches` batches of `concurrency` concurrent calls of `fn`. */
export async function block(fn: BenchTask, batches: number, concurrency: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let b = 0; b < batches; b++) await Promise.all(Array.from({ length: concurrency }, fn));
  return (batches * concurrency) / (Number(process.hrtime.bigint() - start) / 1e9);
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const quartiles = (xs: readonly number[]): [number, number] => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor((s.length - 1) / 4)]!, s[Math.ceil(((s.length - 1) * 3) / 4)]!];
};

/** Per-task rates and per-round ratios to the first task. */
export interface RoundsResult {
  /** Ratio to the first task, one per round, per task name. */
  ratios: Record<string, number[]>;
  /** A printable row per task. */
  rows: Array<Record<string, string | number>>;
}

/**
 * Runs `rounds` interleaved rounds of `tasks` (the first is the anchor) after one warm-up block each, and
 * prints a table of median calls/s and ratios.
 */
export async function interleave(
  title: string,
  tasks: Record<string, BenchTask>,
  options: { rounds: number; batches: number; concurrency: number },
): Promise<RoundsResult> {
  const names = Object.keys(tasks);
  const run = (name: string) => block(tasks[name]!, options.batches, options.concurrency);
  for (const name of names) await run(name);
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const name of round % 2 === 0 ? names : [...names].reverse()) rates[name]!.push(await run(name));
  }
  const anchor = rates[names[0]!]!;
  const ratios = Object.fromEntries(names.map((n) => [n, rates[n]!.map((r, i) => r / anchor[i]!)]));
  const rows = names.map((name) => {
    const [q1, q3] = quartiles(ratios[name]!);
    return {
      task: `${name} x${options.concurrency}`,
      'median calls/s': Math.round(median(rates[name]!)),
      'ratio (median)': Number(median(ratios[name]!).toFixed(3)),
      'ratio IQR': `${q1.toFixed(2)}-${q3.toFixed(2)}`,
    };
  });
  console.log(`\n${title} (${options.rounds} interleaved rounds of ${options.batches} batches)`);
  console.table(rows);
  return { ratios, rows };
}
