import type { Closeable } from '@app/core';

/**
 * The shape of an event map: event name -> payload type.
 *
 * @example
 * ```ts
 * interface Events {
 *   'user.registered': { userId: string; email: string };
 *   'order.placed': { orderId: string; total: number };
 * }
 * ```
 */
export type EventMap<Events = Record<string, unknown>> = { [K in keyof Events]: Events[K] };

/** One event of `EventBus.publishMany` (and of the outbox's `publishMany`). */
export type PublishInput<Events, K extends keyof Events & string = keyof Events & string> = {
  [N in K]: { name: N; data: Events[N]; source?: string };
}[K];

/** An event as a transport stores it: the payload is already JSON text. */
export interface EventRecord {
  /** Unique id (a UUID), the same in every delivery and replay: the key for idempotent handlers. */
  id: string;
  /** The event name, e.g. `user.registered`. */
  name: string;
  /** The payload as JSON text. */
  payload: string;
  /** When it was published, in ms since the epoch. */
  timestamp: number;
  /** Who published it, e.g. `api` or `@app/otp`. */
  source?: string;
  /**
   * Transport headers: the W3C trace context (`traceparent`, `tracestate`) of the span that published the
   * event, so that its handlers, in any process, join the publisher's trace. Absent when nobody traces.
   */
  headers?: Record<string, string>;
}

/** An event read back from a transport, with its position in the event's log. */
export interface StoredEvent extends EventRecord {
  /**
   * Where the event sits in its log: a Redis stream id (`1718000000000-0`) or the memory transport's
   * counter. Positions of one event name grow with publication order.
   */
  position: string;
}

/** The verdict of the bus on one delivery; the transport acts on it. */
export type HandleOutcome =
  /** The handler succeeded: acknowledge. */
  | { status: 'done' }
  /** Every attempt failed: store a dead letter, then acknowledge. */
  | { status: 'failed'; error: unknown; attempts: number }
  /** Shutdown interrupted the retries: do not acknowledge (a durable event is delivered again later). */
  | { status: 'abandoned' };

/**
 * The attempt count of one durable delivery, kept by the transport so that it survives a member crashing
 * or closing: the next member continues the count instead of starting again at 1. An attempt is counted
 * when it begins, so a handler that crashes its process counts too.
 */
export interface DeliveryAttempts {
  /**
   * The number of the delivery's first attempt here: 1 for a first delivery, more when earlier members
   * made attempts (a member that stopped while holding the delivery counts as one attempt).
   */
  readonly first: number;
  /**
   * Records that one more attempt begins and resolves with its number, or with `undefined` when this
   * member no longer holds the delivery (another member took it over): the bus then stops retrying it.
   */
  next(): Promise<number | undefined>;
}

/** What a subscription listens to. */
export type EventSelector = { kind: 'name'; name: string } | { kind: 'pattern'; pattern: string };

/** What {@link EventTransport.subscribe} needs. */
export interface TransportSubscribeOptions {
  /** The event name or pattern. */
  selector: EventSelector;
  /**
   * The subscription's name: its consumer group when `durable`, and the key of its dead letters and
   * replays in every case.
   */
  name: string;
  /** Durable (a consumer group: backlog kept, at-least-once) or live (only events published from now on). */
  durable: boolean;
  /** Where a durable group starts the first time it is created. */
  startAt: 'latest' | 'earliest';
  /** At most this many `handle` calls run at once. */
  concurrency: number;
  /** The consumer's name inside a durable group. */
  consumer: string;
  /**
   * Runs the bus's handler (with its retries) on one event. Never rejects. Durable subscriptions pass
   * `attempts` so the count carries over between members; without it the bus counts from 1.
   */
  handle(event: StoredEvent, attempts?: DeliveryAttempts): Promise<HandleOutcome>;
}

/** A running subscription inside a transport. */
export interface TransportSubscription {
  /** Stops taking new events and resolves when the handlers in flight have finished. */
  close(): Promise<void>;
}

