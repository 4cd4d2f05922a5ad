import { computeBackoff, type Logger, type RetryPolicy, sleep } from '@app/core';
import type { DeliveredEvent, EventEnvelope, EventHandler } from './bus-types.js';
import { EventsError, EventsErrorCode } from './errors.js';
import type { ConsumerInfo, EventsTelemetry } from './telemetry.js';
import type { DeliveryAttempts, HandleOutcome, StoredEvent } from './types.js';

/**
 * A stored event as the envelope handlers and readers see: the payload parsed from JSON.
 * @internal
 */
export function toEnvelope<K extends string, D>(stored: StoredEvent): EventEnvelope<K, D> {
  let data: D;
  try {
    data = JSON.parse(stored.payload) as D;
  } catch (cause) {
    throw new EventsError(
      EventsErrorCode.CORRUPT_EVENT,
      `event ${stored.id} (${stored.name}) holds invalid JSON`,
      { cause },
    );
  }
  return {
    id: stored.id,
    name: stored.name as K,
    data,
    timestamp: stored.timestamp,
    position: stored.position,
    ...(stored.source === undefined ? {} : { source: stored.source }),
  };
}

/** What {@link runHandler} needs besides the event. @internal */
export interface HandlerRun {
  handler: EventHandler<DeliveredEvent>;
  policy: RetryPolicy;
  /** Aborted when the subscription closes: a backoff in progress ends and the delivery is abandoned. */
  signal: AbortSignal;
  /** The subscription's name, for the log. */
  subscription: string;
  logger: Logger;
  /** Spans and metrics of each attempt (checked with one call when nobody listens). */
  telemetry: EventsTelemetry;
  /** What the consumer spans and metrics say about the subscription. */
  consumer: ConsumerInfo;
}

/**
 * Runs a handler on one delivery with the retry policy: backoff between attempts, the attempt count carried
 * by the transport for durable deliveries (so it survives a member stopping), and the verdict the transport
 * acts on. Never rejects.
 * @internal
 */
export async function runHandler(
  run: HandlerRun,
  stored: StoredEvent,
  attempts: DeliveryAttempts | undefined,
): Promise<HandleOutcome> {
  const { handler, policy, signal, logger, telemetry } = run;
  let envelope: EventEnvelope;
  try {
    envelope = toEnvelope(stored);
  } catch (error) {
    telemetry.deadLetterWithoutAttempt(stored, run.consumer, error);
    logger.error(
      { err: error, subscription: run.subscription, eventId: stored.id },
      'event cannot be parsed: dead-lettered',
    );
    return { status: 'failed', error, attempts: 0 };
  }
  const context = { subscription: run.subscription, event: stored.name, eventId: stored.id };
  let attempt = attempts?.first ?? 1;
  let lastError: unknown = new EventsError(
    EventsErrorCode.ATTEMPTS_EXHAUSTED,
    `event ${stored.id} (${stored.name}) used up its ${policy.maxAttempts} attempts before this delivery`,
  );
  for (;;) {
    if (attempt > policy.maxAttempts) {
      // Earlier members used the attempts up and stopped before they could dead-letter the event.
      telemetry.deadLetterWithoutAttempt(stored, run.consumer, lastError);
      logger.error(
        { ...context, err: lastError, attempts: attempt - 1 },
        'handler failed on every attempt: dead-lettered',
      );
      return { status: 'failed', error: lastError, attempts: attempt - 1 };
    }
    try {
      if (telemetry.enabled()) {
        const delivered: DeliveredEvent = { ...envelope, attempt };
        await telemetry.attempt(stored, run.consumer, attempt, () => handler(delivered));
      } else await handler({ ...envelope, attempt });
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
