import type { Closeable, Logger, RetryPolicy, TelemetrySetting } from '@app/core';
import type { MatchingNames } from './pattern.js';
import type { DeadLetter, EventMap, EventTransport, GroupStats, PublishInput } from './types.js';

/** An event read from the log: its payload typed by its name. */
export interface EventEnvelope<Name extends string = string, Data = unknown> {
  /** Unique id, the same in every delivery and replay: the key for idempotent handlers. */
  readonly id: string;
  /** The event name. */
  readonly name: Name;
  /** The payload, parsed from JSON (so a `Date` comes back as a string). */
  readonly data: Data;
  /** When it was published, in ms since the epoch. */
  readonly timestamp: number;
  /** Who published it. */
  readonly source?: string;
  /** Its position in the event's log; pass it as `after` to read on from here. */
  readonly position: string;
}

/** An event handed to a handler: the envelope plus which attempt this is (1 for the first). */
export interface DeliveredEvent<Name extends string = string, Data = unknown>
  extends EventEnvelope<Name, Data> {
  /**
   * 1 on the first call; 2, 3... on retries. For durable subscriptions (memory and Redis transports) the
   * count carries over when another member takes the event over, so it can start above 1.
   */
  readonly attempt: number;
}

/** The union of envelopes for the names `K` of `Events`, discriminated by `name`. */
export type EnvelopeOf<Events, K extends keyof Events & string> = {
  [N in K]: EventEnvelope<N, Events[N]>;
}[K];

/** The union of deliveries for the names `K` of `Events`, discriminated by `name`. */
export type DeliveryOf<Events, K extends keyof Events & string> = {
  [N in K]: DeliveredEvent<N, Events[N]>;
}[K];

/** A subscriber. A rejection (or throw) is retried with backoff, then dead-lettered. */
export type EventHandler<E> = (event: E) => unknown;

/** What {@link EventBus.publish} resolves with. */
export interface PublishedEvent<Name extends string = string> {
  /** The event's unique id. */
  readonly id: string;
  /** The event name. */
  readonly name: Name;
  /** The publication time, in ms since the epoch. */
  readonly timestamp: number;
  /** Who published it. */
  readonly source?: string;
  /** Its position in the event's log (`''` while it waits in the Redis transport's outage buffer). */
  readonly position: string;
  /**
   * `true` when the Redis transport's outage buffer took the event because Redis was unreachable: it is
   * written when Redis is back (and lost if the process dies first). Absent otherwise.
   */
  readonly buffered?: true;
}

/** Options of {@link EventBus.subscribe} and {@link EventBus.subscribePattern}. */
export interface SubscribeOptions {
  /**
   * Makes the subscription durable: a consumer group of this name. Events published while no member runs
   * are kept and delivered later; each event goes to one member of the group (at least once); an event
   * held by a crashed member is claimed by another. Without it the subscription is live-only: it sees
   * events published after `subscribe` resolves, and nothing is kept for it.
   * @default undefined (live-only)
   */
  group?: string;
  /**
   * Where a durable group starts the first time it is created: `latest` (only new events) or
   * `earliest` (everything still in the log). Ignored once the group exists, and for live subscriptions.
   * @default 'latest'
   */
  startAt?: 'latest' | 'earliest';
  /** How many events this subscription handles at once. 1 keeps the log's order. @default 1 */
  concurrency?: number;
  /**
   * Retries of a failing handler before the event is dead-lettered. For a durable subscription
   * `maxAttempts` counts attempts across every member of the group (a member that crashed holding the
   * event counts as one). @default the bus's `retry`
   */
  retry?: Partial<RetryPolicy>;
}

/** A running subscription. */
export interface Subscription extends Closeable {
  /** Its name: the group for a durable subscription, `live:<event or pattern>` otherwise. Dead letters are kept under it. */
  readonly name: string;
  /** Whether it is a consumer group. */
  readonly durable: boolean;
  /** Stops taking events and resolves once the handlers in flight have finished. */
  close(): Promise<void>;
}

/** What {@link EventBus.history} reads. */
export interface HistoryOptions {
  /** Only events strictly after this position (from an envelope's `position`). @default undefined (from the oldest kept) */
  after?: string;
  /** Only events published at or after this time. @default undefined (no lower time bound) */
  since?: Date | number;
  /** Only events published at or before this time. @default undefined (no upper time bound) */
  until?: Date | number;
  /** At most this many events. @default 100 */
  limit?: number;
  /** `asc`: oldest first; `desc`: newest first. @default 'asc' */
  order?: 'asc' | 'desc';
}

