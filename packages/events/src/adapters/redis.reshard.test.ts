import { sleep } from '@app/core';
import { hashSlot, requireRedis, startRedisCluster } from '@app/test-harness';
import { describe, expect, it } from 'vitest';
import { isEventsError } from '../errors.js';
import { eventually } from '../testing.js';
import { clusterBus, nodeConnection } from './fixtures/redis-cluster.js';

// Real redis-server processes: where Redis is not installed (outside CI) the file skips.
const redis = await requireRedis();

const TOTAL = 3000;

/**
 * Moves one slot from its master to another, as `redis-cli --cluster reshard` does: IMPORTING / MIGRATING,
 * MIGRATE of its keys in small steps (ASK redirections meanwhile), then SETSLOT NODE on every master.
 */
async function migrateSlot(slot: number, fromPort: number, toPort: number, masters: number[]): Promise<void> {
  const [from, to] = await Promise.all([nodeConnection(fromPort), nodeConnection(toPort)]);
  try {
    const [fromId, toId] = (await Promise.all([from.cluster('MYID'), to.cluster('MYID')])) as [
      string,
      string,
    ];
    await to.cluster('SETSLOT', slot, 'IMPORTING', fromId);
    await from.cluster('SETSLOT', slot, 'MIGRATING', toId);
    for (;;) {
      const keys = (await from.cluster('GETKEYSINSLOT', slot, 1)) as string[];
      if (keys.length === 0) break;
      await from.call('MIGRATE', '127.0.0.1', toPort, '', 0, 10_000, 'REPLACE', 'KEYS', ...keys);
      // Let traffic run against a half-migrated slot (ASK, TRYAGAIN) for a moment between keys.
      await sleep(100);
    }
    for (const port of masters) {
      const c = await nodeConnection(port);
      try {
        await c.cluster('SETSLOT', slot, 'NODE', toId);
      } finally {
        c.disconnect();
      }
    }
  } finally {
    from.disconnect();
    to.disconnect();
  }
}

describe.skipIf(!redis.available)(
  'redisEventTransport through resharding (MOVED/ASK), on a real cluster',
  () => {
    it('keeps publishing, consuming in a group and dead-lettering while a stream’s slot moves to another master', async () => {
      const cluster = await startRedisCluster();
      try {
        const prefix = 'reshard:';
        const moving = 'moving.0';
        const key = `${prefix}e:{${moving}}`;
        const fromPort = await cluster.masterOf(key);
        let other = 'stays.0';
        for (let i = 1; (await cluster.masterOf(`${prefix}e:{${other}}`)) === fromPort; i++)
          other = `stays.${i}`;
        const toPort = await cluster.masterOf(`${prefix}e:{${other}}`);
        const masters = [
          ...new Set(await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((k) => cluster.masterOf(k)))),
        ];

        const producer = clusterBus(cluster, prefix);
        const consumer = clusterBus(cluster, prefix, { maxAttempts: 1 });
        const handled = new Set<number>();
        const names = [moving, other];
        const subs = await Promise.all([
          ...names.map((name) => consumer.subscribe(name, (e) => void handled.add(e.data.n), { group: 'g' })),
          // Every event of the moving stream is dead-lettered by a second group.
          consumer.subscribe(
            moving,
            () => {
              throw new Error('dead');
            },
            { group: 'dl' },
          ),
        ]);

        const acked = new Set<number>();
        const rejected = new Map<string, number>();
        let migrated: Promise<void> | undefined;
        for (let next = 0; next < TOTAL; next += 100) {
          const batch = Array.from({ length: 100 }, (_, i) => next + i);
          while (batch.length > 0) {
            const results = await Promise.allSettled(
              batch.map((n) => producer.publish(names[n % 2]!, { n })),
            );
            const failed: number[] = [];
            for (const [i, r] of results.entries()) {
              if (r.status === 'fulfilled') acked.add(batch[i]!);
              else {
                failed.push(batch[i]!);
                const code = isEventsError(r.reason) ? r.reason.code : String(r.reason);
                rejected.set(code, (rejected.get(code) ?? 0) + 1);
              }
            }
            batch.splice(0, batch.length, ...failed);
            if (failed.length > 0) await sleep(100);
          }
          if (next === TOTAL / 3) migrated = migrateSlot(hashSlot(key), fromPort, toPort, masters);
        }
        await migrated;
        expect(await cluster.masterOf(key)).toBe(toPort);
        // After the move, the stream, its consumer groups and dead letters are served by the new master.
        await producer.publish(moving, { n: TOTAL });
        acked.add(TOTAL);

        console.log(
          `[events reshard] publishes rejected meanwhile: ${JSON.stringify(Object.fromEntries(rejected))}`,
        );
        expect(acked.size).toBe(TOTAL + 1);
        expect([...rejected.keys()].filter((code) => code !== 'UNAVAILABLE')).toEqual([]);
        await eventually(() => {
          for (const n of acked) expect(handled.has(n)).toBe(true);
        }, 120_000);
        const movingEvents = [...acked].filter((n) => n === TOTAL || n % 2 === 0);
        await eventually(async () => {
          const dead = new Set((await consumer.listDeadLetters('dl', 10_000)).map((d) => d.id));
          expect(dead.size).toBe(movingEvents.length);
        }, 120_000);
        const check = await nodeConnection(toPort);
        try {
          const groups = (await check.xinfo('GROUPS', key)) as unknown[];
          expect(groups).toHaveLength(2);
          expect(await check.exists(`${prefix}dlq:{${moving}}:dl`)).toBe(1);
        } finally {
          check.disconnect();
        }
        await Promise.all(subs.map((s) => s.close()));
        await producer.close();
        await consumer.close();
      } finally {
        await cluster.close();
      }
    }, 600_000);
  },
);
