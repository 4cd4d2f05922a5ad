import { runScript } from '@app/core';
import { exec, isNoGroup, type RawEntry } from './entries.js';
import type { RedisContext } from './options.js';
import { HEARTBEAT, NEXT_ATTEMPT, RELEASE_CONSUMER } from './scripts.js';

/** Ids per heartbeat script call (Lua's unpack has a stack limit). */
const HEARTBEAT_CHUNK = 1000;

/** The deliveries one consumer of one group holds in one stream, while their handlers run. */
interface Held {
  key: string;
  group: string;
  consumer: string;
  ids: Set<string>;
}

/**
 * The heartbeat: while a handler runs on a durable delivery, its member resets the delivery's idle time every
 * `claimIdleMs / 3`, so only the deliveries of a member that stopped are ever claimed by another.
 */
export class Heartbeat {
  /** Durable deliveries handed to a handler and not yet settled, per (stream, group, consumer). */
  private readonly held = new Map<string, Held>();
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | undefined;
  private beating = false;

  constructor(private readonly ctx: RedisContext) {
    this.intervalMs = Math.max(1, Math.floor(ctx.claimIdleMs / 3));
  }

  /** A handler starts on a delivery. */
  hold(key: string, group: string, consumer: string, id: string): void {
    const slot = `${key}\n${group}\n${consumer}`;
    let entry = this.held.get(slot);
    if (!entry) {
      entry = { key, group, consumer, ids: new Set() };
      this.held.set(slot, entry);
    }
    entry.ids.add(id);
    // Not stopped by closing: close() waits for handlers in flight, and they keep their deliveries meanwhile.
    // The transport's close() stops it once every subscription has drained.
    if (!this.timer) {
      this.timer = setInterval(() => void this.beat(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** The delivery is settled (or abandoned). */
  release(key: string, group: string, consumer: string, id: string): void {
    const slot = `${key}\n${group}\n${consumer}`;
    const entry = this.held.get(slot);
    entry?.ids.delete(id);
    if (entry && entry.ids.size === 0) this.held.delete(slot);
    if (this.held.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resets the idle time of every held delivery: one script call per stream and group, sent together. */
  private async beat(): Promise<void> {
    if (this.beating || this.held.size === 0) return;
    this.beating = true;
    const { client, logger, claimIdleMs } = this.ctx;
    try {
      const calls: Array<Promise<void>> = [];
      for (const entry of this.held.values()) {
        const ids = [...entry.ids];
        for (let i = 0; i < ids.length; i += HEARTBEAT_CHUNK) {
          const chunk = ids.slice(i, i + HEARTBEAT_CHUNK);
          const call = runScript(client, HEARTBEAT, [entry.key], [entry.group, entry.consumer, ...chunk]);
          calls.push(
            call.then(
              (value) => {
                const [, taken] = value as [string[], string[]];
                for (const id of taken) {
                  if (!entry.ids.delete(id)) continue;
                  logger.warn(
                    { subscription: entry.group, position: id, claimIdleMs },
                    'another member took over a delivery still being handled here (it may run twice): was the event loop blocked, or Redis unreachable, for claimIdleMs?',
                  );
                }
              },
              (error: unknown) => {
                if (!isNoGroup(error))
                  logger.warn({ err: error, subscription: entry.group }, 'heartbeat failed');
              },
            ),
          );
        }
      }
      await Promise.all(calls);
    } finally {
      this.beating = false;
    }
  }
}

/**
 * Records one more attempt on a delivery this consumer holds; resolves with its number, or `undefined` when
 * another member took the delivery over.
 */
export async function nextAttempt(
  ctx: RedisContext,
  key: string,
  group: string,
  consumer: string,
  id: string,
): Promise<number | undefined> {
  const n = await runScript(ctx.client, NEXT_ATTEMPT, [key], [group, consumer, id]);
  return n === null || n === undefined ? undefined : Number(n);
}

/** What {@link claimStale} works for: one durable subscription. */
export interface ClaimTarget {
  readonly group: string;
  readonly consumer: string;
  /** The streams the subscription reads. */
  keys(): Iterable<string>;
  /** How many more deliveries it can take now. */
  free(): number;
  closing(): boolean;
  /** Hands a claimed delivery to a handler; `count` is the stream's delivery counter. */
  dispatch(key: string, id: string, fields: string[], count: number): void;
}

/** Takes over deliveries other members left unacknowledged for `claimIdleMs` (XAUTOCLAIM). */
export async function claimStale(ctx: RedisContext, target: ClaimTarget): Promise<void> {
  const { client, logger, claimIdleMs } = ctx;
  const { group, consumer } = target;
  for (const key of target.keys()) {
    let start = '0-0';
    for (let page = 0; page < 10 && !target.closing() && target.free() > 0; page++) {
      let reply: [string, RawEntry[], string[]?];
      try {
        reply = (await client.call(
          'XAUTOCLAIM',
          key,
          group,
          consumer,
          claimIdleMs,
          start,
          'COUNT',
          target.free(),
        )) as [string, RawEntry[], string[]?];
      } catch (error) {
        if (!isNoGroup(error)) logger.warn({ err: error, subscription: group }, 'XAUTOCLAIM failed');
        break;
      }
      const [next, entries] = reply;
      const claimed: Array<[string, string[]]> = [];
      for (const [id, fields] of entries) {
        if (fields) claimed.push([id, fields]);
        else await client.call('XACK', key, group, id).catch(() => {});
      }
      let counts: Array<number | undefined>;
      try {
        counts = await deliveryCounts(ctx, key, group, consumer, claimed);
      } catch (error) {
        // Left pending on this consumer: claimed again (and counted) after claimIdleMs.
        logger.warn({ err: error, subscription: group }, 'could not read delivery counts');
        break;
      }
      for (const [i, [id, fields]] of claimed.entries()) {
        const count = counts[i];
        if (count === undefined) continue;
        logger.info({ subscription: group, position: id, delivery: count }, 'claimed a stale delivery');
        target.dispatch(key, id, fields, count);
      }
      if (next === '0-0') break;
      start = next;
    }
  }
}

/**
 * The delivery counter of each claimed entry (XAUTOCLAIM incremented it), or `undefined` for one that is no
 * longer this consumer's.
 */
async function deliveryCounts(
  ctx: RedisContext,
  key: string,
  group: string,
  consumer: string,
  entries: Array<[string, string[]]>,
): Promise<Array<number | undefined>> {
  if (entries.length === 0) return [];
  const batch = ctx.client.pipeline();
  for (const [id] of entries) batch.call('XPENDING', key, group, id, id, 1);
  const replies = (await exec(batch)) as Array<Array<[string, string, number, number]>>;
  return replies.map((reply) => {
    const row = reply[0];
    return row && row[1] === consumer ? Number(row[3]) : undefined;
  });
}

/**
 * Removes a consumer from its group in each of `keys` where it holds no delivery (checked and removed
 * atomically, so nothing pending is ever dropped).
 */
export async function releaseConsumer(
  ctx: RedisContext,
  keys: string[],
  group: string,
  consumer: string,
): Promise<void> {
  await Promise.all(keys.map((key) => runScript(ctx.client, RELEASE_CONSUMER, [key], [group, consumer])));
}