/** What {@link EventBus.replay} reads. */
export interface ReplayOptions {
  /** Only events strictly after this position. @default undefined (from the oldest kept) */
  after?: string;
  /** Only events published at or after this time. @default undefined (no lower time bound) */
  since?: Date | number;
  /** Only events published at or before this time. @default undefined (no upper time bound) */
  until?: Date | number;
  /** How many events are read per round trip. @default 500 */
  batchSize?: number;
}

/** Options of {@link createEventBus}. */
export interface EventBusOptions {
  /** Where events go: `memoryEventTransport()`, `redisEventTransport({ client })` or your own. @default memoryEventTransport() */
  transport?: EventTransport;
  /** The `source` of events published without one. @default 'app' */
  source?: string;
  /** Retry policy of handlers (attempts include the first). @default { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5000, jitter: 'full' } */
  retry?: Partial<RetryPolicy>;
  /** This process's consumer name inside durable groups. @default `${hostname}-${pid}-${random}` */
  consumer?: string;
  /** Gets warnings about failing handlers and transport trouble. @default silentLogger */
  logger?: Logger;
  /**
   * OpenTelemetry: a producer span per published event (its trace context carried in the event's
   * headers), a consumer span per handler attempt, and the `app.events.*` metrics (see
   * docs/observability.md). Pass `{ tracerProvider, meterProvider }` instead of the global ones, or `false`
   * for none. Free when `@opentelemetry/api` is absent or no SDK is registered.
   * @default the global providers
   */
  telemetry?: TelemetrySetting;
}

/** A typed event bus. It also fits `EventSink` from `@app/core`. */
export interface EventBus<Events extends EventMap<Events> = Record<string, unknown>> extends Closeable {
  /** Publishes one event; resolves once the transport stored it. */
  publish<K extends keyof Events & string>(
    event: K,
    data: Events[K],
    source?: string,
  ): Promise<PublishedEvent<K>>;
  /** Publishes several events in one round trip where the transport allows it. */
  publishMany(events: ReadonlyArray<PublishInput<Events>>): Promise<PublishedEvent<keyof Events & string>[]>;
  /** Calls `handler` for each event of one name. */
  subscribe<K extends keyof Events & string>(
    event: K,
    handler: EventHandler<DeliveredEvent<K, Events[K]>>,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  /** Calls `handler` for each event whose name matches `pattern` (`*` matches any characters). */
  subscribePattern<P extends string>(
    pattern: P,
    handler: EventHandler<DeliveryOf<Events, MatchingNames<Events, P>>>,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  /** The latest `limit` events of one name, newest first. */
  getEventHistory<K extends keyof Events & string>(
    event: K,
    limit?: number,
  ): Promise<EventEnvelope<K, Events[K]>[]>;
  /** Reads part of an event's log, by position or time. */
  history<K extends keyof Events & string>(
    event: K,
    options?: HistoryOptions,
  ): Promise<EventEnvelope<K, Events[K]>[]>;
  /** Feeds the log of one name, oldest first, to `handler` (awaited one by one); resolves with the count. */
  replay<K extends keyof Events & string>(
    event: K,
    options: ReplayOptions,
    handler: (event: EventEnvelope<K, Events[K]>) => unknown,
  ): Promise<number>;
  /** The dead letters of a subscription (by its `name`), oldest first. */
  listDeadLetters(subscription: string, limit?: number): Promise<DeadLetter[]>;
  /** Sends dead letters back to their subscription; resolves with how many. */
  replayDeadLetters(subscription: string, ids?: readonly string[]): Promise<number>;
  /**
   * How many events the log of `event` holds. Present only when the transport can tell
   * (`EventTransport.streamLength`: memory and Redis can): feature-detect it.
   *
   * @example
   * ```ts
   * const length = bus.streamLength ? await bus.streamLength('user.registered') : undefined;
   * ```
   */
  streamLength?(event: keyof Events & string): Promise<number>;
  /**
   * The durable groups reading the log of `event`, with lag and pending count (whichever process runs them).
   * Present only when the transport can tell (`EventTransport.consumerGroups`).
   *
   * @example
   * ```ts
   * for (const g of (await bus.consumerGroups?.('user.registered')) ?? []) console.log(g.group, g.lag, g.pending);
   * ```
   */
  consumerGroups?(event: keyof Events & string): Promise<GroupStats[]>;
  /**
   * Deletes dead letters of a subscription for good (all, or those with the given ids); resolves with how
   * many. Present only when the transport can (`EventTransport.deleteDeadLetters`).
   *
   * @example
   * ```ts
   * const [letter] = await bus.listDeadLetters('mailer');
   * if (letter && bus.deleteDeadLetters) await bus.deleteDeadLetters('mailer', [letter.deadLetterId]);
   * ```
   */
  deleteDeadLetters?(subscription: string, ids?: readonly string[]): Promise<number>;
  /** Closes every subscription (waiting for handlers in flight), then the transport. */
  close(): Promise<void>;
}
