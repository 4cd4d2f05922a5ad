import { Limiter } from '../../internal/limiter.js';
import { compilePattern } from '../../pattern.js';
import type { DeliveryAttempts, HandleOutcome, StoredEvent, TransportSubscribeOptions } from '../../types.js';
import { claimStale, type Heartbeat, nextAttempt, releaseConsumer } from './claim.js';
import { addDeadLetter, followNames } from './dead-letters.js';
import {
  bounded,
  compareIds,
  exec,
  isNoGroup,
  parseEntry,
  type RawEntry,
  type XReadReply,
} from './entries.js';
import type { NameRegistry } from './names.js';
import type { RedisContext } from './options.js';
import type { ReaderListener, StreamReader } from './reader.js';

/** What a subscription shares with the rest of its transport. */
export interface SubscriptionDeps {
  ctx: RedisContext;
  reader: StreamReader;
  names: NameRegistry;
  heartbeat: Heartbeat;
  /** The transport's open subscriptions (a consumer shared with another one is not released on close). */
  open: Set<RedisSubscription>;
}

/**
 * One subscription. Live: fed by the shared blocking reader, from the tail at subscribe time. Durable: a
 * consumer group per stream (at-least-once), read with XREADGROUP whenever the reader reports new entries,
 * with stale deliveries of stopped members claimed, attempts counted in the stream, and failures
 * dead-lettered in the same transaction that acknowledges them.
 */
export class RedisSubscription implements ReaderListener {
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
  /** The event name of each stream read (its dead letters go to that name's dead-letter stream). */
  private readonly nameOf = new Map<string, string>();
  private readonly retryKeys = new Set<string>();
  private closing = false;
  /** The key groups (see `RedisContext.groupOf`) that may have entries for the group to read. */
  private readonly dirty = new Set<string>();
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closeDone: Promise<void> | undefined;

  constructor(
    readonly options: TransportSubscribeOptions,
    private readonly deps: SubscriptionDeps,
  ) {
    this.durable = options.durable;
    const { selector } = options;
    this.matches = selector.kind === 'name' ? (n) => n === selector.name : compilePattern(selector.pattern);
    this.limiter = new Limiter(options.concurrency, () => {
      if (this.durable) this.pump();
    });
  }

  async start(): Promise<void> {
    const { ctx, reader, names } = this.deps;
    const { selector, name, startAt } = this.options;
    // The names log's tail is read before the names are listed: a name registered in between is then
    // found by both (discovered() skips it), never by neither (it would never be followed).
    const logTail = selector.kind === 'pattern' ? (await reader.lastIds([ctx.namesLogKey]))[0] : undefined;
    const matched = selector.kind === 'name' ? [selector.name] : await names.matching(selector.pattern);
    const keys = matched.flatMap((event) => this.keysOf(event));
    await followNames(ctx, name, matched);
    const tails = await reader.lastIds(keys);
    if (this.durable) {
      await this.ensureGroups(keys, (key) => (this.retryKeys.has(key) || startAt === 'earliest' ? '0' : '$'));
    }
    for (const [i, key] of keys.entries()) this.add(key, tails[i]!);
    if (logTail !== undefined) this.add(ctx.namesLogKey, logTail);
    this.deps.open.add(this);
    if (this.durable) {
      this.pump();
      this.claimTimer = setInterval(() => void this.claim(), ctx.claimIntervalMs);
      this.claimTimer.unref();
    }
  }

  /** The streams this subscription reads for one event name (its events, its replayed dead letters). */
  private keysOf(event: string): string[] {
    const { ctx } = this.deps;
    const eventKey = ctx.eventKey(event);
    const retryKey = ctx.retryKey(event, this.options.name);
    this.nameOf.set(eventKey, event);
    this.nameOf.set(retryKey, event);
    this.retryKeys.add(retryKey);
    return [eventKey, retryKey];
  }

  private add(key: string, tail: string): void {
    if (key !== this.deps.ctx.namesLogKey) {
      this.keys.add(key);
      this.dirty.add(this.deps.ctx.groupOf(key));
    }
    this.seen.set(key, tail);
    this.deps.reader.watch(key, this, tail);
  }

  /** Creates the group on each stream (one call per key: on a cluster they are in different slots). */
  private async ensureGroups(keys: string[], startId: (key: string) => string): Promise<void> {
    const { client } = this.deps.ctx;
    await Promise.all(
      keys.map((key) =>
        client
          .call('XGROUP', 'CREATE', key, this.options.name, startId(key), 'MKSTREAM')
          .catch((error: unknown) => {
            if (!(error instanceof Error && error.message.includes('BUSYGROUP'))) throw error;
          }),
      ),
    );
  }

