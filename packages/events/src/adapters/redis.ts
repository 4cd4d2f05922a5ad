import { type Logger, silentLogger } from '@app/core';
import { EventsError, EventsErrorCode } from '../errors.js';
import { describeError } from '../internal/dead-letter.js';
import { Limiter } from '../internal/limiter.js';
import { positiveInt } from '../internal/validate.js';
import { compilePattern } from '../pattern.js';
import type {
  DeadLetter,
  DeliveryAttempts,
  EventRecord,
  EventTransport,
  HandleOutcome,
  StoredEvent,
  TransportSubscribeOptions,
  TransportSubscription,
} from '../types.js';

type Arg = string | number;

/** The part of an ioredis pipeline or transaction the transport uses. */
export interface RedisBatchLike {
  call(command: string, ...args: Arg[]): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/** The part of an ioredis client the transport uses; any ioredis `Redis` instance (5 or 6) fits. */
export interface RedisStreamsClient {
  call(command: string, ...args: Arg[]): Promise<unknown>;
  pipeline(): RedisBatchLike;
  multi(): RedisBatchLike;
  /** Called once per transport, for the one connection that blocks on XREAD. */
  duplicate(): RedisStreamsClient;
  disconnect(): void;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Options of {@link redisEventTransport}. */
export interface RedisEventTransportOptions {
  /** An ioredis client (without ioredis' own `keyPrefix` option). It stays yours: `close()` does not quit it. */
  client: RedisStreamsClient;
  /** Prefix of every key the transport writes. @default 'events:' */
  keyPrefix?: string;
  /** Approximate cap on each event's stream (`XADD MAXLEN ~`). Ignored when `maxAgeMs` is set. @default 100000 */
  maxLen?: number;
  /** Keep roughly this much time in each stream instead (`XADD MINID ~`), in ms. @default undefined */
  maxAgeMs?: number;
  /** Approximate cap on each subscription's dead-letter stream. @default 10000 */
  deadLetterMaxLen?: number;
  /**
   * A durable delivery unacknowledged for this long is taken over by another member (XAUTOCLAIM), in ms.
   * While a handler runs, its member resets the idle time every `claimIdleMs / 3` (a heartbeat), so only
   * the deliveries of a member that stopped (crashed, hung event loop, lost connection) are taken over.
   * @default 30000
   */
  claimIdleMs?: number;
  /** How often each durable subscription looks for stale deliveries, in ms. @default 5000 */
  claimIntervalMs?: number;
  /** How long one XREAD blocks before it is reissued, in ms. @default 5000 */
  blockMs?: number;
  /** Entries read per stream per round trip. @default 200 */
  batchSize?: number;
  /** Live deliveries buffered per subscription before reading pauses (backpressure). @default 1000 */
  highWaterMark?: number;
  /** Gets warnings about connection trouble. @default silentLogger */
  logger?: Logger;
}

type RawEntry = [id: string, fields: string[] | null];
type XReadReply = Array<[key: string, entries: RawEntry[]]> | null;

const REGISTER_NAME = `if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'n', ARGV[1])
end
return 1`;

/**
 * Heartbeat: resets the idle time of the deliveries this consumer still holds (XCLAIM 0 ... JUSTID: the
 * delivery counter is not touched). Deliveries another consumer took over are left alone and reported.
 * KEYS[1] stream; ARGV group, consumer, ids... Returns { refreshed ids, ids now held by someone else }.
 */
const HEARTBEAT = `local mine, taken = {}, {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if p then
    if p[2] == ARGV[2] then mine[#mine + 1] = ARGV[i] else taken[#taken + 1] = ARGV[i] end
  end
end
if #mine > 0 then
  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
  for _, id in ipairs(mine) do args[#args + 1] = id end
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
end
return {mine, taken}`;

/**
 * Counts one more attempt on a delivery this consumer holds, in the stream's own delivery counter (which
 * XREADGROUP sets to 1 and XAUTOCLAIM increments). KEYS[1] stream; ARGV group, consumer, id. Returns the
 * new count, or nil when the delivery is no longer this consumer's.
 */
const NEXT_ATTEMPT = `local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)[1]
if not p or p[2] ~= ARGV[2] then return false end
local n = p[4] + 1
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'RETRYCOUNT', n, 'JUSTID')
return n`;

/**
 * Moves one dead letter back to its subscription: deleted first, re-added only if this call deleted it, so
 * concurrent replays of one dead letter enqueue it once. KEYS[1] dead letters, KEYS[2] retry stream;
 * ARGV dead-letter id, max length, fields...
 */
const REPLAY_DEAD_LETTER = `if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
return 1`;

/** Removes a consumer from a group only if it holds nothing. KEYS[1] stream; ARGV group, consumer. */
const RELEASE_CONSUMER = `if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])`;

/** Ids per EVAL of the heartbeat (Lua's unpack has a stack limit). */
const HEARTBEAT_CHUNK = 1000;

const POSITION = /^\d+(-\d+)?$/;

function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = Number(am) - Number(bm);
  return ms !== 0 ? Math.sign(ms) : Math.sign(Number(as) - Number(bs));
}

function toFields(fields: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  return map;
}

function recordFields(record: EventRecord): string[] {
  const fields = ['i', record.id, 'n', record.name, 'd', record.payload, 't', String(record.timestamp)];
  if (record.source !== undefined) fields.push('s', record.source);
  return fields;
}

function parseEntry(id: string, fields: string[] | null): StoredEvent {
  const f = toFields(fields ?? []);
  const eventId = f.get('i');
  const name = f.get('n');
  const payload = f.get('d');
  const timestamp = Number(f.get('t'));
  if (eventId === undefined || name === undefined || payload === undefined || !Number.isFinite(timestamp)) {
    throw new EventsError(EventsErrorCode.CORRUPT_EVENT, `stream entry ${id} is not an event`);
  }
  const source = f.get('s');
  return { id: eventId, name, payload, timestamp, position: id, ...(source === undefined ? {} : { source }) };
}

function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOGROUP');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `work` (never rejecting) but no longer than `ms`. */
async function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** The deliveries one consumer of one group holds in one stream, while their handlers run. */
interface Held {
  key: string;
  group: string;
  consumer: string;
  ids: Set<string>;
}

/**
 * Redis Streams transport. One stream per event name (`<prefix>e:<name>`) capped by `XADD MAXLEN ~`:
 * one round trip per publish, and the capped log is the history. Durable subscriptions are consumer
 * groups (at-least-once; stale deliveries of crashed members are claimed with XAUTOCLAIM); live
 * subscriptions read from the tail. All subscriptions of a transport share ONE blocking connection
 * (`client.duplicate()`, made on the first subscribe); other commands go through `client`.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createEventBus } from '@app/events';
 * import { redisEventTransport } from '@app/events/redis';
 *
 * const bus = createEventBus<Events>({ transport: redisEventTransport({ client: new Redis(), keyPrefix: 'myapp:events:' }) });
 * ```
 */
export function redisEventTransport(options: RedisEventTransportOptions): EventTransport {
  const { client } = options;
  if (!client || typeof client.call !== 'function' || typeof client.duplicate !== 'function') {
    throw new EventsError(
      EventsErrorCode.INVALID_OPTIONS,
      'redisEventTransport needs { client }: an ioredis instance',
    );
  }
  const prefix = options.keyPrefix ?? 'events:';
  const maxLen = positiveInt(options.maxLen, 100_000, 'maxLen');
  const maxAgeMs = options.maxAgeMs === undefined ? undefined : positiveInt(options.maxAgeMs, 1, 'maxAgeMs');
  const deadLetterMaxLen = positiveInt(options.deadLetterMaxLen, 10_000, 'deadLetterMaxLen');
  const claimIdleMs = positiveInt(options.claimIdleMs, 30_000, 'claimIdleMs');
  const claimIntervalMs = positiveInt(options.claimIntervalMs, 5_000, 'claimIntervalMs');
  const blockMs = positiveInt(options.blockMs, 5_000, 'blockMs');
  const batchSize = positiveInt(options.batchSize, 200, 'batchSize');
  const highWaterMark = positiveInt(options.highWaterMark, 1_000, 'highWaterMark');
  const logger = options.logger ?? silentLogger;

  const eventKey = (name: string) => `${prefix}e:${name}`;
  const namesKey = `${prefix}names`;
  const namesLogKey = `${prefix}names:log`;
  const dlqKey = (sub: string) => `${prefix}dlq:${sub}`;
  const retryKey = (sub: string) => `${prefix}retry:${sub}`;

  /** Names this process registered since the connection last dropped (a restarted server forgets them). */
  const known = new Set<string>();
  const forgetNames = () => known.clear();
  client.on('close', forgetNames);

  const subs = new Set<RedisSub>();
  const subsByKey = new Map<string, Set<RedisSub>>();
  /** The blocking reader's cursor per stream. */
  const cursors = new Map<string, string>();
  let blocker: RedisStreamsClient | undefined;
  let blockerId: number | undefined;
  let readLoop: Promise<void> | undefined;
  let wakeIdle: (() => void) | undefined;
  let generation = 0;
  let readingGeneration: number | undefined;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new EventsError(EventsErrorCode.CLOSED, 'the redis transport is closed');
  };

