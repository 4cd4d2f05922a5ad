// Interleaved rounds, shared by the benches of this package: every task runs the same number of calls per
// round, the order rotating each round, timed in CPU time of the process (`process.cpuUsage`, user + system):
// on a shared machine the wall clock also counts the time other processes held the core. Ratios are taken
// per round (same round, same load) and reported as medians with quartiles.

/** A task: runs `calls` calls and returns anything (kept so the work is not optimised away). */
export interface RoundTask {
  name: string;
  run(calls: number): unknown;
}

/** CPU nanoseconds per call of each task, one figure per round. */
export type RoundTimes = Record<string, number[]>;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

export const quartiles = (xs: readonly number[]): readonly [number, number] => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor((s.length - 1) / 4)]!, s[Math.ceil(((s.length - 1) * 3) / 4)]!];
};

/** Runs every task `warmups` times (a quarter of `calls`), then `rounds` interleaved rounds of `calls`. */
export async function interleavedRounds(
  tasks: readonly RoundTask[],
  options: { rounds: number; calls: number; warmups?: number },
): Promise<RoundTimes> {
  for (let w = 0; w < (options.warmups ?? 3); w++) for (const t of tasks) await t.run(options.calls / 4);
  const ns: RoundTimes = Object.fromEntries(tasks.map((t) => [t.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (let j = 0; j < tasks.length; j++) {
      const t = tasks[(j + round) % tasks.length]!;
      const start = process.cpuUsage();
      await t.run(options.calls);
      const used = process.cpuUsage(start);
      ns[t.name]!.push(((used.user + used.system) * 1000) / options.calls);
    }
  }
  return ns;
}

/** Per round `base` time / `other` time (> 1: `other` is faster), as the list of per-round ratios. */
export function perRound(ns: RoundTimes, base: string, other: string): number[] {
  return ns[base]!.map((b, r) => b / ns[other]![r]!);
}
