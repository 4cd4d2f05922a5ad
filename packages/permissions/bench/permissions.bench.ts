// Cached `check` against CASL `ability.can` and node-casbin `enforce` on the same RBAC policy:
// 1,000 roles x 10 permissions, 10,000 users with 3 roles each. Run: pnpm --filter @app/permissions bench
import { unlinkByPrefix } from '@app/test-harness';
import { createMongoAbility, type MongoAbility } from '@casl/ability';
import { newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { Redis } from 'ioredis';
import { Bench } from 'tinybench';
import { memoryPermissionStore } from '../src/adapters/memory.js';
import { redisPermissionCache } from '../src/adapters/redis.js';
import { createPermissionService, memoryPermissionCache } from '../src/index.js';
import { mulberry32 } from './prng.js';

const ROLES = 1000;
const PERMS_PER_ROLE = 10;
const USERS = 10_000;
const ROLES_PER_USER = 3;
const RESOURCES = 200;
const ACTIONS = 10;
const QUERIES = 4096;

const rand = mulberry32(42);
const pick = (n: number) => Math.floor(rand() * n);

// The policy, shared by the three libraries.
const rolePerms: [resource: string, action: string][][] = Array.from({ length: ROLES }, () =>
  Array.from({ length: PERMS_PER_ROLE }, () => [`res${pick(RESOURCES)}`, `act${pick(ACTIONS)}`]),
);
const userRoles: number[][] = Array.from({ length: USERS }, () =>
  Array.from({ length: ROLES_PER_USER }, () => pick(ROLES)),
);
// Half the queries ask for something the user has, half for something random (mostly denied).
const queries = Array.from({ length: QUERIES }, () => {
  const u = pick(USERS);
  if (rand() < 0.5) {
    const role = userRoles[u]![pick(ROLES_PER_USER)]!;
    const [resource, action] = rolePerms[role]![pick(PERMS_PER_ROLE)]!;
    return { user: `user${u}`, resource, action };
  }
  return { user: `user${u}`, resource: `res${pick(RESOURCES)}`, action: `act${pick(ACTIONS)}` };
});

// @app/permissions over the memory store, counting store queries.
let storeQueries = 0;
const store = memoryPermissionStore({ onQuery: () => storeQueries++ });
const permissions = createPermissionService({
  store,
  // An hour: on a loaded machine the setup alone can outlast the default 60 s, and then 'cached' would reload.
  cache: memoryPermissionCache({ maxEntries: USERS * 2, ttlMs: 3_600_000 }),
});
for (let r = 0; r < ROLES; r++)
  for (const [res, act] of rolePerms[r]!)
    await store.addRule(`role${r}`, { effect: 'allow', resource: res, action: act });
for (let u = 0; u < USERS; u++)
  for (const r of userRoles[u]!) await store.assign({ subject: `user${u}`, role: `role${r}`, scope: {} });
const uncached = createPermissionService({ store, cache: memoryPermissionCache({ ttlMs: 0 }) });

storeQueries = 0;
await permissions.check('user0', 'act0', 'res0');
const coldQueries = storeQueries;
for (let u = 0; u < USERS; u++) await permissions.check(`user${u}`, 'act0', 'res0'); // warm every user
const snapshots = new Map<string, Awaited<ReturnType<typeof permissions.forSubject>>>();
for (let u = 0; u < USERS; u++) snapshots.set(`user${u}`, await permissions.forSubject(`user${u}`));

// The same service with the Redis cache in its default strict mode: one round trip per check to local Redis.
const redisPrefix = `bench:perm:${process.pid}:`;
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  lazyConnect: true,
  maxRetriesPerRequest: 1,
});
const redisOk = await redis.connect().then(
  () => true,
  () => false,
);
const viaRedis = createPermissionService({
  store,
  cache: redisPermissionCache({ client: redis, keyPrefix: redisPrefix }),
});
if (redisOk) for (const q of queries) await viaRedis.check(q.user, q.action, q.resource);

// CASL: one ability per user, built ahead (what an app caches per user).
const abilities = new Map<string, MongoAbility>();
for (let u = 0; u < USERS; u++) {
  const rules = userRoles[u]!.flatMap((r) => rolePerms[r]!.map(([subject, action]) => ({ action, subject })));
  abilities.set(`user${u}`, createMongoAbility(rules));
}

// node-casbin: the classic RBAC model, policy loaded from text.
const model = newModelFromString(`
[request_definition]
r = sub, obj, act
[policy_definition]
p = sub, obj, act
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
`);
const lines: string[] = [];
for (let r = 0; r < ROLES; r++)
  for (const perm of new Set(rolePerms[r]!.map((p) => p.join(', ')))) lines.push(`p, role${r}, ${perm}`);
