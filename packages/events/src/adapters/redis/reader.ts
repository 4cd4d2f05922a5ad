import { sleep } from '@app/core';
import type { Limiter } from '../../internal/limiter.js';
import { compareIds, exec, type RawEntry, toFields, type XReadReply } from './entries.js';
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

/**
 * The blocking reader: ONE connection (`client.duplicate()`, made on the first subscribe) blocks on one XREAD
 * over every stream any subscription of the transport watches, and fans the entries out.
 */
export class StreamReader {
  private readonly listeners = new Set<ReaderListener>();
  private readonly byKey = new Map<string, Set<ReaderListener>>();
  /** The reader's cursor per stream. */
  private readonly cursors = new Map<string, string>();
  private blocker: RedisStreamsClient | undefined;
  private blockerId: number | undefined;
  private loop: Promise<void> | undefined;
  private wakeIdle: (() => void) | undefined;
  private generation = 0;
  private readingGeneration: number | undefined;
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
    const current = this.cursors.get(key);
    if (current === undefined || compareIds(cursor, current) < 0) this.cursors.set(key, cursor);
  }

  /** Stops delivering `key` to `listener`. */
  unwatch(key: string, listener: ReaderListener): void {
    const set = this.byKey.get(key);
    set?.delete(listener);
    if (set && set.size === 0) {
      this.byKey.delete(key);
      this.cursors.delete(key);
    }
  }

  /** Forgets a listener (after it unwatched its keys). */
  remove(listener: ReaderListener): void {
    this.listeners.delete(listener);
  }

  /** Makes the reader pick up changed cursors now rather than after its current XREAD times out. */
  async refresh(): Promise<void> {
    const target = ++this.generation;
    if (!this.loop) {
      this.loop = this.run();
      return;
    }
    if (this.wakeIdle) {
      this.wakeIdle();
      return;
    }
    for (let tries = 0; tries < 50 && !this.closed; tries++) {
      if (this.readingGeneration === undefined || this.readingGeneration >= target) return;
      if (this.blockerId !== undefined) {
        const unblocked = await this.ctx.client.call('CLIENT', 'UNBLOCK', this.blockerId).catch(() => 0);
        if (unblocked === 1) return;
      }
      await sleep(5);
    }
  }

  /** The id of the last entry of each key, or `0-0`. */
  async lastIds(keys: string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const batch = this.ctx.client.pipeline();
    for (const key of keys) batch.call('XREVRANGE', key, '+', '-', 'COUNT', 1);
    const replies = (await exec(batch)) as RawEntry[][];
    return replies.map((entries) => entries[0]?.[0] ?? '0-0');
  }

  /** Stops the loop and drops the blocking connection. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeIdle?.();
    this.blocker?.disconnect();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { client, logger, batchSize, blockMs, highWaterMark } = this.ctx;
    const blocker = client.duplicate();
    this.blocker = blocker;
    blocker.on('error', (error) => logger.debug({ err: error }, 'blocking connection error'));
    blocker.on('ready', () => {
      this.blockerId = undefined;
    });
    let failures = 0;
    while (!this.closed) {
      if (this.cursors.size === 0) {
        await new Promise<void>((resolve) => {
          this.wakeIdle = resolve;
        });
        this.wakeIdle = undefined;
        continue;
      }
      for (const l of this.listeners) if (!l.durable) await l.limiter.whenBelow(highWaterMark);
      if (this.closed) break;
      const keys = [...this.cursors.keys()];
      const ids = keys.map((k) => this.cursors.get(k)!);
      let reply: XReadReply;
      this.readingGeneration = this.generation;
      try {
        if (this.blockerId === undefined) this.blockerId = Number(await blocker.call('CLIENT', 'ID'));
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
        this.readingGeneration = undefined;
        if (this.closed) break;
        this.blockerId = undefined;
        failures++;
        logger.warn({ err: error, failures }, 'XREAD failed: retrying');
        await sleep(Math.min(1000, 25 * 2 ** Math.min(failures, 6)));
        continue;
      }
      this.readingGeneration = undefined;
      if (reply) this.fanOut(reply);
    }
  }

  private fanOut(reply: NonNullable<XReadReply>): void {
    for (const [key, entries] of reply) {
      if (entries.length === 0) continue;
      if (this.cursors.has(key)) this.cursors.set(key, entries[entries.length - 1]![0]);
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
