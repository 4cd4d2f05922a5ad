// Issue 17's anchor workload, as written: 1,000 roles x 10 permissions (role i grants
// `resource{i}:action{0..9}`), 10,000 users with 2 random roles each, random (user, resource, action)
// triples; CASL `createMongoAbility(...).can` built per user. Ours and CASL run interleaved in one process
// (the task order rotates every round), each round times the same QUERIES calls per task, and the ratios are
// taken per round (same round, same machine load) and reported as medians with their spread.
//   pnpm --filter @app/permissions bench        (BENCH_ROUNDS, BENCH_CALLS to change the size)
// Writes bench/results.json (recordBenchResults), which scripts/collect-benchmarks.mjs gathers.
import { recordBenchResults } from '@app/test-harness';
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
const ONLY = process.env.BENCH_ONLY;
const CALLS = Number(process.env.BENCH_CALLS ?? 200_000);

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

// All must agree before their speed means anything.
let allowed = 0;
for (let i = 0; i < QUERIES; i++) {
  const ours = await permissions.check(users[i]!, actions[i]!, resources[i]!);
  const sync = snapshots.get(users[i]!)!.can(actions[i]!, resources[i]!);
  const casl = abilities.get(users[i]!)!.can(actions[i]!, resources[i]!);
  if (ours !== casl || sync !== casl) throw new Error(`disagreement on query ${i}: ${ours} ${sync} ${casl}`);
  if (ours) allowed++;
}
// The random triples are nearly all denied; a second query set asks only for what the user has, so the
// allow path is measured too.
const mine = Array.from({ length: QUERIES }, (_, i) => {
  const u = pick(USERS);
  return {
    i,
    user: `user${u}`,
    resource: `resource${userRoles[u]![pick(ROLES_PER_USER)]!}`,
    action: `action${pick(10)}`,
  };
});

const M = QUERIES - 1;
type Query = { user: string; action: string; resource: string };
const random: Query[] = users.map((user, k) => ({ user, action: actions[k]!, resource: resources[k]! }));

/** The three tasks of one query set: CASL, our awaited check, our synchronous snapshot. */
function tasksOf(label: string, queries: readonly Query[]): RoundTask[] {
  const loop = (decide: (q: Query) => boolean) => (calls: number) => {
    let n = 0;
    for (let i = 0; i < calls; i++) if (decide(queries[i & M]!)) n++;
    return n;
  };
  return [
    {
      name: `CASL ability.can (${label})`,
      run: loop((q) => abilities.get(q.user)!.can(q.action, q.resource)),
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
      run: loop((q) => snapshots.get(q.user)!.can(q.action, q.resource)),
    },
  ];
}
const tasks = [...tasksOf('random triples', random), ...tasksOf('granted triples', mine)];
if (ONLY) tasks.splice(0, tasks.length, ...tasks.filter((t) => t.name.includes(ONLY)));
const ns = await interleavedRounds(tasks, { rounds: ROUNDS, calls: CALLS });

const rows = [
  ['ours: await check (random triples)', 'CASL ability.can (random triples)', 1],
  ['ours: forSubject().can (random triples)', 'CASL ability.can (random triples)', 3],
  ['ours: await check (granted triples)', 'CASL ability.can (granted triples)', undefined],
  ['ours: forSubject().can (granted triples)', 'CASL ability.can (granted triples)', undefined],
] as const;
console.log(
  `\nAnchor workload (issue 17): ${ROLES} roles x ${PERMS_PER_ROLE} permissions, ${USERS} users x ${ROLES_PER_USER} random roles; ` +
    `${QUERIES} random triples (${allowed} allowed), all agree. ${ROUNDS} interleaved rounds of ${CALLS} calls per task; Node ${process.version}.\n`,
);
console.log('| task | ns per call (median of rounds) |');
console.log('|---|---:|');
for (const t of tasks) console.log(`| ${t.name} | ${median(ns[t.name]!).toFixed(1)} |`);
console.log(
  '\n| ours vs anchor | ratio (median per-round anchor/ours; > 1: ours faster) | quartiles | target |',
);
console.log('|---|---:|---:|---:|');
const measured = rows.filter(([ours, anchor]) => ns[ours] && ns[anchor]);
for (const [ours, anchor, target] of measured) {
  const ratios = perRound(ns, anchor, ours);
  const [q1, q3] = quartiles(ratios);
  console.log(
    `| ${ours} vs ${anchor} | ${median(ratios).toFixed(2)}x | ${q1.toFixed(2)}-${q3.toFixed(2)}x | ${target === undefined ? '—' : `>= ${target}x`} |`,
  );
}
recordBenchResults(
  import.meta.dirname,
  '@app/permissions',
  measured.map(([ours, anchor, target]) => ({
    measure: `${ours.replace('ours: ', '')} vs CASL`,
    anchor,
    ratios: perRound(ns, anchor, ours),
    ...(target === undefined ? {} : { target }),
    note: `issue 17 anchor workload, ${ROUNDS} interleaved rounds of ${CALLS} calls, CPU time; > 1: ours faster`,
  })),
);
await permissions.close();
