// Publish throughput and end-to-end latency of @app/events on Redis Streams, against raw ioredis XADD, the
// original guide's five-round-trip publish, and BullMQ (Queue.add -> Worker). One process, one Redis.
// Run: pnpm --filter @app/events bench   (REDIS_URL, default redis://127.0.0.1:6379)
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Bench } from 'tinybench';
import { redisEventTransport } from '../src/adapters/redis/index.js';
import { createEventBus } from '../src/index.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `bench:events:${process.pid}:`;
const IN_FLIGHT = 1000;
const client = new Redis(url);
const bullConnection = { url, maxRetriesPerRequest: null } as const;
const bullPrefix = `bench-bull-${process.pid}`;

const bus = createEventBus<{ 'user.registered': { userId: string; n: number } }>({
  transport: redisEventTransport({ client, keyPrefix: prefix, maxLen: 10_000 }),
});
const payload = (n: number) => ({ userId: `u${n}`, n });

async function guidePublish(n: number): Promise<void> {
  // The original guide: PUBLISH, then two LPUSH/LTRIM pairs, each awaited in turn.
  const json = JSON.stringify({
    event: 'user.registered',
    data: payload(n),
    id: `${n}`,
    timestamp: Date.now(),
  });
  await client.publish(`${prefix}guide:user.registered`, json);
  await client.lpush(`${prefix}guide:log:user.registered`, json);
  await client.ltrim(`${prefix}guide:log:user.registered`, 0, 999);
  await client.lpush(`${prefix}guide:log:all`, json);
  await client.ltrim(`${prefix}guide:log:all`, 0, 9999);
}

const queue = new Queue('q', { connection: bullConnection, prefix: bullPrefix });
await bus.publish('user.registered', payload(0)); // registers the name once, as any long-running app has
await queue.waitUntilReady();

const inFlight = (fn: (n: number) => Promise<unknown>) => () =>
  Promise.all(Array.from({ length: IN_FLIGHT }, (_, n) => fn(n))).then(() => undefined);

const bench = new Bench({ time: 2500, warmupTime: 500 });
bench
  .add(
    '@app/events publish (XADD MAXLEN ~)',
    inFlight((n) => bus.publish('user.registered', payload(n))),
  )
  // The same entry by hand: id, name, JSON payload, timestamp, source.
  .add(
    'raw ioredis XADD MAXLEN ~',
    inFlight((n) =>
      client.xadd(
        `${prefix}raw`,
        'MAXLEN',
        '~',
        10_000,
        '*',
        'i',
        randomUUID(),
        'n',
        'user.registered',
        'd',
        JSON.stringify(payload(n)),
        't',
        Date.now(),
        's',
        'app',
      ),
    ),
  )
  .add("guide's publish (5 sequential round trips)", inFlight(guidePublish))
  .add(
    'BullMQ Queue.add',
    inFlight((n) => queue.add('user.registered', payload(n), { removeOnComplete: true })),
  );
await bench.run();

const rate = (name: string) => {
  const task = bench.tasks.find((t) => t.name === name)!;
  const r = task.result as { state: string; throughput?: { mean: number } };
  if (r.state !== 'completed' || !r.throughput) throw new Error(`${name}: ${r.state}`);
  return r.throughput.mean * IN_FLIGHT;
};
const ours = rate('@app/events publish (XADD MAXLEN ~)');
const rows = bench.tasks.map((t) => ({
  task: t.name,
  'events/s': Math.round(rate(t.name)),
  'x @app/events': (ours / rate(t.name)).toFixed(2),
}));
console.log(`\nPublish throughput, ${IN_FLIGHT} publishes in flight`);
console.table(rows);
console.log(
  `@app/events vs raw XADD: ${(ours / rate('raw ioredis XADD MAXLEN ~')).toFixed(2)}x (target >= 0.5x)`,
);
console.log(
  `@app/events vs guide:    ${(ours / rate("guide's publish (5 sequential round trips)")).toFixed(2)}x (target >= 5x)`,
);

// ---- end-to-end latency at a steady rate --------------------------------------------------------------
const RATE_PER_S = 500;
const COUNT = 1500;

function percentiles(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
  return { n: s.length, p50: at(50).toFixed(2), p99: at(99).toFixed(2), max: s[s.length - 1]!.toFixed(2) };
}

async function steady(
  publish: (n: number, sentAt: number) => Promise<unknown>,
  received: () => number,
): Promise<void> {
  const start = performance.now();
  for (let n = 0; n < COUNT; n++) {
    const due = start + (n * 1000) / RATE_PER_S;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    void publish(n, performance.now());
  }
  const deadline = Date.now() + 20_000;
  while (received() < COUNT && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

const latency: Record<string, ReturnType<typeof percentiles>> = {};
{
  const durable: number[] = [];
  const live: number[] = [];
  const latClient = new Redis(url);
  const latBus = createEventBus<{ 'lat.tick': { sentAt: number } }>({
    transport: redisEventTransport({ client: latClient, keyPrefix: `${prefix}lat:` }),
  });
  await latBus.subscribe('lat.tick', (e) => void durable.push(performance.now() - e.data.sentAt), {
    group: 'lat',
    concurrency: 16,
  });
  await latBus.subscribe('lat.tick', (e) => void live.push(performance.now() - e.data.sentAt), {
    concurrency: 16,
  });
  await latBus.publish('lat.tick', { sentAt: performance.now() });
  await new Promise((r) => setTimeout(r, 200));
  durable.length = 0;
  live.length = 0;
  await steady(
    (_n, sentAt) => latBus.publish('lat.tick', { sentAt }),
    () => Math.min(durable.length, live.length),
  );
  latency['@app/events durable group'] = percentiles(durable);
  latency['@app/events live subscription'] = percentiles(live);
  await latBus.close();
  latClient.disconnect();
}
{
  const samples: number[] = [];
  const name = 'lat';
  const latQueue = new Queue(name, { connection: bullConnection, prefix: bullPrefix });
  const worker = new Worker(
    name,
    async (job) => {
      samples.push(performance.now() - (job.data as { sentAt: number }).sentAt);
    },
    { connection: bullConnection, prefix: bullPrefix, concurrency: 16 },
  );
  await worker.waitUntilReady();
  await steady(
    (_n, sentAt) => latQueue.add('tick', { sentAt }, { removeOnComplete: true }),
    () => samples.length,
  );
  latency['BullMQ Queue.add -> Worker'] = percentiles(samples);
  await worker.close();
  await latQueue.close();
}
console.log(`\nEnd-to-end latency (ms), ${COUNT} events at ${RATE_PER_S}/s`);
console.table(latency);

// ---- cleanup -------------------------------------------------------------------------------------------
await queue.close();
await bus.close();
for (const match of [`${prefix}*`, `${bullPrefix}:*`]) {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}
client.disconnect();
