import { optionChecks } from '@app/core';
import { EventsError, EventsErrorCode } from '../errors.js';

/** The core option checks, throwing {@link EventsErrorCode.INVALID_OPTIONS}: for factory options. */
export const optionCheck = optionChecks((m) => new EventsError(EventsErrorCode.INVALID_OPTIONS, m));
/** The core option checks, throwing {@link EventsErrorCode.INVALID_ARGUMENT}: for a call's arguments. */
export const argumentCheck = optionChecks((m) => new EventsError(EventsErrorCode.INVALID_ARGUMENT, m));

/**
 * A positive integer, or `fallback` when `value` is undefined. A bad value is an {@link EventsError}: by
 * default {@link EventsErrorCode.INVALID_OPTIONS} (a factory option); callers checking a call's arguments pass
 * {@link EventsErrorCode.INVALID_ARGUMENT}.
 */
export function positiveInt(
  value: number | undefined,
  fallback: number,
  what: string,
  code: EventsErrorCode = EventsErrorCode.INVALID_OPTIONS,
): number {
  if (value === undefined) return fallback;
  return (code === EventsErrorCode.INVALID_ARGUMENT ? argumentCheck : optionCheck).positiveInt(what, value);
}
