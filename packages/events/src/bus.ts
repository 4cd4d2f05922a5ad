import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { DEFAULT_RETRY_POLICY, type RetryPolicy, silentLogger } from '@app/core';
import { memoryEventTransport } from './adapters/memory.js';
import type {
  DeliveredEvent,
  EventBus,
  EventBusOptions,
  EventEnvelope,
  EventHandler,
  HistoryOptions,
  PublishedEvent,
  SubscribeOptions,
  Subscription,
} from './bus-types.js';
import { EventsError, EventsErrorCode } from './errors.js';
import { runHandler, toEnvelope } from './handler-retry.js';
import { busInspection } from './inspect.js';
import { serialise } from './internal/serialise.js';
import { positiveInt } from './internal/validate.js';
import { assertEventName, assertPattern } from './pattern.js';
import { EventsTelemetry, systemOf } from './telemetry.js';
import type { EventMap, EventRecord, EventSelector, TransportSubscription } from './types.js';

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
  const telemetry = new EventsTelemetry(options.telemetry);
  const system = systemOf(transport);
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
    const event: { -readonly [P in keyof PublishedEvent<K>]: PublishedEvent<K>[P] } = {
      id: rec.id,
      name: rec.name as K,
      timestamp: rec.timestamp,
      position,
    };
    if (rec.source) event.source = rec.source;
    if (position === '') event.buffered = true;
    return event;
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
    const run = {
      handler,
      policy,
      signal: abort.signal,
      subscription: name,
      logger,
      telemetry,
      consumer: { subscription: name, system, maxAttempts: policy.maxAttempts },
    };
    if (group !== undefined) telemetry.watchGroups(transport);
    const inner: TransportSubscription = await transport.subscribe({
      selector,
      name,
      durable: group !== undefined,
      startAt,
      concurrency,
      consumer,
      handle: (stored, attempts) => runHandler(run, stored, attempts),
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
    ...busInspection(transport, assertOpen),
    publish(event, data, source) {
      // Not an async function: the hot path allocates one promise chain, not two.
      let rec: EventRecord;
      try {
        rec = record(event, data, source);
        assertOpen();
      } catch (error) {
        return Promise.reject(error);
      }
      const records = [rec];
      const sent = telemetry.enabled()
        ? telemetry.publish(records, system, () => transport.publish(records))
        : transport.publish(records);
      return sent.then((positions) => published<typeof event>(rec, positions[0]!));
    },

    async publishMany(events) {
      if (!Array.isArray(events)) throw invalid('publishMany expects an array');
      const recs = events.map((e) => record(e.name, e.data, e.source));
      assertOpen();
      if (recs.length === 0) return [];
      const positions = await (telemetry.enabled()
        ? telemetry.publish(recs, system, () => transport.publish(recs))
        : transport.publish(recs));
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
        telemetry.detachGauges();
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
