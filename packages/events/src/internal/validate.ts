import { EventsError, EventsErrorCode } from '../errors.js';

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
  if (!Number.isInteger(value) || value < 1) {
    throw new EventsError(code, `${what} must be a positive integer, got ${value}`);
  }
  return value;
}