  async function exec(batch: RedisBatchLike): Promise<unknown[]> {
    const results = await batch.exec();
    if (!results) throw new EventsError(EventsErrorCode.CLOSED, 'redis transaction aborted');
    return results.map(([error, value]) => {
      if (error) throw error;
      return value;
    });
  }

  const trimArgs = (): Arg[] =>
    maxAgeMs === undefined ? ['MAXLEN', '~', maxLen] : ['MINID', '~', Date.now() - maxAgeMs];

  // ---- publishing ----------------------------------------------------------------------------------------

  /** Publishes made in the same tick, written to the socket together: still one XADD per event. */
  let queued: Array<{
    records: readonly EventRecord[];
    resolve: (ids: string[]) => void;
    reject: (e: unknown) => void;
  }> = [];

  function flushPublishes(): void {
    const items = queued;
    queued = [];
    const trim = trimArgs();
    const first = items[0]!.records[0]!;
    if (items.length === 1 && items[0]!.records.length === 1 && known.has(first.name)) {
      client
        .call('XADD', eventKey(first.name), ...trim, '*', ...recordFields(first))
        .then((id) => items[0]!.resolve([id as string]), items[0]!.reject);
      return;
    }
    const batch = client.pipeline();
    const fresh = new Set<string>();
    for (const item of items) for (const r of item.records) if (!known.has(r.name)) fresh.add(r.name);
    for (const name of fresh) batch.call('EVAL', REGISTER_NAME, 2, namesKey, namesLogKey, name);
    for (const item of items) {
      for (const r of item.records) batch.call('XADD', eventKey(r.name), ...trim, '*', ...recordFields(r));
    }
    batch
      .exec()
      .then(
        (results) => {
          if (!results) throw new EventsError(EventsErrorCode.CLOSED, 'redis pipeline aborted');
          let i = 0;
          for (const name of fresh) if (!results[i++]![0]) known.add(name);
          for (const item of items) {
            const slice = results.slice(i, i + item.records.length);
            i += item.records.length;
            const failed = slice.find(([error]) => error);
            if (failed) item.reject(failed[0]);
            else item.resolve(slice.map(([, id]) => id as string));
          }
        },
        (error: unknown) => {
          for (const item of items) item.reject(error);
        },
      )
      .catch((error: unknown) => {
        for (const item of items) item.reject(error);
      });
  }

