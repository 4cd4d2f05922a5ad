export type {
  DeliveredEvent,
  DeliveryOf,
  EnvelopeOf,
  EventBus,
  EventBusOptions,
  EventEnvelope,
  EventHandler,
  EventMap,
  HistoryOptions,
  PublishedEvent,
  PublishInput,
  ReplayOptions,
  SubscribeOptions,
  Subscription,
} from './bus.js';
export { createEventBus } from './bus.js';
export { EventsError, EventsErrorCode } from './errors.js';
export type { MatchingNames, PatternTemplate } from './pattern.js';
export { compilePattern } from './pattern.js';
export type {
  DeadLetter,
  DeliveryAttempts,
  EventRecord,
  EventSelector,
  EventTransport,
  HandleOutcome,
  HistoryQuery,
  StoredEvent,
  TransportSubscribeOptions,
  TransportSubscription,
} from './types.js';
