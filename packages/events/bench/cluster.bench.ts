// Publish throughput of the Redis transport on a 3-master Redis Cluster next to a single redis-server, and
// the cost of the opt-in replication wait (`durability`, WAIT 1 after each batch) on the cluster and on a
// master + replica behind Sentinel: every setup started here (real redis-server processes), measured in one
// process with the tasks interleaved (each round runs every task for the same slice, in a rotating order),
// a ratio taken per round. Writes bench/results.json (recordBenchResults) and the cluster part of
// bench/RESULTS.md.
//   pnpm --filter @app/events bench:cluster
import {
  type RedisCluster,
  recordBenchResults,
  startRedisCluster,
  startRedisSentinel,
  startRedisServer,
} from '@app/test-harness';
import { Redis } from 'ioredis';
import { type RedisEventTransportOptions, redisEventTransport } from '../src/adapters/redis/index.js';
import { createEventBus } from '../src/index.js';
import { writeClusterSection } from './cluster-results.js';
import { median } from './publish.js';

const here = import.meta.dirname;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 800);
const IN_FLIGHT = 1000;
const PREFIX = 'bench:';

const SINGLE = 'one redis-server';
const CLUSTER = '3-master cluster';
const CLUSTER_WAIT = '3-master cluster, durability WAIT 1';
const SENTINEL = 'master + replica (Sentinel)';
const SENTINEL_WAIT = 'master + replica (Sentinel), durability WAIT 1';
const ONE = '3-master cluster, one publish at a time';
const ONE_WAIT = '3-master cluster, one publish at a time, durability WAIT 1';

/** Three event names whose streams live on three different masters. */
async function spread(cluster: RedisCluster): Promise<string[]> {
  const byMaster = new Map<number, string>();
  for (let i = 0; byMaster.size < 3; i++) {
    const name = `order.${i}`;
    const master = await cluster.masterOf(`${PREFIX}e:{${name}}`);
    if (!byMaster.has(master)) byMaster.set(master, name);
  }
  return [...byMaster.values()];
}

const [cluster, server, sentinel] = await Promise.all([
  startRedisCluster(),
  startRedisServer(),
  startRedisSentinel(),
]);
const single = new Redis(server.url);
const names = await spread(cluster);
const durability = { replicas: 1, timeoutMs: 1000 };
const bus = (client: RedisEventTransportOptions['client'], extra: Partial<RedisEventTransportOptions> = {}) =>
  createEventBus<Record<string, { n: number }>>({
    transport: redisEventTransport({ client, keyPrefix: PREFIX, maxLen: 10_000, ...extra }),
  });
const buses = {
  [SINGLE]: bus(single),
  [CLUSTER]: bus(cluster.client()),
  [CLUSTER_WAIT]: bus(cluster.client(), { durability }),
  [SENTINEL]: bus(sentinel.client()),
  [SENTINEL_WAIT]: bus(sentinel.client(), { durability }),
  [ONE]: bus(cluster.client()),
  [ONE_WAIT]: bus(cluster.client(), { durability }),
};
/** Publishes in flight per setup: 1,000, or one at a time (each awaited: the wait's worst case). */
const inFlight = (task: keyof typeof buses) => (task === ONE || task === ONE_WAIT ? 1 : IN_FLIGHT);
const tasks = Object.keys(buses) as Array<keyof typeof buses>;

/** Events per second of one setup over one slice, its publishes in flight over the three names. */
async function slice(task: keyof typeof buses, ms: number): Promise<number> {
  const b = buses[task];
  const size = inFlight(task);
  let events = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    await Promise.all(Array.from({ length: size }, (_, n) => b.publish(names[(events + n) % 3]!, { n })));
    events += size;
    now = performance.now();
  }
  return (events / (now - start)) * 1000;
}

for (const task of tasks) await slice(task, SLICE_MS / 2); // warm-up: names registered, scripts loaded
const rates = Object.fromEntries(tasks.map((t) => [t, [] as number[]])) as Record<
  keyof typeof buses,
  number[]
>;
for (let round = 0; round < ROUNDS; round++) {
  const order = tasks.map((_, i) => tasks[(i + round) % tasks.length]!);
  for (const task of order) rates[task].push(await slice(task, SLICE_MS));
}
const ratio = (a: keyof typeof buses, b: keyof typeof buses) => rates[a].map((x, i) => x / rates[b][i]!);
const measures = [
  {
    measure: 'publish throughput on a 3-master cluster (3 names on 3 shards, 1,000 in flight)',
    anchor: 'the same on one redis-server',
    ratios: ratio(CLUSTER, SINGLE),
    note: 'cluster / single node; all nodes share this 2-core machine',
  },
  {
    measure: 'publish throughput with durability (WAIT 1 per batch) on the cluster',
    anchor: 'the cluster without durability',
    ratios: ratio(CLUSTER_WAIT, CLUSTER),
    note: 'with / without: below 1 is the cost of the replication wait',
  },
  {
    measure: 'publish throughput with durability (WAIT 1 per batch), master + replica behind Sentinel',
    anchor: 'the same without durability',
    ratios: ratio(SENTINEL_WAIT, SENTINEL),
    note: 'with / without: below 1 is the cost of the replication wait',
  },
  {
    measure: 'publishes one at a time (each awaited) with durability (WAIT 1) on the cluster',
    anchor: 'the same without durability',
    ratios: ratio(ONE_WAIT, ONE),
    note: 'with / without, the worst case: every publish pays its own WAIT round trip',
  },
];
// recordBenchResults keeps the measures the other bench files of this package recorded.
recordBenchResults(here, '@app/events', measures);

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const spreadOf = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
writeClusterSection(
  here,
  `## Redis Cluster and the replication wait

Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, generated by \`pnpm --filter @app/events bench:cluster\` (Node ${process.version}). Every setup is started
by the benchmark on this machine: a private \`redis-server\`, a 3-master + 3-replica cluster, and a master +
replica behind three Sentinels. ${ROUNDS} rounds of ${SLICE_MS} ms per setup, interleaved (rotating order),
1,000 publishes in flight (or one at a time, each awaited, where the setup says so) over three event names
(on three different masters on the cluster); a ratio is taken per round, the table gives the median and the
spread over rounds.

| setup | events/s (median) |
|---|---:|
${tasks.map((t) => `| ${t} | ${fmt(median(rates[t]))} |`).join('\n')}

| measure | anchor | ratio (median) | spread |
|---|---|---:|---|
${measures.map((m) => `| ${m.measure} | ${m.anchor} | **${median(m.ratios).toFixed(2)}x** | ${spreadOf(m.ratios)} |`).join('\n')}

All six cluster nodes, the single server, the Sentinel set and the benchmark share one 2-core machine: a
cluster cannot show its real gain here (in production each shard has its own cores), and the per-round
ratios swing widely with the machine's load (see the spread). Read the first ratio as "publishing on a
cluster costs the client no more than on one node" (one script call per stream per tick in both cases),
not as what a real cluster scales to. The replication wait costs one WAIT per connection per round (the
batches acknowledged while a WAIT is in flight share the next one) and the replication delay.`,
);

await Promise.all(Object.values(buses).map((b) => b.close()));
single.disconnect();
await Promise.all([cluster.close(), server.stop(), sentinel.close()]);