/** Which part of an event's log {@link EventTransport.history} returns. */
export interface HistoryQuery {
  /** Only events strictly after this position. */
  after?: string;
  /** Only events published at or after this time (ms since the epoch). */
  since?: number;
  /** Only events published at or before this time (ms since the epoch). */
  until?: number;
  /** At most this many events. */
  limit: number;
  /** `asc`: oldest first; `desc`: newest first. */
  order: 'asc' | 'desc';
}

/** An event a subscription gave up on, with why. */
export interface DeadLetter extends StoredEvent {
  /** The dead letter's own id (its position in the dead-letter log). */
  deadLetterId: string;
  /** The subscription that failed. */
  subscription: string;
  /** The last error, serialised. */
  error: { name: string; message: string; stack?: string };
  /** How many attempts were made. */
  attempts: number;
  /** When the subscription gave up, in ms since the epoch. */
  failedAt: number;
}

/** The backlog of one durable group on one event's log, as {@link EventTransport.groupStats} reports it. */
export interface GroupStats {
  /** The event name (the log). */
  name: string;
  /** The group (the durable subscription's name). */
  group: string;
  /** Events in the log the group has not been handed yet; `undefined` when the backend cannot tell. */
  lag: number | undefined;
  /** Events handed to a member and not yet acknowledged. */
  pending: number;
}

/**
 * Moves events between publishers and subscribers. `memoryEventTransport()` and `redisEventTransport()` implement
 * it; `@app/events/testing` holds the contract suite another implementation must pass.
 */
export interface EventTransport extends Closeable {
  /**
   * The `messaging.system` of its telemetry: `memory`, `redis`, or your transport's name.
   * @default 'custom'
   */
  readonly system?: string;
  /** Stores the events (one round trip where possible) and resolves with their positions, in order. */
  publish(records: readonly EventRecord[]): Promise<string[]>;
  /** Starts delivering events to `options.handle`. */
  subscribe(options: TransportSubscribeOptions): Promise<TransportSubscription>;
  /** Reads an event's log. */
  history(name: string, query: HistoryQuery): Promise<StoredEvent[]>;
  /** The dead letters of a subscription, oldest first. */
  listDeadLetters(subscription: string, limit: number): Promise<DeadLetter[]>;
  /**
   * Sends dead letters (all, or those with the given `deadLetterId`s) back to their subscription, and
   * removes them from the dead-letter log. Resolves with how many were replayed.
   */
  replayDeadLetters(subscription: string, ids?: readonly string[]): Promise<number>;
  /**
   * Optional: the lag and pending count of the durable groups this transport's subscriptions consume, per
   * event log; read when a metrics SDK collects (the `app.events.consumer.lag`/`pending` gauges). Cheap:
   * no more than one round trip per log.
   */
  groupStats?(): Promise<GroupStats[]>;
  /**
   * Optional: how many events the log of `name` holds now (0 when it has none). One round trip. Tools such
   * as `@app/console` read it through `bus.streamLength` and show "n/a" when a transport lacks it.
   */
  streamLength?(name: string): Promise<number>;
  /**
   * Optional: every durable group reading the log of `name` (whichever process runs it), with its lag and
   * pending count; `[]` when the log has none. One round trip.
   */
  consumerGroups?(name: string): Promise<GroupStats[]>;
  /**
   * Optional: deletes dead letters of a subscription for good (all of them, or those with the given
   * `deadLetterId`s; unknown ids are skipped) and resolves with how many were deleted. Ids the transport
   * cannot parse reject with `INVALID_ARGUMENT` before anything is deleted.
   */
  deleteDeadLetters?(subscription: string, ids?: readonly string[]): Promise<number>;
  /**
   * Closes the subscriptions (waiting for handlers in flight) and frees what the transport holds. Safe to call
   * more than once.
   */
  close(): Promise<void>;
}