for (let u = 0; u < USERS; u++) for (const r of new Set(userRoles[u]!)) lines.push(`g, user${u}, role${r}`);
const enforcer = await newEnforcer(model, new StringAdapter(lines.join('\n')));

// All must agree before their speed means anything (casbin on fewer queries: each costs a policy scan).
let allowedCount = 0;
for (const [n, q] of queries.entries()) {
  const ours = await permissions.check(q.user, q.action, q.resource);
  if (ours !== snapshots.get(q.user)!.can(q.action, q.resource)) throw new Error('snapshot disagrees');
  const casl = abilities.get(q.user)!.can(q.action, q.resource);
  const casbin = n < 40 ? await enforcer.enforce(q.user, q.resource, q.action) : casl;
  if (ours) allowedCount++;
  if (ours !== casl || ours !== casbin)
    throw new Error(`disagreement on ${JSON.stringify(q)}: ${ours} ${casl} ${casbin}`);
}

// Each iteration runs a batch of checks, so the timer's own cost (~1 µs here) does not swamp sub-µs calls.
const BATCH = 64;
let i = 0;
const next = () => queries[i++ & (QUERIES - 1)]!;
const bench = new Bench({ time: Number(process.env.BENCH_TIME_MS ?? 2000), warmupTime: 300 });
bench
  .add('@app/permissions check (cached)', async () => {
    for (let n = 0; n < BATCH; n++) {
      const q = next();
      await permissions.check(q.user, q.action, q.resource);
    }
  })
  .add('@app/permissions forSubject().can (sync snapshot)', () => {
    for (let n = 0; n < BATCH; n++) {
      const q = next();
      snapshots.get(q.user)!.can(q.action, q.resource);
    }
  })
  .add('CASL ability.can', () => {
    for (let n = 0; n < BATCH; n++) {
      const q = next();
      abilities.get(q.user)!.can(q.action, q.resource);
    }
  })
  .add('casbin enforce', async () => {
    const q = next();
    await enforcer.enforce(q.user, q.resource, q.action);
  })
  .add('@app/permissions check (strict Redis cache, 1 round trip)', async () => {
    const q = next();
    if (redisOk) await viaRedis.check(q.user, q.action, q.resource);
  })
  .add('@app/permissions check (cold: load + compile every time)', async () => {
    for (let n = 0; n < BATCH; n++) {
      const q = next();
      await uncached.check(q.user, q.action, q.resource);
    }
  });
await bench.run();

const single = new Set(['casbin enforce', '@app/permissions check (strict Redis cache, 1 round trip)']);
const perCall = (t: (typeof bench.tasks)[number]) => (single.has(t.name) ? 1 : BATCH);
const ops = new Map(
  bench.tasks.map((t) => [
    t.name,
    t.result && 'latency' in t.result ? (1000 / t.result.latency.mean) * perCall(t) : 0,
  ]),
);
const p50 = new Map(
  bench.tasks.map((t) => [
    t.name,
    t.result && 'latency' in t.result ? (t.result.latency.p50 * 1e6) / perCall(t) : 0,
  ]),
);
const ours = p50.get('@app/permissions check (cached)')!;
console.log(
  `\nPolicy: ${ROLES} roles x ${PERMS_PER_ROLE} permissions, ${USERS} users x ${ROLES_PER_USER} roles; Node ${process.version}`,
);
console.log(`Queries: ${QUERIES} (${allowedCount} allowed), all libraries agree on them.`);
// Ratios use the median: on a shared machine the mean is dominated by preemption outliers.
console.log(
  'Ratio = median time of the task / median time of the cached check (> 1: the cached check is faster).\n',
);
console.log('| task | checks/s (mean) | ns per check (median) | ratio |');
console.log('|---|---:|---:|---:|');
for (const t of bench.tasks) {
  const median = p50.get(t.name)!;
  const ratio = `${(median / ours).toFixed(2)}x`;
  console.log(
    `| ${t.name} | ${Math.round(ops.get(t.name)!).toLocaleString('en-US')} | ${Math.round(median).toLocaleString('en-US')} | ${ratio} |`,
  );
}
console.log(`\nStore queries for one cold check: ${coldQueries} (target 1)`);
if (!redisOk) console.log('Redis unreachable: the strict Redis line measured nothing.');
if (redisOk) await unlinkByPrefix(redis, redisPrefix);
redis.disconnect();
await viaRedis.close();
await permissions.close();
await uncached.close();
