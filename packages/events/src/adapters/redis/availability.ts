import { EventsError, EventsErrorCode, isEventsError } from '../../errors.js';

/** ioredis states of a connection being made: the first one, or a reconnect attempt. */
const STARTING = new Set(['connecting', 'connect']);

/**
 * Where the client's connection stands: `ready` (commands are sent now; also a client without `status`, or
 * a lazy one not yet connected),
 * `starting` (a connection is being made: a command would wait in ioredis' offline queue), or `down`
 * (disconnected, waiting to reconnect, or ended).
 */
export function connectionState(client: { status?: string }): 'ready' | 'starting' | 'down' {
  const { status } = client;
  // `wait` (lazyConnect, never connected): the first command is what makes it connect.
  if (status === undefined || status === 'ready' || status === 'wait') return 'ready';
  return STARTING.has(status) ? 'starting' : 'down';
}

/**
 * Error messages of a connection that is down or dropped (ioredis, Node), or of a cluster or replica set in
 * the middle of a failover (CLUSTERDOWN, TRYAGAIN, a write reaching a demoted master: READONLY...).
 */
const CONNECTION =
  /Connection is closed|Stream isn't writeable|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|max retries per request|enableOfflineQueue|^CLUSTERDOWN|^TRYAGAIN|^LOADING|^MASTERDOWN|^READONLY|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available/i;

/** The retryable error of a publish that could not reach Redis in time. */
export function unavailable(message: string, cause?: unknown): EventsError {
  return new EventsError(EventsErrorCode.UNAVAILABLE, message, cause === undefined ? undefined : { cause });
}

/** A connection failure as `UNAVAILABLE`; any other error as it is. */
export function asUnavailable(error: unknown): unknown {
  if (isEventsError(error)) return error;
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && CONNECTION.test(message)) {
    return unavailable(`Redis is unreachable: ${message}`, error);
  }
  return error;
}

/** True for `UNAVAILABLE`: Redis was unreachable or did not answer in time; publishing again later may work. */
export function isUnavailable(error: unknown): boolean {
  return isEventsError(error, EventsErrorCode.UNAVAILABLE);
}
