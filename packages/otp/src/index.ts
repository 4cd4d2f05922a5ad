export type {
  EmailChannelOptions,
  OtpChannel,
  OtpDelivery,
  OtpEmailMessage,
  OtpEmailSender,
  OtpSmsSender,
  SmsChannelOptions,
} from './channels.js';
export { emailChannel, smsChannel } from './channels.js';
export type { OtpCodeAlphabet } from './codes.js';
export type { NormalizedDestination, OtpDestinationKind } from './destination.js';
export { normalizeDestination } from './destination.js';
export type { RateLimitReason } from './errors.js';
export { isOtpError, OtpError, OtpErrorCode, RateLimitedError } from './errors.js';
export type {
  OtpEvents,
  OtpFailedEvent,
  OtpLockedEvent,
  OtpSentEvent,
  OtpVerifiedEvent,
} from './events.js';
export { MIN_SECRET_BYTES } from './hashing.js';
export type {
  OtpChannelName,
  OtpDestinationCheck,
  OtpRateLimit,
  OtpSendInput,
  OtpSendResult,
  OtpService,
  OtpServiceOptions,
  OtpVerifyInput,
  OtpVerifyOutcome,
} from './service.js';
export { createOtpService } from './service.js';
export type * from './store.js';
