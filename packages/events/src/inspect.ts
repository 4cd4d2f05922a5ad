import { EventsError, EventsErrorCode } from './errors.js';
import { assertEventName } from './pattern.js';
import type { EventTransport, GroupStats } from './types.js';

/** The bus's optional inspection methods: each present only when the transport has the capability. */
export interface BusInspection {
  streamLength?(event: string): Promise<number>;
  consumerGroups?(event: string): Promise<GroupStats[]>;
  deleteDeadLetters?(subscription: string, ids?: readonly string[]): Promise<number>;
}

const invalid = (message: string) => new EventsError(EventsErrorCode.INVALID_ARGUMENT, message);

function checkSubscription(subscription: unknown, ids: unknown): void {
  if (typeof subscription !== 'string' || subscription.length === 0) {
    throw invalid('subscription name is required');
  }
  if (ids !== undefined && (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string'))) {
    throw invalid('ids must be an array of dead-letter ids');
  }
}

/**
 * The inspection methods a bus exposes for `transport`: input checked (typed error before any I/O) and the
 * bus open, then the transport's own method. A capability the transport lacks is left out, so callers
 * feature-detect it (`if (bus.streamLength) ...`).
 *
 * @example
 * ```ts
 * const bus = { ...core, ...busInspection(transport, assertOpen) };
 * ```
 */
export function busInspection(transport: EventTransport, assertOpen: () => void): BusInspection {
  const out: BusInspection = {};
  const { streamLength, consumerGroups, deleteDeadLetters } = transport;
  if (streamLength) {
    out.streamLength = async (event) => {
      assertEventName(event);
      assertOpen();
      return streamLength.call(transport, event);
    };
  }
  if (consumerGroups) {
    out.consumerGroups = async (event) => {
      assertEventName(event);
      assertOpen();
      return consumerGroups.call(transport, event);
    };
  }
  if (deleteDeadLetters) {
    out.deleteDeadLetters = async (subscription, ids) => {
      checkSubscription(subscription, ids);
      assertOpen();
      return deleteDeadLetters.call(transport, subscription, ids);
    };
  }
  return out;
}
