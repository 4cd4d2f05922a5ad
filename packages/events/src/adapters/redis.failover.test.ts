import { sleep } from '@app/core';
import { hashSlot, type RedisCluster, requireRedis, startRedisCluster } from '@app/test-harness';
import { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { isEventsError } from '../errors.js';
import { eventually } from '../testing.js';
import { clusterBus, nodeConnection } from './fixtures/redis-cluster.js';
import { redisEventTransport } from './redis/index.js';

// Real redis-server processes: where Redis is not installed (outside CI) the file skips, as the other Redis
// tests do. Each run gets its own cluster (a failover leaves it changed).
const redis = await requireRedis();

type Events = Record<string, { n: number }>;
const TOTAL = 20_000;
const WINDOW = 300;

/** Three event names whose streams are served by three different masters. */
async function namesOnThreeShards(cluster: RedisCluster, prefix: string): Promise<string[]> {
  const byMaster = new Map<number, string>();
  const slots = new Set<number>();
  for (let i = 0; byMaster.size < 3; i++) {
    const name = `shard.${i}`;
    const key = `${prefix}e:{${name}}`;
    const master = await cluster.masterOf(key);
    if (!byMaster.has(master) && !slots.has(hashSlot(key))) {
      byMaster.set(master, name);
      slots.add(hashSlot(key));
    }
  }
  return [...byMaster.values()];
}

/** Waits until the master serving `key`'s slot has replicated every write made so far (WAIT, as the harness does). */
async function replicated(cluster: RedisCluster, key: string, fence: string): Promise<void> {
  const node = await nodeConnection(await cluster.masterOf(key));
  try {
    await node.set(fence, '1');
    expect(await node.wait(1, 30_000)).toBe(1);
  } finally {
    node.disconnect();
  }
}

interface RunResult {
  acked: number;
  handled: number;
  duplicates: number;
  lost: number;
  resumedMs: number;
  rejected: Record<string, number>;
}

/**
 * 20,000 events over three names on three shards, one durable group; the master of the first name's stream
 * is killed a third of the way through (after WAIT), its replica promoted, the old master restarted as a
 * replica. The producer retries what was rejected, as an application would.
 */
async function failoverRun(durable: boolean): Promise<RunResult> {
  const cluster = await startRedisCluster();
  const prefix = durable ? 'durable:' : 'plain:';
  try {
    const names = await namesOnThreeShards(cluster, prefix);
    const victim = names[0]!;
    const victimKey = `${prefix}e:{${victim}}`;
    const producer = clusterBus(
      cluster,
      prefix,
      durable ? { durability: { replicas: 1, timeoutMs: 1000 } } : {},
    );
    const consumer = clusterBus(cluster, prefix);
    const handled = new Map<number, number>();
    const handledOnVictim: number[] = [];
    const subs = await Promise.all(
      names.map((name) =>
        consumer.subscribe(
          name,
          (e) => {
            handled.set(e.data.n, (handled.get(e.data.n) ?? 0) + 1);
            if (name === victim) handledOnVictim.push(Date.now());
          },
          { group: 'g', concurrency: 50 },
        ),
      ),
    );

    const acked = new Set<number>();
    const rejected: Record<string, number> = {};
    let next = 0;
    const retry: number[] = [];
    let killAt: () => void = () => {};
    const third = new Promise<void>((resolve) => {
      killAt = resolve;
    });
    const publishing = (async () => {
      while (acked.size + retry.length < TOTAL || retry.length > 0) {
        const batch = retry.splice(0, WINDOW);
        while (batch.length < WINDOW && next < TOTAL) batch.push(next++);
        const results = await Promise.allSettled(batch.map((n) => producer.publish(names[n % 3]!, { n })));
        let failed = 0;
        for (const [i, result] of results.entries()) {
          if (result.status === 'fulfilled') {
            acked.add(batch[i]!);
            continue;
          }
          failed++;
          retry.push(batch[i]!);
          const code = isEventsError(result.reason) ? result.reason.code : String(result.reason);
          rejected[code] = (rejected[code] ?? 0) + 1;
        }
        if (acked.size >= TOTAL / 3) killAt();
        // Back off while a shard is failing over, as an application retrying a retryable error would.
        if (failed > 0) await sleep(200);
      }
    })();

    await third;
    await replicated(cluster, victimKey, `${prefix}fence:{${victim}}`);
    const { from } = await cluster.failover(victimKey);
    const promotedAt = Date.now();
    // The old master comes back as the new master's replica (WAIT needs one).
    await cluster.restart(from);
    await eventually(() => expect(handledOnVictim.some((t) => t > promotedAt)).toBe(true), 60_000);
    const resumedMs = handledOnVictim.find((t) => t > promotedAt)! - promotedAt;

    await publishing;
    // Everything now in the streams, and everything acknowledged that is still there, gets handled.
    const reader = cluster.client();
    const stored = new Set<number>();
    for (const name of names) {
      for (const [, fields] of await reader.xrange(`${prefix}e:{${name}}`, '-', '+')) {
        stored.add((JSON.parse(fields[fields.indexOf('d') + 1]!) as { n: number }).n);
      }
    }
    await eventually(() => {
      for (const n of stored) expect(handled.has(n)).toBe(true);
    }, 180_000);
    const lost = [...acked].filter((n) => !stored.has(n) && !handled.has(n)).length;
    let duplicates = 0;
    for (const count of handled.values()) duplicates += count - 1;
    await Promise.all(subs.map((s) => s.close()));
    await producer.close();
    await consumer.close();
    return { acked: acked.size, handled: handled.size, duplicates, lost, resumedMs, rejected };
  } finally {
    await cluster.close();
  }
}

describe.skipIf(!redis.available)(
  'redisEventTransport through a cluster failover (3 masters, 3 replicas)',
  () => {
    it('with durability on, loses no acknowledged publish, and the consumer resumes after the promotion', async () => {
      const result = await failoverRun(true);
      console.log(`[events failover, durability on] ${JSON.stringify(result)}`);
      expect(result.acked).toBe(TOTAL);
      expect(result.lost).toBe(0);
      expect(result.handled).toBe(TOTAL);
      // A generous bound: the issue asks for < 15 s after the promotion.
      expect(result.resumedMs).toBeLessThan(15_000);
    }, 600_000);

    it('without durability, counts the acknowledged publishes the failover lost (none unhandled that survived)', async () => {
      const result = await failoverRun(false);
      console.log(`[events failover, durability off] ${JSON.stringify(result)}`);
      expect(result.acked).toBe(TOTAL);
      expect(result.handled + result.lost).toBe(TOTAL);
      expect(result.resumedMs).toBeLessThan(15_000);
    }, 600_000);

    it('fails a publish fast with the retryable UNAVAILABLE error when every node is down', async () => {
      const cluster = await startRedisCluster();
      const client = new Cluster([...cluster.startupNodes]);
      client.on('error', () => {});
      const bus = createEventBus<Events>({
        transport: redisEventTransport({ client, keyPrefix: 'outage:' }),
      });
      try {
        const names = await namesOnThreeShards(cluster, 'outage:');
        for (const name of names) await bus.publish(name, { n: 0 });
        await cluster.close();
        const started = Date.now();
        const settled = await Promise.allSettled(names.map((name) => bus.publish(name, { n: 1 })));
        // The default bound is publishTimeoutMs = 1000; 5 s is the margin for a loaded machine.
        expect(Date.now() - started).toBeLessThan(5000);
        for (const result of settled) {
          expect(result.status).toBe('rejected');
          expect((result as PromiseRejectedResult).reason).toMatchObject({
            code: 'UNAVAILABLE',
            retryable: true,
          });
        }
      } finally {
        await bus.close();
        client.disconnect();
      }
    }, 120_000);
  },
);
