import type { Closeable } from '@app/core';
import type { DeliveryStatusStore } from '@app/delivery';

/**
 * Where a message stands. `queued` (accepted by the provider), `sending`, `sent` (handed to the carrier),
 * then one final state: `delivered`, `undelivered` (the carrier gave up) or `failed` (never sent).
 */
export type SmsStatus = 'queued' | 'sending' | 'sent' | 'delivered' | 'undelivered' | 'failed';

/** Every {@link SmsStatus}, in the order a message moves through them. */
export const SMS_STATUSES: readonly SmsStatus[] = Object.freeze([
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
]);

/** Per-message options every provider understands. */
export interface SmsSendOptions {
  /** The sender number (E.164), overriding the provider's default. @default the provider's `from` */
  from?: string;
  /** Where the provider should post delivery status callbacks, overriding the provider's default. @default the provider's `statusCallbackUrl` */
  statusCallbackUrl?: string;
}

/** What a provider answers when it accepted a message. */
export interface SmsSendResult {
  /** The provider's message id (Twilio's `SM...` sid); `getStatus` and status callbacks use it. */
  id: string;
  /** The status the provider reported when accepting the message, usually `queued`. */
  status: SmsStatus;
  /** The name of the provider that accepted the message. */
  provider: string;
}

/**
 * One way of sending SMS. Implementations validate their input (E.164 recipient, non-empty bounded body)
 * before any I/O and throw `SmsError`s whose codes say whether a retry or another provider could help.
 * Prove an implementation with `smsProviderContract` from `@app/sms/testing`. Providers are {@link Closeable}:
 * `close()` (and `await using`) frees the sockets a provider created itself, never a client you passed in.
 *
 * @example
 * ```ts
 * const provider: SmsProvider = twilioProvider({ accountSid, authToken, from: '+14155550100' });
 * const { id } = await provider.send('+14155550123', 'Hello');
 * ```
 */
export interface SmsProvider extends Closeable {
  /** A short name for logs and results, e.g. `twilio`. */
  readonly name: string;
  /** Sends one message. Resolves once the provider accepted it (not once it was delivered). */
  send(to: string, body: string, options?: SmsSendOptions): Promise<SmsSendResult>;
}

/** A delivery status update, from a provider's callback or from the send itself. */
export interface SmsStatusUpdate {
  /** The provider's message id. */
  id: string;
  status: SmsStatus;
  /** The provider that sent the message. */
  provider?: string;
  /** The recipient in clear: only with `eventRecipient: 'clear'`. */
  to?: string;
  /** The recipient masked (`+14*******23`): the default. */
  toMasked?: string;
  /** HMAC-SHA256 of the recipient under your key (hex): with `eventRecipient: { hashKey }`. */
  toHash?: string;
  /** The provider's error code for `undelivered`/`failed` (Twilio's `ErrorCode`, e.g. `30003`). */
  errorCode?: string;
  /** When the provider reported it, in ms since the epoch. @default Date.now() */
  at?: number;
}

/** What the service knows about one message. */
export interface SmsStatusRecord {
  id: string;
  status: SmsStatus;
  provider?: string;
  to?: string;
  errorCode?: string;
  /** When the current status was recorded, in ms since the epoch. */
  updatedAt: number;
}

/** What `getStatus` answers: the stored record, or `unknown` when nothing was sent or received for that id. */
export type SmsDeliveryStatus = SmsStatusRecord | { id: string; status: 'unknown' };

/** The result of recording a status update. */
export interface SmsStatusRecordResult {
  /** False when the update was a duplicate or older than what is stored (a status never moves back). */
  applied: boolean;
  /** The record as stored after the update. */
  record: SmsStatusRecord;
}

/**
 * Where delivery statuses are kept: `@app/delivery`'s one status-store interface ({@link DeliveryStatusStore}),
 * shared with `@app/email`. Recording is one atomic step: a status only moves forward
 * (queued -> sending -> sent -> final; the first final status wins), and a duplicate or late callback is
 * not applied. The service translates {@link SmsStatusUpdate}s to its updates (`smsStatusUpdate`). Prove an
 * implementation with `statusStoreContract` from `@app/sms/testing` (or `@app/delivery/testing`).
 */
export type SmsStatusStore = DeliveryStatusStore;

/** What every `sms.*` event carries (the service publishes one per applied status change). */
export interface SmsEventPayload {
  /** The provider's message id. */
  id: string;
  status: SmsStatus;
  /** When the status was recorded, in ms since the epoch. */
  at: number;
  provider?: string;
  /** The recipient in clear: only with `eventRecipient: 'clear'`. */
  to?: string;
  /** The recipient masked (`+14*******23`): the default. */
  toMasked?: string;
  /** HMAC-SHA256 of the recipient under your key (hex): with `eventRecipient: { hashKey }`. */
  toHash?: string;
  /** The provider's error code for `undelivered`/`failed`. */
  errorCode?: string;
  /** On the service's own first status of a send: provider attempts it took, retries included. */
  attempts?: number;
  /** On the service's own first status of a send: providers given up on before the one that took it. */
  failovers?: number;
}

/**
 * The event map of `@app/sms`: each event name the service publishes to its `events` sink, with its payload
 * (`sms.queued`, `sms.sent`, `sms.delivered`, `sms.undelivered`, `sms.failed`...).
 */
export type SmsEvents = { [S in SmsStatus as `sms.${S}`]: SmsEventPayload };
