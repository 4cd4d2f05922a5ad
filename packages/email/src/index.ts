import type { IdempotencyStore } from '@app/delivery';

export type { IdempotencyOptions, IdempotencyStore } from '@app/delivery';
/**
 * The shared idempotency store interface of `@app/delivery`, under its former `@app/email` name.
 * @deprecated Use `IdempotencyStore`.
 */
export type EmailIdempotencyStore = IdempotencyStore;
// The failure classification is @app/delivery's, shared with @app/sms; re-exported where it always was.
export { classifyHttpStatus, isNetworkError, parseRetryAfter } from '@app/delivery';
export type { EmailErrorOptions, EmailProviderErrorOptions } from './errors.js';
export {
  EmailError,
  EmailErrorCode,
  EmailProviderError,
  isEmailError,
} from './errors.js';
export type {
  EmailProviderFactory,
  EmailService,
  EmailServiceOptions,
  SendOptions,
} from './service.js';
export { classifyEmailError, createEmailService } from './service.js';
export type { EmailEventName } from './status.js';
export { emailStatusRecord, emailStatusUpdate, recordDeliveryEvents, STATUS_PRECEDENCE } from './status.js';
export type * from './types.js';
export type { ValidationLimits } from './validation.js';
export { formatAddress, isValidEmail, parseAddress, validateBulk, validateMessage } from './validation.js';
export type { WebhookHandler, WebhookRequest, WebhookResponse } from './webhooks/http.js';
export { toFetchHandler } from './webhooks/http.js';
export type { SendgridWebhookOptions } from './webhooks/sendgrid.js';
export {
  createSendgridWebhookHandler,
  parseSendgridEvents,
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  sendgridPublicKey,
  verifySendgridSignature,
} from './webhooks/sendgrid.js';
export type {
  CertificateFetcher,
  SesWebhookOptions,
  SnsMessage,
  SnsVerifierOptions,
} from './webhooks/ses.js';
export {
  createSesWebhookHandler,
  createSnsVerifier,
  isSnsUrl,
  parseSesEvent,
  snsStringToSign,
} from './webhooks/ses.js';
