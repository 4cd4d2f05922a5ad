// Issue 17's anchor workload, as written: 1,000 roles x 10 permissions (role i grants
// `resource{i}:action{0..9}`), 10,000 users with 2 random roles each, random (user, resource, action)
// triples; CASL `createMongoAbility(...).can` built per user. Ours and CASL run interleaved in one process
// (the task order rotates every round), each round times the same QUERIES calls per task, and the ratios are
// taken per round (same round, same machine load) and reported as medians with their spread.
//   pnpm --filter @app/permissions bench        (BENCH_ROUNDS, BENCH_CALLS to change the size)
import { writeFileSync } from 'node:fs';
import { createMongoAbility, type MongoAbility } from '@casl/ability';
import { memoryPermissionStore } from '../src/adapters/memory.js';
import { createPermissionService, memoryPermissionCache, type SubjectPermissions } from '../src/index.js';
import { mulberry32 } from './prng.js';

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
type Task = { name: string; run: (calls: number) => number | Promise<number> };
const tasks: Task[] = [
  {
    name: 'CASL ability.can (random triples)',
    run(calls) {
      let n = 0;
      for (let i = 0; i < calls; i++) {
        const k = i & M;
        if (abilities.get(users[k]!)!.can(actions[k]!, resources[k]!)) n++;
      }
      return n;
    },
  },
  {
    name: 'ours: await check (random triples)',
    async run(calls) {
      let n = 0;
      for (let i = 0; i < calls; i++) {
        const k = i & M;
        if (await permissions.check(users[k]!, actions[k]!, resources[k]!)) n++;
      }
      return n;
    },
  },
  {
    name: 'ours: forSubject().can (random triples)',
    run(calls) {
      let n = 0;
      for (let i = 0; i < calls; i++) {
        const k = i & M;
        if (snapshots.get(users[k]!)!.can(actions[k]!, resources[k]!)) n++;
      }
      return n;
    },
  },
  {
    name: 'CASL ability.can (granted triples)',
    run(calls) {
      let n = 0;
      for (let i = 0; i < calls; i++) {
        const q = mine[i & M]!;
        if (abilities.get(q.user)!.can(q.action, q.resource)) n++;
      }
      return n;
    },
  },
  {
    name: 'ours: await check (granted triples)',
    async run(calls) {
      let n = 0;
      for (let i = 0; i < calls; i++) {
        const q = mine[i & M]!;
        if (await permissions.check(q.user, q.action, q.resource)) n++;
      }
      return n;
    },
  },
  {
    name: 'ours: forSubject().can (granted triples)',
    run(calls) {
      let n = 0;
      for (let i = 0; i < calls; i++) {
        const q = mine[i & M]!;
        if (snapshots.get(q.user)!.can(q.action, q.resource)) n++;
      }
      return n;
    },
  },
];

// Warm-up: every task a few times so that every function is optimised before timing.
if (ONLY) tasks.splice(0, tasks.length, ...tasks.filter((t) => t.name.includes(ONLY)));
for (let w = 0; w < 3; w++) for (const t of tasks) await t.run(CALLS / 4);

const ns: Record<string, number[]> = Object.fromEntries(tasks.map((t) => [t.name, []]));
for (let round = 0; round < ROUNDS; round++) {
  for (let j = 0; j < tasks.length; j++) {
    const t = tasks[(j + round) % tasks.length]!;
    // CPU time of this process (user + system), not wall time: on a shared machine the wall clock also counts
    // the time other processes held the core, which has nothing to do with either library.
    const start = process.cpuUsage();
    await t.run(CALLS);
    const used = process.cpuUsage(start);
    ns[t.name]!.push(((used.user + used.system) * 1000) / CALLS);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const quartiles = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return [s[Math.floor((s.length - 1) / 4)]!, s[Math.ceil(((s.length - 1) * 3) / 4)]!] as const;
};
/** Per round: anchor time / our time (> 1: ours is faster), then the median and quartiles over rounds. */
const ratio = (anchor: string, ours: string) => {
  const per = ns[anchor]!.map((a, r) => a / ns[ours]!.at(r)!);
  return { median: median(per), q: quartiles(per) };
};

const rows = [
  ['ours: await check (random triples)', 'CASL ability.can (random triples)', 1],
  ['ours: forSubject().can (random triples)', 'CASL ability.can (random triples)', 3],
  ['ours: await check (granted triples)', 'CASL ability.can (granted triples)', 1],
  ['ours: forSubject().can (granted triples)', 'CASL ability.can (granted triples)', 3],
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
const results = rows.map(([ours, anchor, target]) => {
  const r = ratio(anchor, ours);
  console.log(
    `| ${ours} vs ${anchor} | ${r.median.toFixed(2)}x | ${r.q[0].toFixed(2)}-${r.q[1].toFixed(2)}x | >= ${target}x |`,
  );
  return { ours, anchor, target, ratio: r.median, quartiles: r.q, met: r.median >= target };
});
if (process.env.BENCH_RESULTS) {
  writeFileSync(
    process.env.BENCH_RESULTS,
    `${JSON.stringify({ bench: 'permissions-anchor', node: process.version, rounds: ROUNDS, calls: CALLS, nsPerCall: Object.fromEntries(tasks.map((t) => [t.name, median(ns[t.name]!)])), ratios: results }, null, 2)}\n`,
  );
}
await permissions.close();
