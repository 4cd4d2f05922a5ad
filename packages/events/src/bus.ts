import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  computeBackoff,
  DEFAULT_RETRY_POLICY,
  type Logger,
  type RetryPolicy,
  silentLogger,
  sleep,
} from '@app/core';
import { memoryEventTransport } from './adapters/memory.js';
import { EventsError, EventsErrorCode } from './errors.js';
import { serialise } from './internal/serialise.js';
import { positiveInt } from './internal/validate.js';
import { assertEventName, assertPattern, type MatchingNames } from './pattern.js';
import type {
  DeadLetter,
  DeliveryAttempts,
  EventRecord,
  EventSelector,
  EventTransport,
  HandleOutcome,
  StoredEvent,
  TransportSubscription,
} from './types.js';

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
  /** Its position in the event's log. */
  readonly position: string;
}

/** One event of {@link EventBus.publishMany}. */
export type PublishInput<Events, K extends keyof Events & string = keyof Events & string> = {
  [N in K]: { name: N; data: Events[N]; source?: string };
}[K];

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
export interface Subscription {
  /** Its name: the group for a durable subscription, `live:<event or pattern>` otherwise. Dead letters are kept under it. */
  readonly name: string;
  /** Whether it is a consumer group. */
  readonly durable: boolean;
  /** Stops taking events and resolves once the handlers in flight have finished. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
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
}

/** A typed event bus. It also fits `EventSink` from `@app/core`. */
export interface EventBus<Events extends EventMap<Events> = Record<string, unknown>> {
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
  /** Closes every subscription (waiting for handlers in flight), then the transport. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function invalid(message: string, code: EventsErrorCode = EventsErrorCode.INVALID_ARGUMENT): EventsError {
  return new EventsError(code, message);
}

function toMs(value: Date | number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = value instanceof Date ? value.getTime() : value;
  if (!Number.isFinite(ms)) throw invalid(`${what} must be a valid Date or a number of ms`);
  return ms;
}

/** `code` is INVALID_OPTIONS for the bus's default policy, INVALID_ARGUMENT for a subscription's. */
function checkPolicy(policy: RetryPolicy, code: EventsErrorCode): RetryPolicy {
  positiveInt(policy.maxAttempts, 1, 'retry.maxAttempts', code);
  if (!(policy.baseDelayMs >= 0) || !(policy.maxDelayMs >= 0))
    throw invalid('retry delays must be >= 0', code);
  return policy;
}

function toEnvelope<K extends string, D>(stored: StoredEvent): EventEnvelope<K, D> {
  let data: D;
  try {
    data = JSON.parse(stored.payload) as D;
  } catch (cause) {
    throw new EventsError(
      EventsErrorCode.CORRUPT_EVENT,
      `event ${stored.id} (${stored.name}) holds invalid JSON`,
      {
        cause,
      },
    );
  }
  const envelope: EventEnvelope<K, D> = {
    id: stored.id,
    name: stored.name as K,
    data,
    timestamp: stored.timestamp,
    position: stored.position,
    ...(stored.source === undefined ? {} : { source: stored.source }),
  };
  return envelope;
}

/**
 * Creates a typed event bus over a transport (in-memory by default).
 *
 * @example
 * ```ts
 * import { createEventBus } from '@app/events';
 *
 * interface Events {
 *   'user.registered': { userId: string; email: string };
 * }
 * const bus = createEventBus<Events>();
 * await bus.subscribe('user.registered', async (event) => {
 *   console.log(event.id, event.data.email);
 * });
 * await bus.publish('user.registered', { userId: 'u1', email: 'a@example.com' });
 * await bus.close();
 * ```
 */
export function createEventBus<Events extends EventMap<Events> = Record<string, unknown>>(
  options: EventBusOptions = {},
): EventBus<Events> {
  const transport = options.transport ?? memoryEventTransport();
  const logger = options.logger ?? silentLogger;
  const defaultSource = options.source ?? 'app';
  const defaultPolicy = checkPolicy(
    { ...DEFAULT_RETRY_POLICY, ...options.retry },
    EventsErrorCode.INVALID_OPTIONS,
  );
  const consumer = options.consumer ?? `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  const subscriptions = new Set<Subscription>();
  let closed = false;
  let closing: Promise<void> | undefined;

  function assertOpen(): void {
    if (closed) throw new EventsError(EventsErrorCode.CLOSED, 'the event bus is closed');
  }

  function record(name: string, data: unknown, source: string | undefined): EventRecord {
    assertEventName(name);
    if (source !== undefined && typeof source !== 'string') throw invalid('source must be a string');
    return {
      id: randomUUID(),
      name,
      payload: serialise(name, data),
      timestamp: Date.now(),
      source: source ?? defaultSource,
    };
  }

  function published<K extends string>(rec: EventRecord, position: string): PublishedEvent<K> {
    return {
      id: rec.id,
      name: rec.name as K,
      timestamp: rec.timestamp,
      position,
      ...(rec.source ? { source: rec.source } : {}),
    };
  }

  async function runHandler(
    handler: EventHandler<DeliveredEvent>,
    stored: StoredEvent,
    attempts: DeliveryAttempts | undefined,
    policy: RetryPolicy,
    signal: AbortSignal,
    subName: string,
  ): Promise<HandleOutcome> {
    let envelope: EventEnvelope;
    try {
      envelope = toEnvelope(stored);
    } catch (error) {
      logger.error(
        { err: error, subscription: subName, eventId: stored.id },
        'event cannot be parsed: dead-lettered',
      );
      return { status: 'failed', error, attempts: 0 };
    }
    const context = { subscription: subName, event: stored.name, eventId: stored.id };
    let attempt = attempts?.first ?? 1;
    let lastError: unknown = new EventsError(
      EventsErrorCode.ATTEMPTS_EXHAUSTED,
      `event ${stored.id} (${stored.name}) used up its ${policy.maxAttempts} attempts before this delivery`,
    );
    for (;;) {
      if (attempt > policy.maxAttempts) {
        // Earlier members used the attempts up and stopped before they could dead-letter the event.
        logger.error(
          { ...context, err: lastError, attempts: attempt - 1 },
          'handler failed on every attempt: dead-lettered',
        );
        return { status: 'failed', error: lastError, attempts: attempt - 1 };
      }
      try {
        await handler({ ...envelope, attempt });
        return { status: 'done' };
      } catch (error) {
        lastError = error;
        if (attempt >= policy.maxAttempts) {
          logger.error(
            { ...context, err: error, attempts: attempt },
            'handler failed on every attempt: dead-lettered',
          );
          return { status: 'failed', error, attempts: attempt };
        }
        const delay = computeBackoff(attempt, policy);
        logger.warn({ ...context, err: error, attempt, delayMs: delay }, 'handler failed: retrying');
        try {
          await sleep(delay, signal);
        } catch {
          return { status: 'abandoned' };
        }
        if (!attempts) {
          attempt++;
          continue;
        }
        let next: number | undefined;
        try {
          next = await attempts.next();
        } catch (countError) {
          // The count cannot be recorded: leave the delivery to be taken over (and counted) later.
          logger.warn({ ...context, err: countError }, 'could not record a retry: delivery left for later');
          return { status: 'abandoned' };
        }
        if (next === undefined) {
          logger.warn(context, 'another member took the delivery over: retries stop here');
          return { status: 'abandoned' };
        }
        attempt = next;
      }
    }
  }

  async function startSubscription(
    selector: EventSelector,
    handler: EventHandler<DeliveredEvent>,
    subOptions: SubscribeOptions = {},
  ): Promise<Subscription> {
    if (typeof handler !== 'function') throw invalid('handler must be a function');
    const { group } = subOptions;
    if (group !== undefined) assertEventName(group, 'group name');
    const startAt = subOptions.startAt ?? 'latest';
    if (startAt !== 'latest' && startAt !== 'earliest')
      throw invalid(`startAt must be 'latest' or 'earliest'`);
    const concurrency = positiveInt(
      subOptions.concurrency,
      1,
      'concurrency',
      EventsErrorCode.INVALID_ARGUMENT,
    );
    const policy = subOptions.retry
      ? checkPolicy({ ...defaultPolicy, ...subOptions.retry }, EventsErrorCode.INVALID_ARGUMENT)
      : defaultPolicy;
    assertOpen();

    const what = selector.kind === 'name' ? selector.name : selector.pattern;
    const name = group ?? `live:${what}`;
    const abort = new AbortController();
    const inner: TransportSubscription = await transport.subscribe({
      selector,
      name,
      durable: group !== undefined,
      startAt,
      concurrency,
      consumer,
      handle: (stored, attempts) => runHandler(handler, stored, attempts, policy, abort.signal, name),
    });
    let done: Promise<void> | undefined;
    const sub: Subscription = {
      name,
      durable: group !== undefined,
      close() {
        done ??= (async () => {
          abort.abort(new EventsError(EventsErrorCode.CLOSED, `subscription ${name} closed`));
          await inner.close();
          subscriptions.delete(sub);
        })();
        return done;
      },
      [Symbol.asyncDispose]() {
        return sub.close();
      },
    };
    subscriptions.add(sub);
    if (closed) await sub.close();
    return sub;
  }

  async function readHistory<K extends string, D>(
    name: string,
    opts: HistoryOptions,
  ): Promise<EventEnvelope<K, D>[]> {
    assertEventName(name);
    const limit = positiveInt(opts.limit, 100, 'limit', EventsErrorCode.INVALID_ARGUMENT);
    const order = opts.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw invalid(`order must be 'asc' or 'desc'`);
    if (opts.after !== undefined && (typeof opts.after !== 'string' || opts.after.length === 0)) {
      throw invalid('after must be a position string');
    }
    const since = toMs(opts.since, 'since');
    const until = toMs(opts.until, 'until');
    assertOpen();
    const rows = await transport.history(name, {
      limit,
      order,
      ...(opts.after === undefined ? {} : { after: opts.after }),
      ...(since === undefined ? {} : { since }),
      ...(until === undefined ? {} : { until }),
    });
    return rows.map((row) => toEnvelope<K, D>(row));
  }

  const bus: EventBus<Events> = {
    async publish(event, data, source) {
      const rec = record(event, data, source);
      assertOpen();
      const [position] = await transport.publish([rec]);
      return published(rec, position!);
    },

    async publishMany(events) {
      if (!Array.isArray(events)) throw invalid('publishMany expects an array');
      const recs = events.map((e) => record(e.name, e.data, e.source));
      assertOpen();
      if (recs.length === 0) return [];
      const positions = await transport.publish(recs);
      return recs.map((rec, i) => published(rec, positions[i]!));
    },

    subscribe(event, handler, subOptions) {
      assertEventName(event);
      return startSubscription(
        { kind: 'name', name: event },
        handler as EventHandler<DeliveredEvent>,
        subOptions,
      );
    },

    subscribePattern(pattern, handler, subOptions) {
      assertPattern(pattern);
      return startSubscription(
        { kind: 'pattern', pattern },
        handler as EventHandler<DeliveredEvent>,
        subOptions,
      );
    },

    getEventHistory(event, limit = 100) {
      return readHistory(event, { limit, order: 'desc' });
    },

    history(event, historyOptions = {}) {
      return readHistory(event, historyOptions);
    },

    async replay(event, replayOptions, handler) {
      if (typeof handler !== 'function') throw invalid('handler must be a function');
      const batchSize = positiveInt(
        replayOptions.batchSize,
        500,
        'batchSize',
        EventsErrorCode.INVALID_ARGUMENT,
      );
      let after = replayOptions.after;
      let count = 0;
      for (;;) {
        const page = await readHistory<typeof event, Events[typeof event]>(event, {
          ...replayOptions,
          after,
          limit: batchSize,
          order: 'asc',
        });
        for (const envelope of page) {
          await handler(envelope);
          count++;
        }
        if (page.length < batchSize) return count;
        after = page[page.length - 1]!.position;
      }
    },

    async listDeadLetters(subscription, limit = 100) {
      if (typeof subscription !== 'string' || subscription.length === 0)
        throw invalid('subscription name is required');
      positiveInt(limit, 100, 'limit', EventsErrorCode.INVALID_ARGUMENT);
      assertOpen();
      return transport.listDeadLetters(subscription, limit);
    },

    async replayDeadLetters(subscription, ids) {
      if (typeof subscription !== 'string' || subscription.length === 0)
        throw invalid('subscription name is required');
      if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))) {
        throw invalid('ids must be an array of dead-letter ids');
      }
      assertOpen();
      return transport.replayDeadLetters(subscription, ids);
    },

    close() {
      closing ??= (async () => {
        closed = true;
        await Promise.all([...subscriptions].map((s) => s.close()));
        await transport.close();
      })();
      return closing;
    },

    [Symbol.asyncDispose]() {
      return bus.close();
    },
  };
  return bus;
}
