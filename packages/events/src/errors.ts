import { AppError, type AppErrorOptions } from '@app/core';

/** Every code an {@link EventsError} can carry. */
export const EventsErrorCode = {
  /**
   * An option of a factory (`createEventBus`, a transport, the outbox or its relay) is missing or out of
   * range: a missing client, a `maxLen` below 1, a bad table name... Thrown when the factory is called.
   */
  INVALID_OPTIONS: 'INVALID_OPTIONS',
  /** An argument of a call is malformed (empty event name, `*` in a published name, concurrency below 1...). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The payload cannot be stored as JSON (a BigInt, a cycle, `undefined`). */
  INVALID_PAYLOAD: 'INVALID_PAYLOAD',
  /** The bus, transport or relay was closed. */
  CLOSED: 'CLOSED',
  /** A stored entry could not be read back (missing fields, broken JSON). */
  CORRUPT_EVENT: 'CORRUPT_EVENT',
  /**
   * The error stored in a dead letter when a delivery arrives with its attempts already used up by earlier
   * members (one stopped after its last attempt, before it could dead-letter the event).
   */
  ATTEMPTS_EXHAUSTED: 'ATTEMPTS_EXHAUSTED',
} as const;

/** One of {@link EventsErrorCode}. */
export type EventsErrorCode = (typeof EventsErrorCode)[keyof typeof EventsErrorCode];

/**
 * The error every `@app/events` API throws. Bad input is rejected with it before any I/O.
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
export class EventsError extends AppError<EventsErrorCode> {
  constructor(code: EventsErrorCode, message: string, options?: AppErrorOptions) {
    super('@app/events', code, message, options);
  }
}
