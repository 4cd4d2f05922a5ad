export { createEventBus } from './bus.js';
export type * from './bus-types.js';
export { EventsError, EventsErrorCode, isEventsError } from './errors.js';
export type { MatchingNames, PatternTemplate } from './pattern.js';
export { compilePattern } from './pattern.js';
export type {
  DeadLetter,
  DeliveryAttempts,
  EventMap,
  EventRecord,
  EventSelector,
  EventTransport,
  GroupStats,
  HandleOutcome,
  HistoryQuery,
  PublishInput,
  StoredEvent,
  TransportSubscribeOptions,
  TransportSubscription,
} from './types.js';
