// Issue 17's anchor workload, as written: 1,000 roles x 10 permissions (role i grants
// `resource{i}:action{0..9}`), 10,000 users with 2 random roles each, random (user, resource, action)
// triples; CASL `createMongoAbility(...).can` built per user. Measured as the issue measured it: three fresh
// processes, ours and CASL interleaved in each (the task order rotates every round; each round times the same
// CALLS calls per task, in CPU time), ratios taken per round (same round, same machine load), the median of
// each process's rounds, then the median of the processes. A second query set (triples the user was
// granted: the allow path, no target) runs in processes of its own, so it cannot change the JIT state the
// issue's workload is measured in.
//   pnpm --filter @app/permissions bench        (BENCH_PROCESSES, BENCH_ROUNDS, BENCH_CALLS to change the size)
// Writes bench/results.json (recordBenchResults), which scripts/collect-benchmarks.mjs gathers.
import { freshProcessResult, printResult, recordBenchResults } from '@app/test-harness';
import { createMongoAbility, type MongoAbility } from '@casl/ability';
import { memoryPermissionStore } from '../src/adapters/memory.js';
import { createPermissionService, memoryPermissionCache, type SubjectPermissions } from '../src/index.js';
import { mulberry32 } from './prng.js';
import { interleavedRounds, median, perRound, quartiles, type RoundTask } from './rounds.js';

const ROLES = 1000;
const PERMS_PER_ROLE = 10;
const USERS = 10_000;
const ROLES_PER_USER = 2;
const QUERIES = 1 << 16;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 3);
// 'fresh strings': the random triples, each call given new copies of its action and type strings (as a name
// parsed from a request would be), so neither side gains from V8 having internalised the query strings.
const SETS = ['random triples', 'granted triples', 'fresh strings'] as const;
type QuerySet = (typeof SETS)[number];
/** Set in a child: the query set it measures. */
const CHILD = process.env.ANCHOR_CHILD as QuerySet | undefined;

/** Runs one fresh process on `set`; resolves to its CPU ns per call per task and round. */
const child = (set: QuerySet) =>
  freshProcessResult<Record<string, number[]>>(import.meta.filename, { ANCHOR_CHILD: set });

if (!CHILD) await parent();
else await measure(CHILD);

async function parent(): Promise<void> {
  const runs: Record<string, number[]>[] = [];
  for (const set of SETS) for (let p = 0; p < PROCESSES; p++) runs.push(await child(set));
  const rows = [
    ['await check (random triples)', 'CASL ability.can (random triples)', 1],
    ['forSubject().can (random triples)', 'CASL ability.can (random triples)', 3],
    ['await check (granted triples)', 'CASL ability.can (granted triples)', undefined],
    ['forSubject().can (granted triples)', 'CASL ability.can (granted triples)', undefined],
    ['await check (fresh strings)', 'CASL ability.can (fresh strings)', undefined],
    ['forSubject().can (fresh strings)', 'CASL ability.can (fresh strings)', undefined],
  ] as const;
  console.log(
    `\nAnchor workload (issue 17): ${ROLES} roles x ${PERMS_PER_ROLE} permissions, ${USERS} users x ${ROLES_PER_USER} random roles, ` +
      `${QUERIES} triples per set; ${PROCESSES} fresh processes per set, ${ROUNDS} interleaved rounds of ${CALLS} calls per task; Node ${process.version}.\n`,
  );
  console.log('| task | CPU ns per call (median of rounds, per process) |');
  console.log('|---|---:|');
  for (const name of [...new Set(runs.flatMap((r) => Object.keys(r)))])
    console.log(
      `| ${name} | ${runs
        .filter((r) => r[name])
        .map((r) => median(r[name]!).toFixed(1))
        .join(' / ')} |`,
    );
  console.log(
    '\n| ours vs CASL | ratio (median of the process medians; > 1: ours faster) | per process | per-round quartiles | target |',
  );
  console.log('|---|---:|---:|---:|---:|');
  const measured = rows.map(([ours, anchor, target]) => {
    const mine = runs.filter((r) => r[`ours: ${ours}`] && r[anchor]);
    const perProcess = mine.map((r) => median(perRound(r, anchor, `ours: ${ours}`)));
    const [q1, q3] = quartiles(mine.flatMap((r) => perRound(r, anchor, `ours: ${ours}`)));
    console.log(
      `| ${ours} | ${median(perProcess).toFixed(2)}x | ${perProcess.map((x) => x.toFixed(2)).join(' / ')} | ${q1.toFixed(2)}-${q3.toFixed(2)}x | ${target === undefined ? '—' : `>= ${target}x`} |`,
    );
    return { ours, anchor, target, perProcess };
  });
  recordBenchResults(
    import.meta.dirname,
    '@app/permissions',
    measured.map(({ ours, anchor, target, perProcess }) => ({
      measure: `${ours} vs CASL`,
      anchor,
      ratios: perProcess,
      ...(target === undefined ? {} : { target }),
      note: `issue 17 anchor workload; each ratio is one fresh process's median over ${ROUNDS} interleaved rounds of ${CALLS} calls, CPU time; > 1: ours faster`,
    })),
  );
}

