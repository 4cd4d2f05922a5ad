/**
 * @app/otp in production topologies, one run, each figure a ratio from interleaved rounds (see rounds.ts):
 * - Redis: verify (wrong code, 64 concurrent) vs raw EVALSHA `return 1` on one node (issue 17's anchor);
 *   verify on a 3-master Redis Cluster vs on a single node; the cost of `durability` (WAIT 1 replica).
 * - Databases: verify through the Prisma store on PostgreSQL, MariaDB and SQLite, each against a bare
 *   single-statement round trip (`SELECT 1`) on the same client and driver.
 * - Telemetry: verify with @opentelemetry/api installed and no SDK vs `telemetry: false`; with an SDK whose
 *   exporters export nothing during the run.
 * Results go to bench/results.json (recordBenchResults). Run: pnpm --filter @app/otp bench:production
 */
import { recordBenchResults, startRedisCluster } from '@app/test-harness';
import { noopOtelProviders } from '@app/test-harness/bench';
import { requireDatabase, type TestDialect } from '@app/test-harness/database';
import { Redis } from 'ioredis';
import { memoryOtpStore } from '../src/adapters/memory.js';
import { type PrismaOtpClient, prismaOtpStore } from '../src/adapters/prisma.js';
import { redisOtpStore } from '../src/adapters/redis.js';
import type { OtpServiceOptions, OtpStore } from '../src/index.js';
import { startRedis } from './redis-server.js';
import { interleave } from './rounds.js';
import { benchOtp, poolPhone, sendPool } from './setup.js';

const ROUNDS = Number(process.env.ROUNDS ?? 11);
const measures: Parameters<typeof recordBenchResults>[2] = [];

/** A service over `store` with `pool` live challenges; `wrong()` guesses wrong on the next one. */
async function pooled(store: OtpStore, pool: number, extra: Partial<OtpServiceOptions> = {}) {
  const otp = benchOtp(store, extra);
  await sendPool(otp, pool, 100);
  let n = 0;
  return { otp, wrong: () => otp.verify({ to: poolPhone(n++ % pool), code: '000000', purpose: 'login' }) };
}

// --- Redis: anchor, cluster vs single node, durability --------------------------------------------------
const single = await startRedis();
const cluster = await startRedisCluster();
const node = new Redis(single.url);
const clusterClient = cluster.client();
try {
  const trivial = (await node.script('LOAD', 'return 1')) as string;
  const onNode = await pooled(redisOtpStore({ client: node, keyPrefix: 'b1:' }), 2000);
  const anchor = await interleave(
    'Redis, one node: otp.verify (wrong code) vs raw EVALSHA `return 1`',
    { 'raw EVALSHA': () => node.evalsha(trivial, 1, 'k'), 'otp.verify': onNode.wrong },
    { rounds: ROUNDS, batches: 40, concurrency: 64 },
  );
  measures.push({
    measure: 'verify (wrong code), 64 concurrent, one Redis node',
    anchor: 'raw EVALSHA `return 1`, 64 concurrent',
    ratios: anchor.ratios['otp.verify']!,
    target: 0.5,
  });

  const onCluster = await pooled(redisOtpStore({ client: clusterClient, keyPrefix: 'b2:' }), 2000);
  const durable = await pooled(
    redisOtpStore({ client: clusterClient, keyPrefix: 'b3:', durability: { replicas: 1, timeoutMs: 1000 } }),
    2000,
  );
  const topo = await interleave(
    'otp.verify (wrong code): one node, 3-master cluster, cluster with durability (WAIT 1 replica)',
    { 'one node': onNode.wrong, cluster: onCluster.wrong, 'cluster + durability': durable.wrong },
    { rounds: ROUNDS, batches: 30, concurrency: 64 },
  );
  measures.push({
    measure: 'verify, 64 concurrent, 3-master Redis Cluster',
    anchor: 'the same on one Redis node',
    ratios: topo.ratios.cluster!,
  });
  const cost = topo.ratios['cluster + durability']!.map((r, i) => r / topo.ratios.cluster![i]!);
  measures.push({
    measure: 'verify with durability (WAIT 1 replica), cluster',
    anchor: 'verify without durability, same cluster',
    ratios: cost,
    note: 'the cost of the replication wait',
  });
} finally {
  node.disconnect();
  await cluster.close();
  single.stop();
}

// --- Databases: verify vs a bare round trip on the same driver ------------------------------------------
const databases: Array<[string, TestDialect]> = [
  ['PostgreSQL', 'postgresql'],
  ['MariaDB', 'mysql'],
  ['SQLite', 'sqlite'],
];
for (const [name, provider] of databases) {
  // Its own schema, database or file, with the migrations the package ships for it.
  const db = await requireDatabase(provider, { shipped: ['otp'] });
  if (!db.available) continue;
  const prisma = db.prisma<PrismaOtpClient>();
  try {
    const { wrong } = await pooled(prismaOtpStore({ prisma }), 200);
    const r = await interleave(
      `${name}: otp.verify (wrong code) through the Prisma store vs SELECT 1 on the same client`,
      { 'SELECT 1': () => prisma.$queryRawUnsafe('SELECT 1'), 'otp.verify': wrong },
      { rounds: Math.max(5, ROUNDS >> 1), batches: 10, concurrency: 16 },
    );
    measures.push({
      measure: `verify (wrong code), 16 concurrent, Prisma on ${name}`,
      anchor: `\`SELECT 1\` through the same PrismaClient (${name})`,
      ratios: r.ratios['otp.verify']!,
    });
  } finally {
    await db.cleanup();
  }
}

// --- Telemetry: nil cost with no SDK; cost with an SDK that exports nothing --------------------------------
const sdk = noopOtelProviders();
const { tracerProvider, meterProvider } = sdk;
const off = await pooled(memoryOtpStore(), 2000, { telemetry: false });
const apiOnly = await pooled(memoryOtpStore(), 2000);
const withSdk = await pooled(memoryOtpStore(), 2000, { telemetry: { tracerProvider, meterProvider } });
// Nil cost first, alone (two tasks, many rounds: the difference sought is a few per cent), then the SDK.
const nil = await interleave(
  'otp.verify (wrong code, memory store): telemetry false vs @opentelemetry/api installed, no SDK',
  { 'telemetry: false': off.wrong, 'API, no SDK': apiOnly.wrong },
  { rounds: ROUNDS * 4 + 1, batches: 200, concurrency: 64 },
);
const sdkCost = await interleave(
  'otp.verify (wrong code, memory store): telemetry false vs an SDK with no-op exporters',
  { 'telemetry: false': off.wrong, 'SDK, no-op exporters': withSdk.wrong },
  { rounds: ROUNDS, batches: 200, concurrency: 64 },
);
measures.push(
  {
    measure: 'verify, @opentelemetry/api installed, no SDK',
    anchor: 'verify with `telemetry: false`',
    ratios: nil.ratios['API, no SDK']!,
    target: 0.97,
  },
  {
    measure: 'verify, SDK registered with no-op exporters',
    anchor: 'verify with `telemetry: false`',
    ratios: sdkCost.ratios['SDK, no-op exporters']!,
  },
);
await sdk.shutdown();

recordBenchResults(import.meta.dirname, '@app/otp', measures);
for (const m of measures) {
  const s = [...m.ratios].sort((a, b) => a - b);
  console.log(`RESULT ${m.measure} / ${m.anchor} = ${s[s.length >> 1]!.toFixed(3)}x`);
}
process.exit(0);
