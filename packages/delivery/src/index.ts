export { DeliveryError, DeliveryErrorCode, isDeliveryError } from './errors.js';
export {
  classifyFailure,
  classifyHttpStatus,
  httpStatusOf,
  isNetworkError,
  parseRetryAfter,
} from './failures.js';
export type {
  IdempotencyErrors,
  IdempotencyOptions,
  IdempotencyRecord,
  IdempotencyReservation,
  IdempotencyStore,
  SendOnceOptions,
  SendOnceResult,
} from './idempotency.js';
export { fingerprintOf, isIdempotencyKey, sendOnce } from './idempotency.js';
export type {
  DeliveryChannel,
  DeliveryErrorFactory,
  DeliveryProviderOptions,
  DeliveryProviders,
  DeliveryRoutingCode,
} from './providers.js';
export { DELIVERY_ERROR_CODES, deliveryProviders } from './providers.js';
export type {
  DeliveryStatusEvent,
  DeliveryStatusRecord,
  DeliveryStatusRecordResult,
  DeliveryStatusStore,
  DeliveryStatusUpdate,
} from './status.js';
export { assertStatusUpdate, MAX_STATUS_ID_LENGTH, replacesStatus, statusDetails } from './status.js';
