import { sleep } from '@app/core';
import type { Limiter } from '../../internal/limiter.js';
import { compareIds, type RawEntry, toFields, type XReadReply } from './entries.js';
import type { RedisContext, RedisStreamsClient } from './options.js';

/** What the reader hands entries to: a subscription. */
export interface ReaderListener {
  /** Durable listeners read through their group; the reader only tells them something arrived. */
  readonly durable: boolean;
  /** Live listeners' backlog: the reader pauses while one holds `highWaterMark` deliveries. */
  readonly limiter: Limiter;
  /** A name was registered for the first time (only for listeners watching the names log). */
  discovered(name: string): void;
  /** New entries in one of the listener's streams. */
  arrived(key: string, entries: RawEntry[]): void;
}

/** The streams one blocking XREAD covers: every stream on a single node; one slot's streams on a cluster. */
interface KeyGroup {
  readonly id: string;
  /** The reader's cursor per stream of the group. */
  readonly cursors: Map<string, string>;
  blocker: RedisStreamsClient | undefined;
  blockerId: number | undefined;
  loop: Promise<void> | undefined;
  wakeIdle: (() => void) | undefined;
  /** Bumped when a stream joins the group or a cursor moves back: the XREAD in flight is outdated. */
  version: number;
  /** The version the XREAD in flight was issued with. */
  readingVersion: number | undefined;
  /** Set while the group's connection is dropped on purpose (a cluster group's XREAD being reissued). */
  kicked: boolean;
}

/**
 * The blocking reader. On a single node (or behind Sentinel), ONE connection (`client.duplicate()`, made on
 * the first subscribe) blocks on one XREAD over every stream any subscription of the transport watches. On a
 * cluster one XREAD cannot span slots (CROSSSLOT, even on one node), so each slot's streams (an event name's
 * stream and its retry streams, or the names log) get their own blocking connection, a `duplicate()` of the
 * Cluster client, which follows MOVED/ASK and failovers. Entries are fanned out to the listeners.
 */
export class StreamReader {
  private readonly listeners = new Set<ReaderListener>();
  private readonly byKey = new Map<string, Set<ReaderListener>>();
  private readonly groups = new Map<string, KeyGroup>();
  private closed = false;

  constructor(private readonly ctx: RedisContext) {}

  /** Starts delivering entries of `key` after `cursor` to `listener`. */
  watch(key: string, listener: ReaderListener, cursor: string): void {
    this.listeners.add(listener);
    let set = this.byKey.get(key);
    if (!set) {
      set = new Set();
      this.byKey.set(key, set);
    }
    set.add(listener);
    const group = this.group(this.ctx.groupOf(key));
    const current = group.cursors.get(key);
    if (current === undefined || compareIds(cursor, current) < 0) {
      group.cursors.set(key, cursor);
      group.version++;
    }
  }

  /** Stops delivering `key` to `listener`. */
  unwatch(key: string, listener: ReaderListener): void {
    const set = this.byKey.get(key);
    set?.delete(listener);
    if (set && set.size === 0) {
      this.byKey.delete(key);
      this.groups.get(this.ctx.groupOf(key))?.cursors.delete(key);
    }
  }

  /** Forgets a listener (after it unwatched its keys). */
  remove(listener: ReaderListener): void {
    this.listeners.delete(listener);
  }

  /** Makes the reader pick up changed cursors now rather than after the current XREADs time out. */
  async refresh(): Promise<void> {
    await Promise.all([...this.groups.values()].map((group) => this.refreshGroup(group)));
  }

  private async refreshGroup(group: KeyGroup): Promise<void> {
    const target = group.version;
    if (!group.loop) {
      group.loop = this.run(group);
      return;
    }
    if (group.wakeIdle) {
      group.wakeIdle();
      return;
    }
    for (let tries = 0; tries < 50 && !this.closed; tries++) {
      if (group.readingVersion === undefined || group.readingVersion >= target) return;
      if (this.ctx.cluster) {
        // No CLIENT UNBLOCK across a cluster's nodes: drop the group's connection; the loop makes a new one.
        group.kicked = true;
        group.blocker?.disconnect();
        group.blocker = undefined;
        return;
      }
      if (group.blockerId !== undefined) {
        const unblocked = await this.ctx.client.call('CLIENT', 'UNBLOCK', group.blockerId).catch(() => 0);
        if (unblocked === 1) return;
      }
      await sleep(5);
    }
  }

