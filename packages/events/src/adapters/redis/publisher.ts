import { runScript, withDeadline } from '@app/core';
import type { EventRecord } from '../../types.js';
import { asUnavailable, connectionState, unavailable } from './availability.js';
import { ReplicationWait } from './durability.js';
import { recordFields } from './entries.js';
import type { NameRegistry } from './names.js';
import type { RedisContext } from './options.js';
import { PUBLISH_BATCH } from './scripts.js';

/**
 * Events per script call. Several calls per tick let Redis work on one batch while the client encodes the
 * next and settles the previous one; it also bounds how long one call holds Redis (well under a millisecond).
 */
const MAX_BATCH = 250;

/** Client events after which a node may have lost its scripts: a dropped connection, a cluster's nodes changing. */
const NODE_EVENTS = ['close', '+node', '-node'] as const;

interface Pending {
  records: readonly EventRecord[];
  ids: string[];
  /** Entries of this publish still unanswered. */
  left: number;
  failed: boolean;
  resolve: (ids: string[]) => void;
  reject: (error: unknown) => void;
}

/** One stream's events of this tick, with, for each, the publish it belongs to and its index there. */
interface StreamBatch {
  records: EventRecord[];
  owners: Pending[];
  indexes: number[];
}

/**
 * Publish batching. The publishes made in one tick are grouped per stream, and each stream's events go to
 * Redis as script calls that XADD them in order ({@link MAX_BATCH} per call) and trim the stream once:
 * per-command client and server overhead is paid once per batch instead of once per event. Every publish
 * still settles on its own entries: it resolves with its own stream ids, or rejects with its own entry's
 * error. A lone event in a tick is a plain `XADD ... MAXLEN ~` (the first of a name also registers it).
 */
export class Publisher {
  private queued: Pending[] = [];
  private queuedRecords = 0;
  /** Batches waiting for a connection being made (one `ready` listener for all). */
  private waiting: Array<{ items: Pending[]; timer: NodeJS.Timeout }> = [];
  private scheduled = false;
  /**
   * The streams whose node has the batch script: until then, a stream's first batch goes by EVAL (which loads
   * it), so a later EVALSHA never overtakes it through a NOSCRIPT retry and the stream keeps the publication
   * order. Reset when a connection drops or a cluster's nodes change (a restarted server or a promoted
   * replica has no scripts), and for a stream whose batch failed.
   */
  private readonly loaded = new Set<string>();
  private readonly unload = () => this.loaded.clear();
  private readonly replication: ReplicationWait | undefined;

  constructor(
    private readonly ctx: RedisContext,
    private readonly names: NameRegistry,
  ) {
    for (const event of NODE_EVENTS) ctx.client.on(event, this.unload);
    const { durability } = ctx;
    if (durability) this.replication = new ReplicationWait(ctx, durability.replicas, durability.timeoutMs);
  }

