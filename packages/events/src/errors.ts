import { type AppErrorOptions, defineErrors } from '@app/core';
import { EVENTS_ERROR_CODES } from './error-codes.js';

/**
 * Every code an {@link EventsError} can carry:
 *
 * - `INVALID_OPTIONS`: an option of a factory (`createEventBus`, a transport, the outbox or its relay) is
 *   missing or out of range: a missing client, a `maxLen` below 1, a bad table name... Thrown when the
 *   factory is called.
 * - `INVALID_ARGUMENT`: an argument of a call is malformed (empty event name, `*` in a published name,
 *   concurrency below 1...).
 * - `INVALID_PAYLOAD`: the payload cannot be stored as JSON (a BigInt, a cycle, `undefined`).
 * - `CLOSED`: the bus, transport or relay was closed.
 * - `CORRUPT_EVENT`: a stored entry could not be read back (missing fields, broken JSON).
 * - `ATTEMPTS_EXHAUSTED`: the error stored in a dead letter when a delivery arrives with its attempts already
 *   used up by earlier members (one stopped after its last attempt, before it could dead-letter the event).
 * - `UNAVAILABLE`: the transport's backend (Redis) was unreachable or did not answer within the bound
 *   (`publishTimeoutMs`), or the outage buffer is full. Retryable: `error.retryable` is `true`.
 * - `NOT_REPLICATED`: with the Redis transport's `durability` on, fewer replicas than asked acknowledged a
 *   publish within `durability.timeoutMs`. The event is on the master (it may be lost if the master dies
 *   before replicating it); publishing again is safe for at-least-once consumers. Retryable.
 */
const errors = defineErrors('@app/events', EVENTS_ERROR_CODES);

/** Every code an {@link EventsError} can carry (see the list above {@link EventsError}). */
export const EventsErrorCode = errors.codes;
/** One of {@link EventsErrorCode}. */
export type EventsErrorCode = keyof typeof EventsErrorCode;

/**
 * The error every `@app/events` API throws, with a `code` from {@link EventsErrorCode}. Bad input is rejected
 * with it before any I/O.
 *
 * @example
 * ```ts
 * try {
 *   await bus.publish('user.*', {});
 * } catch (err) {
 *   if (err instanceof EventsError && err.code === EventsErrorCode.INVALID_ARGUMENT) console.error(err.message);
 * }
 * ```
 */
export class EventsError extends errors.Base {
  /**
   * Whether trying again later may succeed: `true` for `UNAVAILABLE` (Redis unreachable or slow) and
   * `NOT_REPLICATED` (the replicas did not acknowledge in time).
   */
  readonly retryable: boolean;

  constructor(code: EventsErrorCode, message: string, options?: AppErrorOptions) {
    super(code, message, options);
    this.retryable = code === 'UNAVAILABLE' || code === 'NOT_REPLICATED';
  }
}

/**
 * True when `value` is an {@link EventsError} (from any installed copy of `@app/events`), optionally of one
 * code. Prefer it to `instanceof`, which fails across duplicate installs.
 *
 * @example
 * ```ts
 * if (isEventsError(err, 'CLOSED')) return; // shutting down
 * ```
 */
export const isEventsError = errors.isOf(EventsError);
