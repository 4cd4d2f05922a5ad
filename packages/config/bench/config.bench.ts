// Benchmarks @app/config against its anchors in one process run, and prints ratios.
//   pnpm --filter @app/config bench        (needs Redis at REDIS_URL, default redis://127.0.0.1:6379)
import { dirname, join } from 'node:path';
import { setImmediate as setImmediatePromise } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Bench } from 'tinybench';
import { memoryConfigStore } from '../src/adapters/memory.js';
import {
  type RedisClientLike,
  redisChangeChannel,
  redisConfigStore,
  redisConfigSync,
} from '../src/adapters/redis/index.js';
import { createConfigService } from '../src/index.js';
import { propagationSampler } from './propagation-sampler.js';

// node-config reads $NODE_CONFIG_DIR/default.json when it is first imported: set the directory before.
process.env.NODE_CONFIG_DIR = join(dirname(fileURLToPath(import.meta.url)), 'config');
process.env.SUPPRESS_NO_CONFIG_WARNING = '1';
const nodeConfig = (await import('config')).default;

const OPS = 1000; // operations per sample: one call is too short to time on its own
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const results: string[] = [];
const print = (line: string) => {
  results.push(line);
  console.log(line);
};

// ---- 1. in-process hits ----------------------------------------------------------------------------------
async function inProcess(): Promise<void> {
  const config = createConfigService({ store: memoryConfigStore(), cache: { ttlMs: 3_600_000 } });
  await config.set('email.provider', 'ses');
  await config.get('email.provider');
  const map = new Map<string, unknown>([['email.provider', 'ses']]);
  let sink: unknown;

  const bench = new Bench({ time: 1500, warmupTime: 300 });
  bench
    .add('config.get() (awaited, cache hit)', async () => {
      for (let i = 0; i < OPS; i++) sink = await config.get('email.provider');
    })
    .add('awaited Map.get', async () => {
      for (let i = 0; i < OPS; i++) sink = await map.get('email.provider');
    })
    .add("node-config get('email.provider')", () => {
      for (let i = 0; i < OPS; i++) sink = nodeConfig.get('email.provider');
    })
    .add('config.peek()', () => {
      for (let i = 0; i < OPS; i++) sink = config.peek('email.provider');
    })
    .add('Map.get', () => {
      for (let i = 0; i < OPS; i++) sink = map.get('email.provider');
    });
  await bench.run();
  if (sink !== 'ses') throw new Error('benchmark read the wrong value');

  const nsPerOp = new Map<string, number>();
  print('| in-process read | ns/op (mean) | p99 of 1000-op samples, ns/op |');
  print('|---|---:|---:|');
  for (const task of bench.tasks) {
    const r = task.result;
    if (!('latency' in r)) throw new Error(`${task.name} did not complete`);
    const ns = (r.latency.mean * 1e6) / OPS;
    nsPerOp.set(task.name, ns);
    print(`| ${task.name} | ${ns.toFixed(1)} | ${((r.latency.p99 * 1e6) / OPS).toFixed(1)} |`);
  }
  const ratio = (a: string, b: string) => ((nsPerOp.get(a) ?? 0) / (nsPerOp.get(b) ?? 1)).toFixed(2);
  print('');
  print(`- get() / awaited Map.get: ${ratio('config.get() (awaited, cache hit)', 'awaited Map.get')}x`);
  print(
    `- get() / node-config get: ${ratio('config.get() (awaited, cache hit)', "node-config get('email.provider')")}x`,
  );
  print(`- peek() / Map.get: ${ratio('config.peek()', 'Map.get')}x`);
  await config.close();
}

// ---- 2. cross-instance propagation --------------------------------------------------------------------------
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