  // ---- heartbeat ----------------------------------------------------------------------------------------

  /** Durable deliveries handed to a handler and not yet settled, per (stream, group, consumer). */
  const held = new Map<string, Held>();
  const heartbeatMs = Math.max(1, Math.floor(claimIdleMs / 3));
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let beating = false;

  function hold(key: string, group: string, consumer: string, id: string): void {
    const slot = `${key}\n${group}\n${consumer}`;
    let entry = held.get(slot);
    if (!entry) {
      entry = { key, group, consumer, ids: new Set() };
      held.set(slot, entry);
    }
    entry.ids.add(id);
    // Not stopped by `closed`: close() waits for handlers in flight, and they keep their deliveries meanwhile.
    // The transport's close() stops it once every subscription has drained.
    if (!heartbeatTimer) {
      heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);
      heartbeatTimer.unref();
    }
  }

  function release(key: string, group: string, consumer: string, id: string): void {
    const slot = `${key}\n${group}\n${consumer}`;
    const entry = held.get(slot);
    entry?.ids.delete(id);
    if (entry && entry.ids.size === 0) held.delete(slot);
    if (held.size === 0) stopHeartbeat();
  }

  function stopHeartbeat(): void {
    clearInterval(heartbeatTimer);
    heartbeatTimer = undefined;
  }

  /** Resets the idle time of every held delivery: one EVAL per stream and group, in one round trip. */
  async function heartbeat(): Promise<void> {
    if (beating || held.size === 0) return;
    beating = true;
    try {
      const batch = client.pipeline();
      const sent: Array<{ entry: Held; ids: string[] }> = [];
      for (const entry of held.values()) {
        const ids = [...entry.ids];
        for (let i = 0; i < ids.length; i += HEARTBEAT_CHUNK) {
          const chunk = ids.slice(i, i + HEARTBEAT_CHUNK);
          batch.call('EVAL', HEARTBEAT, 1, entry.key, entry.group, entry.consumer, ...chunk);
          sent.push({ entry, ids: chunk });
        }
      }
      const results = (await batch.exec()) ?? [];
      for (const [i, [error, value]] of results.entries()) {
        const { entry } = sent[i]!;
        if (error) {
          if (!isNoGroup(error)) logger.warn({ err: error, subscription: entry.group }, 'heartbeat failed');
          continue;
        }
        const [, taken] = value as [string[], string[]];
        for (const id of taken) {
          if (!entry.ids.delete(id)) continue;
          logger.warn(
            { subscription: entry.group, position: id, claimIdleMs },
            'another member took over a delivery still being handled here (it may run twice): was the event loop blocked, or Redis unreachable, for claimIdleMs?',
          );
        }
      }
    } catch (error) {
      logger.warn({ err: error }, 'heartbeat failed');
    } finally {
      beating = false;
    }
  }

  // ---- the blocking reader --------------------------------------------------------------------------

  function watch(key: string, sub: RedisSub, cursor: string): void {
    let set = subsByKey.get(key);
    if (!set) {
      set = new Set();
      subsByKey.set(key, set);
    }
    set.add(sub);
    const current = cursors.get(key);
    if (current === undefined || compareIds(cursor, current) < 0) cursors.set(key, cursor);
  }

  function unwatch(key: string, sub: RedisSub): void {
    const set = subsByKey.get(key);
    set?.delete(sub);
    if (set && set.size === 0) {
      subsByKey.delete(key);
      cursors.delete(key);
    }
  }

  /** Makes the reader pick up changed cursors now rather than after its current XREAD times out. */
  async function refreshReader(): Promise<void> {
    const target = ++generation;
    if (!readLoop) {
      readLoop = runReader();
      return;
    }
    if (wakeIdle) {
      wakeIdle();
      return;
    }
    for (let tries = 0; tries < 50 && !closed; tries++) {
      if (readingGeneration === undefined || readingGeneration >= target) return;
      if (blockerId !== undefined) {
        const unblocked = await client.call('CLIENT', 'UNBLOCK', blockerId).catch(() => 0);
        if (unblocked === 1) return;
      }
      await sleep(5);
    }
  }

  async function runReader(): Promise<void> {
    blocker = client.duplicate();
    blocker.on('error', (error) => logger.debug({ err: error }, 'blocking connection error'));
    blocker.on('ready', () => {
      blockerId = undefined;
    });
    let failures = 0;
    while (!closed) {
      if (cursors.size === 0) {
        await new Promise<void>((resolve) => {
          wakeIdle = resolve;
        });
        wakeIdle = undefined;
        continue;
      }
      for (const sub of subs) if (!sub.durable) await sub.limiter.whenBelow(highWaterMark);
      if (closed) break;
      const keys = [...cursors.keys()];
      const ids = keys.map((k) => cursors.get(k)!);
      let reply: XReadReply;
      readingGeneration = generation;
      try {
        if (blockerId === undefined) blockerId = Number(await blocker.call('CLIENT', 'ID'));
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
        readingGeneration = undefined;
        if (closed) break;
        blockerId = undefined;
        failures++;
        logger.warn({ err: error, failures }, 'XREAD failed: retrying');
        await sleep(Math.min(1000, 25 * 2 ** Math.min(failures, 6)));
        continue;
      }
      readingGeneration = undefined;
      if (!reply) continue;
      for (const [key, entries] of reply) {
        if (entries.length === 0) continue;
        if (cursors.has(key)) cursors.set(key, entries[entries.length - 1]![0]);
        if (key === namesLogKey) {
          for (const [, fields] of entries) {
            const name = toFields(fields ?? []).get('n');
            if (name !== undefined) for (const sub of [...(subsByKey.get(key) ?? [])]) sub.discovered(name);
          }
          continue;
        }
        for (const sub of subsByKey.get(key) ?? []) sub.arrived(key, entries);
      }
    }
  }

  /** The id of the last entry of each key, or `0-0`. */
  async function lastIds(keys: string[]): Promise<string[]> {
    if (keys.length === 0) return [];
    const batch = client.pipeline();
    for (const key of keys) batch.call('XREVRANGE', key, '+', '-', 'COUNT', 1);
    const replies = (await exec(batch)) as RawEntry[][];
    return replies.map((entries) => entries[0]?.[0] ?? '0-0');
  }

  async function matchingNames(pattern: string): Promise<string[]> {
    const matches = compilePattern(pattern);
    const names: string[] = [];
    let cursor = '0';
    do {
      const [next, members] = (await client.call('SSCAN', namesKey, cursor, 'COUNT', 500)) as [
        string,
        string[],
      ];
      cursor = next;
      for (const name of members) if (matches(name)) names.push(name);
    } while (cursor !== '0');
    return names;
  }

  // ---- subscriptions ----------------------------------------------------------------------------------

  class RedisSub {
    readonly durable: boolean;
    readonly limiter: Limiter;
    readonly keys = new Set<string>();
    private readonly matches: (name: string) => boolean;
    /**
     * Per stream, the last id this subscription has seen: the tail when it started watching, then the last
     * entry delivered. The shared reader may rewind a stream's cursor for a newcomer; this keeps a live
     * subscription from getting an entry twice.
     */
    private readonly seen = new Map<string, string>();
    private readonly inFlight = new Set<string>();
    private closing = false;
    private dirty = true;
    private pumping: Promise<void> | undefined;
    private pumpAgain = false;
    private retryTimer: NodeJS.Timeout | undefined;
    private claimTimer: NodeJS.Timeout | undefined;
    private failures = 0;
    private closeDone: Promise<void> | undefined;

    constructor(readonly options: TransportSubscribeOptions) {
      this.durable = options.durable;
      const { selector } = options;
      this.matches = selector.kind === 'name' ? (n) => n === selector.name : compilePattern(selector.pattern);
      this.limiter = new Limiter(options.concurrency, () => {
        if (this.durable) this.pump();
      });
    }

    async start(): Promise<void> {
      const { selector, name, startAt } = this.options;
      // The names log's tail is read before the names are listed: a name registered in between is then
      // found by both (discovered() skips it), never by neither (it would never be followed).
      const logTail = selector.kind === 'pattern' ? (await lastIds([namesLogKey]))[0] : undefined;
      const names = selector.kind === 'name' ? [selector.name] : await matchingNames(selector.pattern);
      const keys = [...names.map(eventKey), retryKey(name)];
      const tails = await lastIds(keys);
      if (this.durable) {
        await this.ensureGroups(keys, (key) =>
          key === retryKey(name) || startAt === 'earliest' ? '0' : '$',
        );
      }
      for (const [i, key] of keys.entries()) this.add(key, tails[i]!);
      if (logTail !== undefined) this.add(namesLogKey, logTail);
      subs.add(this);
      if (this.durable) {
        this.pump();
        this.claimTimer = setInterval(() => void this.claim(), claimIntervalMs);
        this.claimTimer.unref();
      }
    }

    private add(key: string, tail: string): void {
      if (key !== namesLogKey) this.keys.add(key);
      this.seen.set(key, tail);
      watch(key, this, tail);
    }

    private async ensureGroups(keys: string[], startId: (key: string) => string): Promise<void> {
      if (keys.length === 0) return;
      const batch = client.pipeline();
      for (const key of keys)
        batch.call('XGROUP', 'CREATE', key, this.options.name, startId(key), 'MKSTREAM');
      const results = (await batch.exec()) ?? [];
      for (const [error] of results) {
        if (error && !error.message.includes('BUSYGROUP')) throw error;
      }
    }

    /** The reader saw a name registered for the first time. */
    discovered(name: string): void {
      const key = eventKey(name);
      if (this.closing || !this.matches(name) || this.keys.has(key)) return;
      this.keys.add(key);
      void (async () => {
        try {
          // The stream is new to this subscription: everything in it is news.
          if (this.durable) await this.ensureGroups([key], () => '0');
          if (this.closing) return;
          this.add(key, '0-0');
          if (this.durable) {
            this.dirty = true;
            this.pump();
          }
          await refreshReader();
        } catch (error) {
          this.keys.delete(key);
          logger.warn(
            { err: error, subscription: this.options.name, event: name },
            'could not follow a new event name',
          );
        }
      })();
    }

    /** The reader saw new entries in one of this subscription's streams. */
    arrived(key: string, entries: RawEntry[]): void {
      if (this.closing) return;
      if (this.durable) {
        this.dirty = true;
        this.pump();
        return;
      }
      let last = this.seen.get(key) ?? '0-0';
      for (const [id, fields] of entries) {
        if (compareIds(id, last) <= 0) continue;
        last = id;
        this.dispatch(key, id, fields);
      }
      this.seen.set(key, last);
    }

    /** `first`: the stream's delivery count for this entry (1 for a first delivery). */
    private dispatch(key: string, id: string, fields: string[] | null, first = 1): void {
      const token = `${key}\n${id}`;
      if (this.inFlight.has(token)) return;
      this.inFlight.add(token);
      const { name: group, consumer } = this.options;
      let attempts: DeliveryAttempts | undefined;
      if (this.durable) {
        hold(key, group, consumer, id);
        attempts = {
          first,
          next: async () => {
            const n = await client.call('EVAL', NEXT_ATTEMPT, 1, key, group, consumer, id);
            return n === null || n === undefined ? undefined : Number(n);
          },
        };
      }
      this.limiter.push(async () => {
        try {
          let outcome: HandleOutcome;
          let event: StoredEvent | undefined;
          try {
            event = parseEntry(id, fields);
            outcome = await this.options.handle(event, attempts);
          } catch (error) {
            outcome = { status: 'failed', error, attempts: 0 };
          }
          await this.settle(key, id, fields, event, outcome);
        } catch (error) {
          logger.warn(
            { err: error, subscription: this.options.name, position: id },
            'could not settle a delivery',
          );
        } finally {
          this.inFlight.delete(token);
          if (this.durable) release(key, group, consumer, id);
        }
      });
    }

    private async settle(
      key: string,
      id: string,
      fields: string[] | null,
      event: StoredEvent | undefined,
      outcome: HandleOutcome,
    ): Promise<void> {
      if (outcome.status === 'abandoned') return;
      const group = this.options.name;
      const batch = this.durable ? client.multi() : client.pipeline();
      if (outcome.status === 'failed') {
        const base = event ? recordFields(event) : (fields ?? []);
        batch.call(
          'XADD',
          dlqKey(group),
          'MAXLEN',
          '~',
          deadLetterMaxLen,
          '*',
          ...base,
          'p',
          id,
          'sub',
          group,
          'e',
          JSON.stringify(describeError(outcome.error)),
          'a',
          outcome.attempts,
          'f',
          Date.now(),
        );
      }
      if (this.durable) batch.call('XACK', key, group, id);
      else if (outcome.status === 'done') return;
      await exec(batch);
    }

    /** Reads new entries for the group while there is room. Never rejects. */
    pump(): void {
      if (!this.durable || this.closing) return;
      if (this.pumping) {
        this.pumpAgain = true;
        return;
      }
      this.pumping = this.readGroup().finally(() => {
        this.pumping = undefined;
        if (this.pumpAgain) {
          this.pumpAgain = false;
          this.pump();
        }
      });
    }

    private async readGroup(): Promise<void> {
      const { name, consumer } = this.options;
      while (!this.closing && this.dirty) {
        const free = this.limiter.free;
        if (free === 0) return;
        this.dirty = false;
        const keys = [...this.keys];
        let reply: XReadReply;
        try {
          reply = (await client.call(
            'XREADGROUP',
            'GROUP',
            name,
            consumer,
            'COUNT',
            free,
            'STREAMS',
            ...keys,
            ...keys.map(() => '>'),
          )) as XReadReply;
          this.failures = 0;
        } catch (error) {
          this.dirty = true;
          this.failures++;
          if (isNoGroup(error)) {
            // The server lost the group (restarted without persistence, or the stream was deleted): what is
            // in the stream now arrived after the loss, so the group starts from its beginning.
            logger.warn({ subscription: name }, 'consumer group missing: recreating it');
            await this.ensureGroups(keys, () => '0').catch(() => {});
          } else {
            logger.warn({ err: error, subscription: name }, 'XREADGROUP failed: retrying');
          }
          this.scheduleRetry();
          return;
        }
        if (!reply) continue;
        for (const [key, entries] of reply) {
          if (entries.length > 0) this.dirty = true;
          for (const [id, fields] of entries) this.dispatch(key, id, fields);
        }
      }
    }

    private scheduleRetry(): void {
      if (this.retryTimer || this.closing) return;
      this.retryTimer = setTimeout(
        () => {
          this.retryTimer = undefined;
          this.pump();
        },
        Math.min(1000, 20 * 2 ** Math.min(this.failures, 6)),
      );
      this.retryTimer.unref();
    }

    /** Takes over deliveries other members left unacknowledged for `claimIdleMs`. */
    private async claim(): Promise<void> {
      const { name, consumer } = this.options;
      for (const key of this.keys) {
        let start = '0-0';
        for (let page = 0; page < 10 && !this.closing && this.limiter.free > 0; page++) {
          let reply: [string, RawEntry[], string[]?];
          try {
            reply = (await client.call(
              'XAUTOCLAIM',
              key,
              name,
              consumer,
              claimIdleMs,
              start,
              'COUNT',
              this.limiter.free,
            )) as [string, RawEntry[], string[]?];
          } catch (error) {
            if (!isNoGroup(error)) logger.warn({ err: error, subscription: name }, 'XAUTOCLAIM failed');
            break;
          }
          const [next, entries] = reply;
          const claimed: RawEntry[] = [];
          for (const [id, fields] of entries) {
            if (fields) claimed.push([id, fields]);
            else await client.call('XACK', key, name, id).catch(() => {});
          }
          let counts: Array<number | undefined>;
          try {
            counts = await this.deliveryCounts(key, claimed);
          } catch (error) {
            // Left pending on this consumer: claimed again (and counted) after claimIdleMs.
            logger.warn({ err: error, subscription: name }, 'could not read delivery counts');
            break;
          }
          for (const [i, [id, fields]] of claimed.entries()) {
            const count = counts[i];
            if (count === undefined) continue;
            logger.info({ subscription: name, position: id, delivery: count }, 'claimed a stale delivery');
            this.dispatch(key, id, fields, count);
          }
          if (next === '0-0') break;
          start = next;
        }
      }
    }

    /**
     * The delivery counter of each claimed entry (XAUTOCLAIM incremented it), or `undefined` for one that
     * is no longer this consumer's.
     */
    private async deliveryCounts(key: string, entries: RawEntry[]): Promise<Array<number | undefined>> {
      if (entries.length === 0) return [];
      const { name, consumer } = this.options;
      const batch = client.pipeline();
      for (const [id] of entries) batch.call('XPENDING', key, name, id, id, 1);
      const replies = (await exec(batch)) as Array<Array<[string, string, number, number]>>;
      return replies.map((reply) => {
        const row = reply[0];
        return row && row[1] === consumer ? Number(row[3]) : undefined;
      });
    }

    /**
     * Removes this consumer from its group in each stream where it holds no delivery (checked and removed
     * atomically, so nothing pending is ever dropped), unless another open subscription uses it.
     */
    private async releaseConsumer(): Promise<void> {
      const { name, consumer } = this.options;
      const keys = [...this.keys].filter(
        (key) =>
          ![...subs].some(
            (other) =>
              other.durable &&
              other.options.name === name &&
              other.options.consumer === consumer &&
              other.keys.has(key),
          ),
      );
      if (keys.length === 0) return;
      const batch = client.pipeline();
      for (const key of keys) batch.call('EVAL', RELEASE_CONSUMER, 1, key, name, consumer);
      await batch.exec();
    }

    async close(): Promise<void> {
      if (this.closing) return this.closeDone;
      this.closing = true;
      this.closeDone = (async () => {
        clearInterval(this.claimTimer);
        clearTimeout(this.retryTimer);
        for (const key of [...this.seen.keys()]) unwatch(key, this);
        subs.delete(this);
        await this.pumping;
        await this.limiter.idle();
        if (this.durable) {
          // Best effort and bounded: a consumer left behind is harmless, and close must not hang on Redis.
          await bounded(this.releaseConsumer(), Math.min(1000, blockMs));
        }
      })();
      return this.closeDone;
    }
  }

  // ---- the transport ----------------------------------------------------------------------------------

  return {
    publish(records) {
      if (closed)
        return Promise.reject(new EventsError(EventsErrorCode.CLOSED, 'the redis transport is closed'));
      if (records.length === 0) return Promise.resolve([]);
      return new Promise<string[]>((resolve, reject) => {
        queued.push({ records, resolve, reject });
        if (queued.length === 1) queueMicrotask(flushPublishes);
      });
    },

    async subscribe(subOptions): Promise<TransportSubscription> {
      assertOpen();
      const sub = new RedisSub(subOptions);
      await sub.start();
      await refreshReader();
      return { close: () => sub.close() };
    },

    async history(name, query) {
      assertOpen();
      if (query.after !== undefined && !POSITION.test(query.after)) {
        throw new EventsError(
          EventsErrorCode.INVALID_ARGUMENT,
          `unknown position ${JSON.stringify(query.after)}`,
        );
      }
      let start = '-';
      if (query.since !== undefined) start = `${Math.max(0, Math.floor(query.since))}-0`;
      if (query.after !== undefined && (start === '-' || compareIds(query.after, start) >= 0))
        start = `(${query.after}`;
      const end = query.until === undefined ? '+' : String(Math.max(0, Math.floor(query.until)));
      const key = eventKey(name);
      const entries = (
        query.order === 'asc'
          ? await client.call('XRANGE', key, start, end, 'COUNT', query.limit)
          : await client.call('XREVRANGE', key, end, start, 'COUNT', query.limit)
      ) as RawEntry[];
      return entries.map(([id, fields]) => parseEntry(id, fields));
    },

    async listDeadLetters(subscription, limit) {
      assertOpen();
      const entries = (await client.call(
        'XRANGE',
        dlqKey(subscription),
        '-',
        '+',
        'COUNT',
        limit,
      )) as RawEntry[];
      return entries.map(([id, fields]) => parseDeadLetter(id, fields));
    },

    async replayDeadLetters(subscription, ids) {
      assertOpen();
      const key = dlqKey(subscription);
      let entries: RawEntry[];
      if (ids === undefined) {
        entries = (await client.call('XRANGE', key, '-', '+')) as RawEntry[];
      } else {
        const batch = client.pipeline();
        for (const id of ids) {
          if (!POSITION.test(id)) {
            throw new EventsError(
              EventsErrorCode.INVALID_ARGUMENT,
              `unknown dead-letter id ${JSON.stringify(id)}`,
            );
          }
          batch.call('XRANGE', key, id, id);
        }
        entries = ((await exec(batch)) as RawEntry[][]).flat();
      }
      let replayed = 0;
      for (const [id, fields] of entries) {
        const dead = parseDeadLetter(id, fields);
        const moved = await client.call(
          'EVAL',
          REPLAY_DEAD_LETTER,
          2,
          key,
          retryKey(subscription),
          id,
          deadLetterMaxLen,
          ...recordFields(dead),
        );
        if (Number(moved) === 1) replayed++;
      }
      return replayed;
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subs].map((s) => s.close()));
      stopHeartbeat();
      wakeIdle?.();
      blocker?.disconnect();
      await readLoop;
      client.removeListener('close', forgetNames);
    },
  };
}

function parseDeadLetter(id: string, fields: string[] | null): DeadLetter {
  const f = toFields(fields ?? []);
  let error: DeadLetter['error'] = { name: 'Error', message: 'unknown' };
  try {
    error = JSON.parse(f.get('e') ?? '') as DeadLetter['error'];
  } catch {}
  let event: StoredEvent;
  try {
    event = parseEntry(f.get('p') ?? id, fields);
  } catch {
    // A corrupt entry was dead-lettered as it was: keep what there is.
    event = {
      id: f.get('i') ?? '',
      name: f.get('n') ?? '',
      payload: f.get('d') ?? '',
      timestamp: 0,
      position: f.get('p') ?? '',
    };
  }
  return {
    ...event,
    deadLetterId: id,
    subscription: f.get('sub') ?? '',
    error,
    attempts: Number(f.get('a') ?? 0),
    failedAt: Number(f.get('f') ?? 0),
  };
}
