import { EventsErrorCode, isEventsError } from '../../errors.js';
import type { EventRecord } from '../../types.js';
import { connectionState, isUnavailable, unavailable } from './availability.js';
import type { RedisContext } from './options.js';
import type { Publisher } from './publisher.js';

/** Events per drain round: sent in one tick, so they coalesce into a few script calls. */
const DRAIN_CHUNK = 1000;
/** Wait before a drain is retried after it failed while the client looked connected, in ms. */
const DRAIN_RETRY_MS = 500;

/**
 * The opt-in outage buffer: a publish that finds Redis unavailable (or times out) is kept in memory, in order,
 * and resolves at once as buffered (position `''`); the buffer is written, oldest first, when the client is
 * ready again. While it holds events, new publishes queue behind them, so each stream keeps its order.
 * Bounded by `maxEvents` with a drop policy; what it holds is lost if the process dies.
 */
export class PublishBuffer {
  private readonly events: EventRecord[] = [];
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Events dropped by `drop-oldest`, or given up on (a non-retryable error), since the transport started. */
  dropped = 0;
  private readonly onReady = () => void this.drain();

  constructor(
    private readonly ctx: RedisContext,
    private readonly publisher: Publisher,
    private readonly maxEvents: number,
    private readonly onOverflow: 'reject' | 'drop-oldest',
  ) {
    ctx.client.on('ready', this.onReady);
  }

  /** Publishes through the buffer: straight to Redis when it is empty and Redis answers, else buffered. */
  publish(records: readonly EventRecord[]): Promise<string[]> {
    if (this.events.length > 0) return this.add(records);
    return this.publisher.publish(records).catch((error: unknown) => {
      if (!isUnavailable(error)) throw error;
      return this.add(records);
    });
  }

  get size(): number {
    return this.events.length;
  }

  private add(records: readonly EventRecord[]): Promise<string[]> {
    const room = this.maxEvents - this.events.length;
    if (records.length > room) {
      if (this.onOverflow === 'reject') {
        return Promise.reject(
          unavailable(`Redis is unavailable and the publish buffer is full (${this.maxEvents} events)`),
        );
      }
      const drop = Math.min(this.events.length, records.length - room);
      this.events.splice(0, drop);
      const excess = Math.max(0, records.length - this.maxEvents);
      this.dropped += drop + excess;
      this.ctx.logger.warn(
        { dropped: drop + excess, maxEvents: this.maxEvents },
        'publish buffer full: dropped the oldest buffered events',
      );
      records = records.slice(excess);
    }
    this.events.push(...records);
    this.ctx.logger.debug({ buffered: this.events.length }, 'Redis unavailable: publish buffered');
    this.kick();
    return Promise.resolve(records.map(() => ''));
  }

  private kick(): void {
    if (connectionState(this.ctx.client) === 'ready') void this.drain();
  }

  /** Writes the buffer, oldest first, until it is empty or Redis fails again. */
  drain(): Promise<void> {
    this.draining ??= this.drainLoop().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    while (this.events.length > 0 && connectionState(this.ctx.client) === 'ready') {
      const chunk = this.events.slice(0, DRAIN_CHUNK);
      const results = await Promise.allSettled(chunk.map((r) => this.publisher.publish([r])));
      let written = 0;
      let stop = false;
      for (const [i, result] of results.entries()) {
        if (result.status === 'fulfilled') {
          written++;
          continue;
        }
        if (isUnavailable(result.reason)) {
          stop = true;
          break;
        }
        if (isEventsError(result.reason, EventsErrorCode.NOT_REPLICATED)) {
          // Stored on the master, not (yet) on enough replicas: written, not retried (it would be a duplicate).
          written++;
          this.ctx.logger.warn(
            { eventId: chunk[i]!.id, event: chunk[i]!.name },
            'buffered event written but not acknowledged by enough replicas',
          );
          continue;
        }
        // Not a connection problem (e.g. WRONGTYPE): retrying will not help.
        this.dropped++;
        written++;
        this.ctx.logger.error(
          { err: result.reason, eventId: chunk[i]!.id, event: chunk[i]!.name },
          'buffered event could not be published: dropped',
        );
      }
      // What failed stays at the front, in order; everything after it was sent again or not at all.
      this.events.splice(0, written);
      if (stop) {
        this.scheduleRetry();
        return;
      }
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, DRAIN_RETRY_MS);
    this.retryTimer.unref();
  }

  /** One bounded last attempt to write what is buffered; reports what is lost. */
  async close(): Promise<void> {
    this.ctx.client.removeListener('ready', this.onReady);
    clearTimeout(this.retryTimer);
    if (this.events.length > 0 && connectionState(this.ctx.client) === 'ready')
      await this.drain().catch(() => {});
    if (this.events.length > 0) {
      this.ctx.logger.error(
        { lost: this.events.length },
        'transport closed with buffered events unpublished',
      );
    }
  }
}