  /** The reader saw a name registered for the first time. */
  discovered(name: string): void {
    const key = this.deps.ctx.eventKey(name);
    if (this.closing || !this.matches(name) || this.keys.has(key)) return;
    this.keys.add(key);
    void (async () => {
      const keys = this.keysOf(name);
      try {
        await followNames(this.deps.ctx, this.options.name, [name]);
        // The stream is new to this subscription: everything in it is news.
        if (this.durable) await this.ensureGroups(keys, () => '0');
        if (this.closing) return;
        for (const k of keys) this.add(k, '0-0');
        this.pump();
        await this.deps.reader.refresh();
      } catch (error) {
        this.keys.delete(key);
        this.deps.ctx.logger.warn(
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
      this.dirty.add(this.deps.ctx.groupOf(key));
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
    const { ctx, heartbeat } = this.deps;
    const { name: group, consumer } = this.options;
    let attempts: DeliveryAttempts | undefined;
    if (this.durable) {
      heartbeat.hold(key, group, consumer, id);
      attempts = { first, next: () => nextAttempt(ctx, key, group, consumer, id) };
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
        ctx.logger.warn({ err: error, subscription: group, position: id }, 'could not settle a delivery');
      } finally {
        this.inFlight.delete(token);
        if (this.durable) heartbeat.release(key, group, consumer, id);
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
    const { ctx } = this.deps;
    const group = this.options.name;
    const batch = this.durable ? ctx.client.multi() : ctx.client.pipeline();
    if (outcome.status === 'failed') {
      addDeadLetter(ctx, batch, this.nameOf.get(key) ?? event?.name ?? '', group, id, event, fields, outcome);
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

  /**
   * XREADGROUP over the streams that may have news, one group of keys per call (one slot on a cluster: a
   * command cannot read streams of several slots; everything at once on a single node).
   */
  private async readGroup(): Promise<void> {
    const { client, logger, groupOf } = this.deps.ctx;
    const { name, consumer } = this.options;
    while (!this.closing && this.dirty.size > 0) {
      const free = this.limiter.free;
      if (free === 0) return;
      const group = this.dirty.values().next().value as string;
      this.dirty.delete(group);
      const keys = [...this.keys].filter((key) => groupOf(key) === group);
      if (keys.length === 0) continue;
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
        this.dirty.add(group);
        this.failures++;
        if (isNoGroup(error)) {
          // The server lost the group (restarted without persistence, a failover to a replica that had not
          // received it, or the stream was deleted): what is in the stream now arrived after the loss, so the
          // group starts from its beginning.
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
        if (entries.length > 0) this.dirty.add(group);
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
  private claim(): Promise<void> {
    return claimStale(this.deps.ctx, {
      group: this.options.name,
      consumer: this.options.consumer,
      keys: () => this.keys,
      free: () => this.limiter.free,
      closing: () => this.closing,
      dispatch: (key, id, fields, count) => this.dispatch(key, id, fields, count),
    });
  }

  /**
   * Removes this consumer from its group in each stream where it holds no delivery, unless another open
   * subscription uses it.
   */
  private async release(): Promise<void> {
    const { name, consumer } = this.options;
    const keys = [...this.keys].filter(
      (key) =>
        ![...this.deps.open].some(
          (other) =>
            other.durable &&
            other.options.name === name &&
            other.options.consumer === consumer &&
            other.keys.has(key),
        ),
    );
    if (keys.length > 0) await releaseConsumer(this.deps.ctx, keys, name, consumer);
  }

  close(): Promise<void> {
    if (this.closing) return this.closeDone!;
    this.closing = true;
    this.closeDone = (async () => {
      clearInterval(this.claimTimer);
      clearTimeout(this.retryTimer);
      for (const key of [...this.seen.keys()]) this.deps.reader.unwatch(key, this);
      this.deps.reader.remove(this);
      this.deps.open.delete(this);
      await this.pumping;
      await this.limiter.idle();
      if (this.durable) {
        // Best effort and bounded: a consumer left behind is harmless, and close must not hang on Redis.
        await bounded(this.release(), Math.min(1000, this.deps.ctx.blockMs));
      }
    })();
    return this.closeDone;
  }
}