/** One child: builds the workload, checks that all agree, times `set`'s three tasks and prints them. */
async function measure(set: QuerySet): Promise<void> {
  const rand = mulberry32(17);
  const pick = (n: number) => Math.floor(rand() * n);

  const userRoles = Array.from({ length: USERS }, () =>
    Array.from({ length: ROLES_PER_USER }, () => pick(ROLES)),
  );
  const users = Array.from({ length: QUERIES }, () => `user${pick(USERS)}`);
  const resources = Array.from({ length: QUERIES }, () => `resource${pick(ROLES)}`);
  const actions = Array.from({ length: QUERIES }, () => `action${pick(PERMS_PER_ROLE)}`);

  // Ours: the memory store and the default in-process cache, every user warmed.
  const store = memoryPermissionStore();
  const permissions = createPermissionService({
    store,
    // An hour: on a loaded machine the run can outlast the default 60 s, and a 'cached' check would reload.
    cache: memoryPermissionCache({ maxEntries: USERS * 2, ttlMs: 3_600_000 }),
  });
  for (let r = 0; r < ROLES; r++)
    for (let a = 0; a < PERMS_PER_ROLE; a++) await permissions.grant(`role${r}`, `resource${r}:action${a}`);
  for (let u = 0; u < USERS; u++)
    for (const r of userRoles[u]!) await permissions.assign(`user${u}`, `role${r}`);
  for (let u = 0; u < USERS; u++) await permissions.check(`user${u}`, 'action0', 'resource0');
  const snapshots = new Map<string, SubjectPermissions>();
  for (let u = 0; u < USERS; u++) snapshots.set(`user${u}`, await permissions.forSubject(`user${u}`));

  // CASL: one ability per user, built ahead (what an app keeps per user).
  const abilities = new Map<string, MongoAbility>();
  for (let u = 0; u < USERS; u++) {
    const rules = userRoles[u]!.flatMap((r) =>
      Array.from({ length: PERMS_PER_ROLE }, (_, a) => ({ action: `action${a}`, subject: `resource${r}` })),
    );
    abilities.set(`user${u}`, createMongoAbility(rules));
  }

  type Query = { user: string; action: string; resource: string };
  const random: Query[] = users.map((user, k) => ({ user, action: actions[k]!, resource: resources[k]! }));
  // The random triples are nearly all denied; a second query set asks only for what the user has, so the
  // allow path is measured too.
  const granted: Query[] = Array.from({ length: QUERIES }, () => {
    const u = pick(USERS);
    return {
      user: `user${u}`,
      resource: `resource${userRoles[u]![pick(ROLES_PER_USER)]!}`,
      action: `action${pick(10)}`,
    };
  });
  const queries = set === 'granted triples' ? granted : random;

  // All must agree before their speed means anything.
  let allowed = 0;
  for (const [i, q] of queries.entries()) {
    const ours = await permissions.check(q.user, q.action, q.resource);
    const sync = snapshots.get(q.user)!.can(q.action, q.resource);
    const casl = abilities.get(q.user)!.can(q.action, q.resource);
    if (ours !== casl || sync !== casl)
      throw new Error(`disagreement on query ${i}: ${ours} ${sync} ${casl}`);
    if (ours) allowed++;
  }
  console.error(`${set}: ${allowed} of ${QUERIES} allowed; ours (awaited and sync) and CASL agree on all`);
  const M = QUERIES - 1;

  /**
   * The three tasks of one query set: CASL, our awaited check, our synchronous snapshot. Each loop is written
   * out in its own task: one loop shared through a callback would call two targets from one call site, so
   * V8 could inline neither and would add the same call cost to both sides (a constant that shrinks the
   * ratio of whichever is faster).
   */
  function tasksOf(label: string): RoundTask[] {
    return [
      {
        name: `CASL ability.can (${label})`,
        run(calls) {
          let n = 0;
          for (let i = 0; i < calls; i++) {
            const q = queries[i & M]!;
            if (abilities.get(q.user)!.can(q.action, q.resource)) n++;
          }
          return n;
        },
      },
      {
        name: `ours: await check (${label})`,
        async run(calls) {
          let n = 0;
          for (let i = 0; i < calls; i++) {
            const q = queries[i & M]!;
            if (await permissions.check(q.user, q.action, q.resource)) n++;
          }
          return n;
        },
      },
      {
        name: `ours: forSubject().can (${label})`,
        run(calls) {
          let n = 0;
          for (let i = 0; i < calls; i++) {
            const q = queries[i & M]!;
            if (snapshots.get(q.user)!.can(q.action, q.resource)) n++;
          }
          return n;
        },
      },
    ];
  }
  /** A new string with the characters of `s` (short strings are copied, never sliced or shared). */
  const fresh = (s: string) => ` ${s}`.slice(1);
  /** The three tasks on the random triples, each call on new copies of its action and type. */
  function freshTasks(label: string): RoundTask[] {
    return [
      {
        name: `CASL ability.can (${label})`,
        run(calls) {
          let n = 0;
          for (let i = 0; i < calls; i++) {
            const q = queries[i & M]!;
            if (abilities.get(q.user)!.can(fresh(q.action), fresh(q.resource))) n++;
          }
          return n;
        },
      },
      {
        name: `ours: await check (${label})`,
        async run(calls) {
          let n = 0;
          for (let i = 0; i < calls; i++) {
            const q = queries[i & M]!;
            if (await permissions.check(q.user, fresh(q.action), fresh(q.resource))) n++;
          }
          return n;
        },
      },
      {
        name: `ours: forSubject().can (${label})`,
        run(calls) {
          let n = 0;
          for (let i = 0; i < calls; i++) {
            const q = queries[i & M]!;
            if (snapshots.get(q.user)!.can(fresh(q.action), fresh(q.resource))) n++;
          }
          return n;
        },
      },
    ];
  }
  const tasks = set === 'fresh strings' ? freshTasks(set) : tasksOf(set);
  const ns = await interleavedRounds(tasks, { rounds: ROUNDS, calls: CALLS });
  printResult(ns);
  await permissions.close();
}
