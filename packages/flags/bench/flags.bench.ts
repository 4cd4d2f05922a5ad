// Evaluation throughput of @app/flags against unleash-client's isEnabled (flexible rollout, local bootstrap,
// no network: refreshInterval 0 disables fetching, metrics off, in-memory backup) and against the guide's
// three-lookup FeatureFlags.isEnabled (three awaited config reads per call). One process, same run, ratios.
// Run: pnpm --filter @app/flags bench
import { Bench } from 'tinybench';
import { InMemStorageProvider, Unleash } from 'unleash-client';
import { createFlags } from '../src/index.js';
import { memoryConfigSource } from '../src/testing.js';
import { setFlag } from '../src/writer.js';

const BATCH = 1_000;
const USERS = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
const CONTEXTS = USERS.map((userId) => ({ userId }));
const FLAG = 'bench-rollout';

// @app/flags: a 50% rollout, and a flag with a targeting rule in front of the rollout.
const source = memoryConfigSource();
await setFlag(source, FLAG, { enabled: true, rollout: 50 });
await setFlag(source, 'bench-rules', {
  enabled: true,
  rollout: 50,
  rules: [{ conditions: [{ attribute: 'country', operator: 'IN', values: ['FR', 'DE'] }], rollout: 20 }],
  variants: [
    { name: 'a', weight: 500, payload: 'A' },
    { name: 'b', weight: 500, payload: 'B' },
  ],
});
const flags = createFlags({ source });
await flags.ready();

// unleash-client: the same rollout as a flexibleRollout strategy, bootstrapped locally.
const unleash = new Unleash({
  appName: 'bench',
  url: 'http://127.0.0.1:9/api/', // never contacted: refreshInterval 0 turns polling off
  refreshInterval: 0,
  disableMetrics: true,
  storageProvider: new InMemStorageProvider(),
  skipInstanceCountWarning: true,
  bootstrap: {
    data: [
      {
        name: FLAG,
        enabled: true,
        type: 'release',
        project: 'default',
        stale: false,
        impressionData: false,
        variants: [],
        strategies: [
          {
            name: 'flexibleRollout',
            constraints: [],
            parameters: { rollout: '50', stickiness: 'default', groupId: FLAG },
          },
        ],
      },
    ],
  },
});
unleash.on('error', () => {});
await new Promise<void>((resolve) => unleash.once('ready', () => resolve()));

// Sanity: both pick the same users (same bucketing), so the comparison is like for like.
const disagreements = USERS.filter(
  (u) => flags.isEnabled(FLAG, { userId: u }) !== unleash.isEnabled(FLAG, { userId: u }),
);
if (disagreements.length > 0)
  throw new Error(`@app/flags and unleash-client disagree on ${disagreements.length} users`);

// The guide's FeatureFlags (section 9), over an async in-memory config service, as the floor.
const guideConfig = new Map<string, unknown>([
  [`features.${FLAG}.enabled`, true],
  [`features.${FLAG}.rollout`, 50],
]);
const configService = {
  async get<T>(key: string, fallback: T): Promise<T> {
    return guideConfig.has(key) ? (guideConfig.get(key) as T) : fallback;
  },
};
async function guideIsEnabled(feature: string, userId?: string): Promise<boolean> {
  const global = await configService.get(`features.${feature}.enabled`, false);
  if (!global) return false;
  if (userId) {
    const userOverride = await configService.get<boolean | null>(`features.${feature}.users.${userId}`, null);
    if (userOverride !== null) return userOverride;
  }
  const rollout = await configService.get(`features.${feature}.rollout`, 100);
  if (userId) {
    let hash = 0;
    for (let i = 0; i < userId.length; i++) {
      hash = (hash << 5) - hash + userId.charCodeAt(i);
      hash &= hash;
    }
    return Math.abs(hash) % 100 < rollout;
  }
  return rollout === 100;
}

let cursor = 0;
let sink = 0;
const next = () => {
  cursor = (cursor + 1) % CONTEXTS.length;
  return CONTEXTS[cursor]!;
};

const bench = new Bench({ time: 3000, warmupTime: 500 });
bench
  .add('@app/flags isEnabled (50% rollout)', () => {
    for (let i = 0; i < BATCH; i++) if (flags.isEnabled(FLAG, next())) sink++;
  })
  .add('@app/flags evaluate (50% rollout, with reason)', () => {
    for (let i = 0; i < BATCH; i++) if (flags.evaluate(FLAG, next()).enabled) sink++;
  })
  .add('@app/flags evaluate (rule + rollout + variants)', () => {
    for (let i = 0; i < BATCH; i++) {
      const ctx = next();
      if (flags.evaluate('bench-rules', { userId: ctx.userId, country: cursor % 2 ? 'FR' : 'US' }).variant)
        sink++;
    }
  })
  .add('unleash-client isEnabled (flexibleRollout 50%)', () => {
    for (let i = 0; i < BATCH; i++) if (unleash.isEnabled(FLAG, next())) sink++;
  })
  .add('guide FeatureFlags.isEnabled (3 awaited lookups)', async () => {
    for (let i = 0; i < BATCH; i++) if (await guideIsEnabled(FLAG, next().userId)) sink++;
  });

await bench.run();

const rows = bench.tasks.map((task) => {
  const r = task.result as { period?: number; latency?: { rme: number } };
  const opsPerSec = r.period ? (BATCH * 1000) / r.period : 0;
  return { name: task.name, opsPerSec, rme: r.latency?.rme ?? 0 };
});
const ours = rows[0]!.opsPerSec;
console.log(`\nevaluations per second (batches of ${BATCH}; ±: relative margin of error of a batch)\n`);
console.log('| benchmark | evaluations/s | ± | @app/flags isEnabled is |');
console.log('|---|---:|---:|---:|');
for (const row of rows) {
  const ratio = ours / row.opsPerSec;
  console.log(
    `| ${row.name} | ${Math.round(row.opsPerSec).toLocaleString('en-US')} | ${row.rme.toFixed(1)}% | ${row === rows[0] ? '1.00x' : `${ratio.toFixed(2)}x faster`} |`,
  );
}
const vsUnleash = ours / rows[3]!.opsPerSec;
console.log(
  `\ntarget: >= 2x unleash-client isEnabled -> ${vsUnleash.toFixed(2)}x ${vsUnleash >= 2 ? '(met)' : '(MISSED)'}`,
);
if (sink < 0) console.log(sink);
unleash.destroy();
await flags.close();