  /** The id of the last entry of each key, or `0-0` (one call per key: they may be in different slots). */
  async lastIds(keys: string[]): Promise<string[]> {
    const replies = await Promise.all(
      keys.map((key) => this.ctx.client.call('XREVRANGE', key, '+', '-', 'COUNT', 1) as Promise<RawEntry[]>),
    );
    return replies.map((entries) => entries[0]?.[0] ?? '0-0');
  }

  /** Stops the loops and drops the blocking connections. */
  async close(): Promise<void> {
    this.closed = true;
    const groups = [...this.groups.values()];
    for (const group of groups) {
      group.wakeIdle?.();
      group.blocker?.disconnect();
    }
    await Promise.all(groups.map((group) => group.loop));
  }

  private group(id: string): KeyGroup {
    let group = this.groups.get(id);
    if (!group) {
      group = {
        id,
        cursors: new Map(),
        blocker: undefined,
        blockerId: undefined,
        loop: undefined,
        wakeIdle: undefined,
        version: 0,
        readingVersion: undefined,
        kicked: false,
      };
      this.groups.set(id, group);
    }
    return group;
  }

  private connect(group: KeyGroup): RedisStreamsClient {
    const { client } = this.ctx;
    // A Cluster's ready check (CLUSTER INFO) would open a second connection, to a random node, per slot read.
    const blocker = this.ctx.cluster
      ? (client.duplicate as (nodes: [], options: { enableReadyCheck: boolean }) => RedisStreamsClient).call(
          client,
          [],
          { enableReadyCheck: false },
        )
      : client.duplicate();
    blocker.on('error', (error) => this.ctx.logger.debug({ err: error }, 'blocking connection error'));
    blocker.on('ready', () => {
      group.blockerId = undefined;
    });
    group.blocker = blocker;
    group.blockerId = undefined;
    return blocker;
  }

  private async run(group: KeyGroup): Promise<void> {
    const { logger, batchSize, blockMs, highWaterMark, cluster } = this.ctx;
    let failures = 0;
    while (!this.closed) {
      if (group.cursors.size === 0) {
        if (cluster) {
          // A slot nobody reads any more: its connection goes (a new watch makes a new group).
          this.groups.delete(group.id);
          group.blocker?.disconnect();
          return;
        }
        await new Promise<void>((resolve) => {
          group.wakeIdle = resolve;
        });
        group.wakeIdle = undefined;
        continue;
      }
      for (const l of this.listeners) if (!l.durable) await l.limiter.whenBelow(highWaterMark);
      if (this.closed) break;
      const blocker = group.blocker ?? this.connect(group);
      const keys = [...group.cursors.keys()];
      const ids = keys.map((k) => group.cursors.get(k)!);
      let reply: XReadReply;
      group.readingVersion = group.version;
      try {
        if (!cluster && group.blockerId === undefined) {
          group.blockerId = Number(await blocker.call('CLIENT', 'ID'));
        }
        reply = (await blocker.call(
          'XREAD',
          'COUNT',
          batchSize,
          'BLOCK',
          blockMs,
          'STREAMS',
          ...keys,
          ...ids,
        )) as XReadReply;
        failures = 0;
      } catch (error) {
        group.readingVersion = undefined;
        if (this.closed) break;
        if (group.kicked) {
          group.kicked = false;
          continue;
        }
        group.blockerId = undefined;
        failures++;
        logger.warn({ err: error, failures }, 'XREAD failed: retrying');
        await sleep(Math.min(1000, 25 * 2 ** Math.min(failures, 6)));
        continue;
      }
      group.readingVersion = undefined;
      if (reply) this.fanOut(group, reply);
    }
  }

  private fanOut(group: KeyGroup, reply: NonNullable<XReadReply>): void {
    for (const [key, entries] of reply) {
      if (entries.length === 0) continue;
      if (group.cursors.has(key)) group.cursors.set(key, entries[entries.length - 1]![0]);
      if (key === this.ctx.namesLogKey) {
        for (const [, fields] of entries) {
          const name = toFields(fields ?? []).get('n');
          if (name !== undefined) for (const l of [...(this.byKey.get(key) ?? [])]) l.discovered(name);
        }
        continue;
      }
      for (const l of this.byKey.get(key) ?? []) l.arrived(key, entries);
    }
  }
}