const median = (xs: number[]) => {
  const sorted = [...xs].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

/** One timed path: resolves to ms from the start of the write until the other side saw it. */
type Sampler = (i: number) => Promise<number>;

/** Two services on separate connections (as two processes would be), sharing `store`: A writes, B watches. */
async function configPair(
  prefix: string,
  kind: 'memory' | 'redis',
): Promise<{ sample: Sampler; close: () => Promise<void> }> {
  const ca = new Redis(REDIS_URL);
  const cb = new Redis(REDIS_URL);
  const shared = memoryConfigStore();
  const storeFor = (client: Redis) =>
    kind === 'memory' ? shared : redisConfigStore({ client: client as RedisClientLike, keyPrefix: prefix });
  const a = createConfigService({
    store: storeFor(ca),
    sync: redisConfigSync({ client: ca as RedisClientLike, keyPrefix: prefix }),
  });
  const b = createConfigService({
    store: storeFor(cb),
    sync: redisConfigSync({ client: cb as RedisClientLike, keyPrefix: prefix }),
  });
  await a.set('feature.x', -1);
  await b.get('feature.x');
  const sampler = propagationSampler(a, b, 'feature.x');
  // Both subscribers listen before the first sample (a wait on the thing, not a sleep).
  while (Number((await ca.pubsub('NUMSUB', redisChangeChannel(prefix, 'feature.x')))[1]) < 2)
    await setImmediatePromise();
  return {
    sample: () => sampler.sample(),
    close: () => sampler.close(ca, cb),
  };
}

/** Raw Redis: PUBLISH on one connection until the message arrives on another. */
async function rawPair(prefix: string): Promise<{ sample: Sampler; close: () => Promise<void> }> {
  const pub = new Redis(REDIS_URL);
  const sub = new Redis(REDIS_URL);
  let onRaw: (() => void) | undefined;
  sub.on('message', () => onRaw?.());
  await sub.subscribe(`${prefix}raw`);
  return {
    async sample(i) {
      const arrived = new Promise<void>((r) => {
        onRaw = r;
      });
      const t0 = performance.now();
      await pub.publish(`${prefix}raw`, JSON.stringify({ o: 'x', k: 'feature.x', v: i, d: i, x: null }));
      await arrived;
      return performance.now() - t0;
    },
    async close() {
      pub.disconnect();
      sub.disconnect();
    },
  };
}

interface PropagationRound {
  raw: { p50: number; p99: number };
  redis: { p50: number; p99: number };
  memory: { p50: number; p99: number };
}

/**
 * Cross-instance propagation, interleaved sample by sample (raw, Redis store + Redis sync, memory store +
 * Redis sync) so that all three see the same machine load; `rounds` rounds, each with its own percentiles.
 */
async function propagation(samples: number, rounds: number): Promise<void> {
  const prefix = `bench:${process.pid}:`;
  const raw = await rawPair(prefix);
  const redisStore = await configPair(`${prefix}r:`, 'redis');
  const memoryStore = await configPair(`${prefix}m:`, 'memory');
  const results: PropagationRound[] = [];
  try {
    for (let i = 0; i < 200; i++) {
      await raw.sample(i);
      await redisStore.sample(i);
      await memoryStore.sample(i);
    }
    for (let round = 0; round < rounds; round++) {
      const r: number[] = [];
      const rs: number[] = [];
      const ms: number[] = [];
      for (let i = 0; i < samples; i++) {
        r.push(await raw.sample(i));
        rs.push(await redisStore.sample(i));
        ms.push(await memoryStore.sample(i));
      }
      const pct = (xs: number[]) => {
        xs.sort((x, y) => x - y);
        return { p50: percentile(xs, 50), p99: percentile(xs, 99) };
      };
      results.push({ raw: pct(r), redis: pct(rs), memory: pct(ms) });
    }
  } finally {
    await raw.close();
    await redisStore.close();
    await memoryStore.close();
  }
  print('');
  print(
    `| cross-instance propagation (${rounds} rounds x ${samples} samples, interleaved; medians over rounds) | p50 ms | p99 ms | p50 / raw | p99 / raw |`,
  );
  print('|---|---:|---:|---:|---:|');
  const row = (name: string, pick: (x: PropagationRound) => { p50: number; p99: number }) => {
    const p50 = median(results.map((x) => pick(x).p50));
    const p99 = median(results.map((x) => pick(x).p99));
    const r50 = results.map((x) => pick(x).p50 / x.raw.p50);
    const r99 = results.map((x) => pick(x).p99 / x.raw.p99);
    print(
      `| ${name} | ${p50.toFixed(3)} | ${p99.toFixed(3)} | ${median(r50).toFixed(2)}x (${spread(r50)}) | ${median(r99).toFixed(2)}x (${spread(r99)}) |`,
    );
    return { r50: median(r50), r99: median(r99) };
  };
  row('raw PUBLISH -> message (anchor)', (x) => x.raw);
  const redis = row('config.set on A -> watch on B, Redis store + Redis sync', (x) => x.redis);
  row('config.set on A -> watch on B, memory store + Redis sync', (x) => x.memory);
  print('');
  print(
    `- Redis store + Redis sync: p50 ${redis.r50.toFixed(2)}x raw (target <= 1.5x), p99 ${redis.r99.toFixed(2)}x raw (target <= 2x) -> ${redis.r50 <= 1.5 && redis.r99 <= 2 ? 'met' : 'MISSED'}`,
  );
}

// ---- 3. Redis round trips ------------------------------------------------------------------------------------
async function roundTrips(): Promise<void> {
  const prefix = `bench:${process.pid}:rt:`;
  const client = new Redis(REDIS_URL);
  let commands = 0;
  // Every command ioredis sends goes through sendCommand: count them there.
  const original = client.sendCommand.bind(client);
  client.sendCommand = ((...args: Parameters<Redis['sendCommand']>) => {
    commands++;
    return original(...args);
  }) as Redis['sendCommand'];
  try {
    const store = memoryConfigStore();
    const a = createConfigService({
      store,
      sync: redisConfigSync({ client: client as RedisClientLike, keyPrefix: prefix }),
    });
    await a.set('warmup', 0); // the script is loaded once (NOSCRIPT -> EVAL)
    await new Promise((r) => setTimeout(r, 50));
    const N = 100;
    let before = commands;
    for (let i = 0; i < N; i++) await a.set(`k${i}`, i);
    const perSet = (commands - before) / N;
    // A Redis store and a Redis sync on one client: the store write is in the same script.
    const through = createConfigService({
      store: redisConfigStore({ client: client as RedisClientLike, keyPrefix: `${prefix}wt:` }),
      sync: redisConfigSync({ client: client as RedisClientLike, keyPrefix: `${prefix}wt:` }),
    });
    await through.set('warmup', 0);
    before = commands;
    for (let i = 0; i < N; i++) await through.set(`k${i}`, i);
    const perThroughSet = (commands - before) / N;
    // Another instance of that setup reads cold keys from the store itself (no shared-cache copy).
    const throughReader = createConfigService({
      store: redisConfigStore({ client: client as RedisClientLike, keyPrefix: `${prefix}wt:` }),
      sync: redisConfigSync({ client: client as RedisClientLike, keyPrefix: `${prefix}wt:` }),
    });
    await new Promise((r) => setTimeout(r, 50));
    before = commands;
    for (let i = 0; i < N; i++) await throughReader.get(`k${i}`);
    await new Promise((r) => setTimeout(r, 50));
    const perThroughColdGet = (commands - before) / N;
    await throughReader.close();
    await through.close();
    const b = createConfigService({
      store,
      sync: redisConfigSync({ client: client as RedisClientLike, keyPrefix: prefix }),
    });
    await new Promise((r) => setTimeout(r, 50));
    before = commands;
    for (let i = 0; i < N; i++) await b.get(`k${i}`);
    const perColdHit = (commands - before) / N;
    before = commands;
    for (let i = 0; i < N; i++) await b.get(`missing${i}`);
    await new Promise((r) => setTimeout(r, 50)); // cache fills are not awaited by get
    const perColdMiss = (commands - before) / N;
    before = commands;
    for (let i = 0; i < N; i++) await b.get(`k${i}`);
    const perWarm = (commands - before) / N;
    print('');
    print('| Redis round trips (commands sent, counted at ioredis sendCommand) | per call |');
    print('|---|---:|');
    print(`| set, memory store (store write, then one EVALSHA: compare-and-set + PUBLISH) | ${perSet} |`);
    print(
      `| set, Redis store + Redis sync on one client (one EVALSHA: store entry + index, cached copy dropped, PUBLISH) | ${perThroughSet} |`,
    );
    print(
      `| cold get, Redis store + Redis sync on one client (the store's HGETALL; no cache read, no fill) | ${perThroughColdGet} |`,
    );
    print(`| cold get, value in the Redis cache (HGETALL) | ${perColdHit} |`);
    print(
      `| cold get, not in Redis (HGETALL miss, store read, EVALSHA fill in background) | ${perColdMiss} |`,
    );
    print(`| warm get (in-process hit) | ${perWarm} |`);
    await a.close();
    await b.close();
  } finally {
    client.disconnect();
  }
}

const started = Date.now();
// BENCH_ONLY=propagation (or inProcess, roundTrips) runs one part.
const only = process.env.BENCH_ONLY;
if (!only || only === 'inProcess') await inProcess();
if (!only || only === 'propagation')
  await propagation(Number(process.env.BENCH_SAMPLES ?? 1000), Number(process.env.BENCH_ROUNDS ?? 3));
if (!only || only === 'roundTrips') await roundTrips();
print('');
print(
  `(${((Date.now() - started) / 1000).toFixed(1)} s, node ${process.version}, ${new Date().toISOString()})`,
);
