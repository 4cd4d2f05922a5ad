export { createConsole } from './console.js';
export { ConsoleError, ConsoleErrorCode, isConsoleError } from './errors.js';
export type { EvaluationCounts } from './evaluations.js';
export { countEvaluations } from './evaluations.js';
export { CSRF_COOKIE, CSRF_HEADER } from './guard.js';
export { configHistory, HISTORY_PREFIX, memoryHistory } from './history.js';
export type { ConsoleErrorBody } from './http.js';
export type { NodeRequestLike } from './node.js';
export { nodeConsole, sendFetchResponse, toFetchRequest } from './node.js';
export { REDACTED, redact } from './redact.js';
export type {
  ChangeHistoryStore,
  ChangeRecord,
  ConsoleAuthorize,
  ConsoleConfig,
  ConsoleDeadLetter,
  ConsoleDeliveryChannel,
  ConsoleEvent,
  ConsoleEventBus,
  ConsoleEventsOptions,
  ConsoleFlags,
  ConsoleHandler,
  ConsoleOptions,
  ConsumerGroupInfo,
  SectionName,
} from './types.js';
export { SECTIONS } from './types.js';
