// The publish-throughput workloads of issue 17, measured in one process with the tasks interleaved: each
// round runs every task for the same time slice, in a rotating order, so the machine's load drifts over all
// of them alike. A ratio is computed per round (ours / anchor, measured moments apart), and the process
// reports the median over its rounds. Run by events.bench.ts in fresh processes; prints one JSON line.

import { randomUUID } from 'node:crypto';
import { unlinkByPrefix } from '@app/test-harness';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { redisEventTransport } from '../src/adapters/redis/index.js';
import { createEventBus } from '../src/index.js';

export const IN_FLIGHT = 1000;
export const OURS = '@app/events bus.publish';
export const RAW_ONE_FIELD = 'raw ioredis XADD, one field';
export const RAW_FIVE_FIELDS = 'raw ioredis XADD MAXLEN ~, the same five fields';
export const GUIDE = "the guide's publish (PUBLISH + LPUSH + LTRIM + LPUSH + LTRIM, awaited in turn)";
export const BULLMQ = 'BullMQ Queue.add';

export interface PublishRun {
  /** Events per second of each task, per round. */
  rates: Record<string, number[]>;
  /** ours / task per round. */
  ratios: Record<string, number[]>;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export { median };

export async function runPublish(url: string, rounds: number, sliceMs: number): Promise<PublishRun> {
  const prefix = `bench:events:${process.pid}:`;
  const client = new Redis(url);
  const bullConnection = { url, maxRetriesPerRequest: null } as const;
  const bullPrefix = `bench-bull-${process.pid}`;
  const bus = createEventBus<{ 'user.registered': { userId: string; n: number } }>({
    transport: redisEventTransport({ client, keyPrefix: prefix, maxLen: 10_000 }),
  });
  const queue = new Queue('q', { connection: bullConnection, prefix: bullPrefix });
  await queue.waitUntilReady();
  const payload = (n: number) => ({ userId: `u${n}`, n });
  await bus.publish('user.registered', payload(0)); // registers the name once, as any long-running app has

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

  const tasks: Record<string, (n: number) => Promise<unknown>> = {
    [OURS]: (n) => bus.publish('user.registered', payload(n)),
    [RAW_ONE_FIELD]: (n) => client.xadd(`${prefix}raw1`, '*', 'd', JSON.stringify(payload(n))),
    [RAW_FIVE_FIELDS]: (n) =>
      client.xadd(
        `${prefix}raw5`,
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
    [GUIDE]: guidePublish,
    [BULLMQ]: (n) => queue.add('user.registered', payload(n), { removeOnComplete: true }),
  };
  const names = Object.keys(tasks);

  /** Events per second of one task over one time slice, IN_FLIGHT publishes at a time. */
  async function slice(task: (n: number) => Promise<unknown>, ms: number): Promise<number> {
    let events = 0;
    const start = performance.now();
    let now = start;
    while (now - start < ms) {
      await Promise.all(Array.from({ length: IN_FLIGHT }, (_, n) => task(n)));
      events += IN_FLIGHT;
      now = performance.now();
    }
    return (events / (now - start)) * 1000;
  }

  for (const name of names) await slice(tasks[name]!, sliceMs / 2); // warm-up
  const rates: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let round = 0; round < rounds; round++) {
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) {
      // Keep the unbounded anchor stream small between slices (outside the timed part).
      await client.unlink(`${prefix}raw1`);
      rates[name]!.push(await slice(tasks[name]!, sliceMs));
    }
  }
  const ratios: Record<string, number[]> = {};
  for (const name of names) ratios[name] = rates[OURS]!.map((ours, i) => ours / rates[name]![i]!);

  await queue.obliterate({ force: true }).catch(() => {});
  await queue.close();
  await bus.close();
  for (const prefixOf of [prefix, `${bullPrefix}:`]) await unlinkByPrefix(client, prefixOf);
  client.disconnect();
  return { rates, ratios };
}
