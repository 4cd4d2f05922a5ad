// Benchmarks @app/config against its anchors in one process run, and prints ratios.
//   pnpm --filter @app/config bench        (needs Redis at REDIS_URL, default redis://127.0.0.1:6379)
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { Bench } from 'tinybench';
import { memoryConfigStore } from '../src/adapters/memory.js';
import { type RedisClientLike, redisConfigSync } from '../src/adapters/redis/index.js';
import { createConfigService } from '../src/index.js';

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

async function propagation(samples: number): Promise<void> {
  const prefix = `bench:${process.pid}:`;
  const clients = [new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL), new Redis(REDIS_URL)];
  const [ca, cb, pub, sub] = clients as [Redis, Redis, Redis, Redis];
  try {
    // Raw Redis: PUBLISH on one connection until the message arrives on another.
    let onRaw: (() => void) | undefined;
    sub.on('message', () => onRaw?.());
    await sub.subscribe(`${prefix}raw`);
    const rawSample = async (i: number) => {
      const arrived = new Promise<void>((r) => {
        onRaw = r;
      });
      const t0 = performance.now();
      await pub.publish(`${prefix}raw`, JSON.stringify({ o: 'x', k: 'feature.x', v: i, d: i, x: null }));
      await arrived;
      return performance.now() - t0;
    };

    // @app/config: set on A until B's watcher runs. Separate connections, a shared (in-memory) store.
    const store = memoryConfigStore();
    const a = createConfigService({ store, sync: redisConfigSync({ client: ca, keyPrefix: prefix }) });
    const b = createConfigService({ store, sync: redisConfigSync({ client: cb, keyPrefix: prefix }) });
    await a.set('feature.x', -1);
    await b.get('feature.x');
    let onChange: ((v: unknown) => void) | undefined;
    b.watch('feature.x', (v) => onChange?.(v));
    await new Promise((r) => setTimeout(r, 100)); // subscribers connected
    const oursSample = async (i: number) => {
      const seen = new Promise<void>((r) => {
        onChange = (v) => v === i && r();
      });
      const t0 = performance.now();
      await a.set('feature.x', i);
      await seen;
      return performance.now() - t0;
    };

    // Interleaved, so both see the same machine load (this machine is shared); the first 50 are warm-up.
    const raw: number[] = [];
    const ours: number[] = [];
    for (let i = 0; i < samples + 50; i++) {
      const r = await rawSample(i);
      const o = await oursSample(i);
      if (i >= 50) {
        raw.push(r);
        ours.push(o);
      }
    }
    await a.close();
    await b.close();

    raw.sort((x, y) => x - y);
    ours.sort((x, y) => x - y);
    print('');
    print(`| cross-instance propagation (${samples} samples) | p50 ms | p99 ms |`);
    print('|---|---:|---:|');
    print(
      `| raw PUBLISH -> message | ${percentile(raw, 50).toFixed(3)} | ${percentile(raw, 99).toFixed(3)} |`,
    );
    print(
      `| config.set on A -> watch on B | ${percentile(ours, 50).toFixed(3)} | ${percentile(ours, 99).toFixed(3)} |`,
    );
    print('');
    const r50 = percentile(ours, 50) / percentile(raw, 50);
    const r99 = percentile(ours, 99) / percentile(raw, 99);
    print(
      `- p50 ratio: ${r50.toFixed(2)}x, p99 ratio: ${r99.toFixed(2)}x (target: within 2x) -> ${r50 <= 2 && r99 <= 2 ? 'met' : 'MISSED'}`,
    );
  } finally {
    for (const c of clients) c.disconnect();
  }
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
    print(`| set (store write, then one EVALSHA: compare-and-set + PUBLISH) | ${perSet} |`);
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
await inProcess();
await propagation(Number(process.env.BENCH_SAMPLES ?? 2000));
await roundTrips();
print('');
print(
  `(${((Date.now() - started) / 1000).toFixed(1)} s, node ${process.version}, ${new Date().toISOString()})`,
);