  /** Queues the records for this tick's batch; resolves with their stream ids, in order. */
  publish(records: readonly EventRecord[]): Promise<string[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<string[]>((resolve, reject) => {
      this.queued.push({ records, ids: [], left: records.length, failed: false, resolve, reject });
      this.queuedRecords += records.length;
      if (this.queuedRecords >= MAX_BATCH) {
        // A full batch goes at once: Redis writes it while the caller is still producing the next one.
        this.flush();
      } else if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          if (this.queued.length > 0) this.flush();
        });
      }
    });
  }

  close(): void {
    for (const event of NODE_EVENTS) this.ctx.client.removeListener(event, this.unload);
    this.ctx.client.removeListener('ready', this.onReady);
  }

  private flush(): void {
    const items = this.queued;
    this.queued = [];
    this.queuedRecords = 0;
    const state = connectionState(this.ctx.client);
    if (state === 'ready') this.write(items);
    else if (state === 'starting') this.whenReady(items);
    else this.fail(items, `Redis is unreachable (client ${this.ctx.client.status})`);
  }

  /** Never queued behind a reconnect: the caller (or the outage buffer) decides what to do now. */
  private fail(items: Pending[], message: string): void {
    const error = unavailable(message);
    for (const item of items) item.reject(error);
  }

  /**
   * A connection is being made: the batch waits here (not in ioredis' offline queue, from which it could not
   * be taken back) for the client to be ready, at most `publishTimeoutMs`, so a publish that failed was
   * never sent.
   */
  private whenReady(items: Pending[]): void {
    const { client, publishTimeoutMs } = this.ctx;
    const waiting = {
      items,
      timer: setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== waiting);
        if (this.waiting.length === 0) client.removeListener('ready', this.onReady);
        this.fail(items, `Redis did not become ready within ${publishTimeoutMs} ms`);
      }, publishTimeoutMs),
    };
    waiting.timer.unref();
    if (this.waiting.length === 0) client.on('ready', this.onReady);
    this.waiting.push(waiting);
  }

  /** The client is ready: the batches that waited for it go out, in order. */
  private readonly onReady = () => {
    this.ctx.client.removeListener('ready', this.onReady);
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) {
      clearTimeout(w.timer);
      this.write(w.items);
    }
  };

  private write(items: Pending[]): void {
    const only = items.length === 1 && items[0]!.records.length === 1 ? items[0]! : undefined;
    if (only) {
      this.single(only);
      return;
    }
    const streams = new Map<string, StreamBatch>();
    for (const pending of items) {
      const { records } = pending;
      for (let index = 0; index < records.length; index++) {
        const record = records[index]!;
        let stream = streams.get(record.name);
        if (!stream) {
          stream = { records: [], owners: [], indexes: [] };
          streams.set(record.name, stream);
        }
        stream.records.push(record);
        stream.owners.push(pending);
        stream.indexes.push(index);
      }
    }
    const trim = this.ctx.trimArgs();
    for (const [name, stream] of streams) {
      if (!this.names.has(name)) void this.names.register(name);
      for (let from = 0; from < stream.records.length; from += MAX_BATCH) {
        this.send(name, stream, from, Math.min(stream.records.length, from + MAX_BATCH), trim);
      }
    }
  }

  /** A call Redis has not answered within `publishTimeoutMs` fails with UNAVAILABLE. */
  private bound<T>(call: Promise<T>): Promise<T> {
    const ms = this.ctx.publishTimeoutMs;
    return withDeadline(call, ms, () => unavailable(`Redis did not acknowledge the publish within ${ms} ms`));
  }

  /** With `durability` on: the write, then WAIT for the replicas on the node that took it. */
  private replicated<T>(key: string, write: Promise<T>): Promise<T> {
    const { replication } = this;
    if (!replication) return write;
    return write.then((reply) => replication.after(key).then(() => reply));
  }

  private single(pending: Pending): void {
    const record = pending.records[0]!;
    if (!this.names.has(record.name)) void this.names.register(record.name);
    const key = this.ctx.eventKey(record.name);
    const call = this.ctx.client.call('XADD', key, ...this.ctx.trimArgs(), '*', ...recordFields(record));
    this.replicated(key, this.bound(call)).then(
      (id) => pending.resolve([id as string]),
      (error: unknown) => pending.reject(asUnavailable(error)),
    );
  }

  /** Sends events `from` (inclusive) to `to` (exclusive) of one stream's batch as one script call. */
  private send(name: string, stream: StreamBatch, from: number, to: number, trim: (string | number)[]): void {
    const { records, owners, indexes } = stream;
    const source = records[from]!.source;
    let shared = true;
    let headers = false;
    for (let i = from; i < to; i++) {
      if (records[i]!.source !== source) shared = false;
      if (records[i]!.headers !== undefined) headers = true;
    }
    // Modes: '-' / '=src' (one source for all), '*' (per-event source), 'h' (per-event source and headers).
    const mode = headers ? 'h' : !shared ? '*' : source === undefined ? '-' : `=${source}`;
    const args: (string | number)[] = [trim[0]!, trim[2]!, name, mode];
    for (let i = from; i < to; i++) {
      const r = records[i]!;
      if (mode === '-' || mode[0] === '=') args.push(r.id, r.payload, r.timestamp);
      else args.push(r.id, r.payload, r.timestamp, r.source === undefined ? '-' : `+${r.source}`);
      if (mode === 'h') args.push(r.headers === undefined ? '' : JSON.stringify(r.headers));
    }
    const key = this.ctx.eventKey(name);
    let call: Promise<unknown>;
    if (this.loaded.has(key)) {
      call = runScript(this.ctx.client, PUBLISH_BATCH, [key], args);
    } else {
      this.loaded.add(key);
      call = this.ctx.client.eval(PUBLISH_BATCH.source, 1, key, ...args);
    }
    this.replicated(key, this.bound(call)).then(
      (reply) => {
        const ids = reply as Array<string | Error>;
        for (let i = from; i < to; i++) settle(owners[i]!, indexes[i]!, ids[i - from]);
      },
      (error: unknown) => {
        this.loaded.delete(key);
        const mapped = asUnavailable(error);
        const failure = mapped instanceof Error ? mapped : new Error(String(mapped));
        for (let i = from; i < to; i++) settle(owners[i]!, indexes[i]!, failure);
      },
    );
  }
}

/** Records one entry's reply; the publish settles when its last entry is answered (or its first fails). */
function settle(pending: Pending, index: number, reply: string | Error | undefined): void {
  if (pending.failed) return;
  if (typeof reply !== 'string') {
    pending.failed = true;
    pending.reject(reply ?? new Error('[@app/events] no reply for a published event'));
    return;
  }
  pending.ids[index] = reply;
  if (--pending.left === 0) pending.resolve(pending.ids);
}
