export { maskPhoneNumber } from '@app/core';
export type { IdempotencyOptions, IdempotencyStore } from '@app/delivery';
export type { SmsErrorOptions } from './errors.js';
export { classifySmsError, isSmsError, SmsError, SmsErrorCode } from './errors.js';
export type { SmsEventRecipient } from './privacy.js';
export type {
  SmsProviderFactory,
  SmsService,
  SmsServiceOptions,
  SmsServiceSendOptions,
  SmsServiceSendResult,
} from './service.js';
export { createSmsService } from './service.js';
export {
  assertUpdate,
  isFinalStatus,
  isSmsStatus,
  smsStatusRecord,
  smsStatusUpdate,
  statusRank,
} from './status.js';
export type {
  SmsDeliveryStatus,
  SmsEventPayload,
  SmsEvents,
  SmsProvider,
  SmsSendOptions,
  SmsSendResult,
  SmsStatus,
  SmsStatusRecord,
  SmsStatusRecordResult,
  SmsStatusStore,
  SmsStatusUpdate,
} from './types.js';
export { SMS_STATUSES } from './types.js';
export { DEFAULT_MAX_BODY_LENGTH, E164_PATTERN, isE164, isSender, validateSms } from './validation.js';
