import type { Closeable } from '@app/core';
import type { DeliveryStatusStore } from '@app/delivery';

/** An address: `'ada@example.com'`, `'Ada Lovelace <ada@example.com>'` or `{ email, name }`. */
export type EmailAddressInput = string | { email: string; name?: string };

/** A parsed address. */
export interface EmailAddress {
  email: string;
  name?: string;
}

/** A file sent with a message. */
export interface EmailAttachment {
  /** The name shown to the recipient; no path separators. */
  filename: string;
  /** The bytes, or a string (sent as UTF-8). */
  content: string | Uint8Array;
  /** MIME type. @default 'application/octet-stream' */
  contentType?: string;
  /** `inline` (referenced by `contentId` from the HTML) or `attachment`. @default 'attachment' */
  disposition?: 'attachment' | 'inline';
  /** The `cid:` an inline attachment is referenced by. */
  contentId?: string;
}

/** A provider-side template (SES template name, SendGrid dynamic template id) and its data. */
export interface EmailTemplateRef {
  /** The provider's template id or name. */
  id: string;
  /** Values substituted into the template. */
  data?: Record<string, unknown>;
}

/**
 * One email. `subject` and content (`html` and/or `text`) are required unless `template` is given.
 * The minimal shape `{ to, subject, text }` is enough: `from` falls back to the service's `defaultFrom`.
 */
export interface EmailMessage {
  to: EmailAddressInput | readonly EmailAddressInput[];
  /** The sender. @default the service's `defaultFrom` */
  from?: EmailAddressInput;
  cc?: EmailAddressInput | readonly EmailAddressInput[];
  bcc?: EmailAddressInput | readonly EmailAddressInput[];
  replyTo?: EmailAddressInput | readonly EmailAddressInput[];
  subject?: string;
  text?: string;
  html?: string;
  attachments?: readonly EmailAttachment[];
  /** Extra MIME headers (`X-Campaign: spring`). No CR/LF in names or values. */
  headers?: Readonly<Record<string, string>>;
  /** Key/value labels: SES message tags, SendGrid custom args. Letters, digits, `_` and `-` only. */
  tags?: Readonly<Record<string, string>>;
  /** A provider template used instead of subject/html/text. */
  template?: EmailTemplateRef;
}

/** An {@link EmailMessage} after validation: addresses parsed, `from` resolved, lists normalised. */
export interface NormalizedEmail {
  to: EmailAddress[];
  from: EmailAddress;
  cc: EmailAddress[];
  bcc: EmailAddress[];
  replyTo: EmailAddress[];
  subject?: string;
  text?: string;
  html?: string;
  attachments: EmailAttachment[];
  headers: Record<string, string>;
  tags: Record<string, string>;
  template?: EmailTemplateRef;
}

/** One recipient of a bulk send. */
export interface BulkRecipient {
  to: EmailAddressInput | readonly EmailAddressInput[];
  /** Template data for this recipient, merged over the shared `template.data`. */
  data?: Record<string, unknown>;
}

/**
 * The same content to many recipients, each receiving their own copy (recipients never see each other).
 * Batched natively: SendGrid personalizations (1,000 per request), SES SendBulkEmail (50 per call).
 */
export interface BulkEmail extends Omit<EmailMessage, 'to' | 'cc' | 'bcc'> {
  recipients: readonly BulkRecipient[];
}

/** A {@link BulkEmail} chunk handed to a provider: at most its `maxBulkSize` recipients. */
export interface NormalizedBulk extends Omit<NormalizedEmail, 'to' | 'cc' | 'bcc'> {
  recipients: Array<{ to: EmailAddress[]; data?: Record<string, unknown> }>;
}

/**
 * Where a message stands. `queued`/`sent` come from the send itself; the others from provider webhooks.
 * `unknown` means nothing was ever recorded for the id.
 */
export type DeliveryStatus =
  | 'unknown'
  | 'queued'
  | 'sent'
  | 'deferred'
  | 'delivered'
  | 'opened'
  | 'clicked'
  | 'bounced'
  | 'dropped'
  | 'complained';

/** What a provider answers for one accepted message. */
export interface ProviderSendResult {
  /** The provider's message id (SES MessageId, SendGrid X-Message-Id). */
  id: string;
  /** `queued` when the provider accepted it for later sending, `sent` when it reports it sent. */
  status: 'queued' | 'sent';
}

/** The outcome for one recipient of a bulk batch. */
export type BulkItemResult =
  | { ok: true; id: string; status: 'queued' | 'sent' }
  | { ok: false; error: Error };

/** What {@link EmailService.send} resolves to. */
export interface SendResult extends ProviderSendResult {
  /** The provider that accepted the message. */
  provider: string;
  /** Attempts made across retries and failover (1 when the first try worked). */
  attempts: number;
  /** Providers given up on before the one that accepted it (0 when the first provider did). */
  failovers: number;
  /** True when an earlier call with the same idempotency key already sent it: nothing was sent now. */
  duplicate?: boolean;
}

/** One recipient's outcome in {@link EmailService.sendBulk}. */
export type BulkSendItem =
  | { index: number; to: string[]; ok: true; id: string; status: 'queued' | 'sent'; provider: string }
  | { index: number; to: string[]; ok: false; error: Error };

/** What {@link EmailService.sendBulk} resolves to: one item per input message or recipient, in order. */
export interface BulkSendResult {
  items: BulkSendItem[];
  sent: number;
  failed: number;
}

/** Options of one provider call. */
export interface ProviderCallOptions {
  /** Cancels the call where the provider supports it (SES aborts the request). @default undefined */
  signal?: AbortSignal;
}

/**
 * The contract every email provider implements (`sesProvider`, `sendgridProvider`, `memoryEmailProvider` or
 * your own). Providers throw {@link EmailProviderError} with a `kind` so that the service knows whether
 * to retry, fail over, or give up. Providers are {@link Closeable}: `close()` (and `await using`) frees the
 * connections a provider created itself (its SDK client, HTTP agents), never a client you passed in.
 */
export interface EmailProvider extends Closeable {
  /** A short name used in results and logs (`ses`, `sendgrid`, `memory`). */
  readonly name: string;
  /** The largest batch `sendBulk` accepts. Absent when the provider has no native batching. */
  readonly maxBulkSize?: number;
  /** Sends one validated message. */
  send(message: NormalizedEmail, options?: ProviderCallOptions): Promise<ProviderSendResult>;
  /**
   * Sends one batch (at most `maxBulkSize` recipients) in as few API calls as the API allows, and answers
   * one result per recipient, in order. Throws when the batch as a whole failed (nothing was sent).
   */
  sendBulk?(batch: NormalizedBulk, options?: ProviderCallOptions): Promise<BulkItemResult[]>;
  /** Asks the provider for a status, for providers that keep one (memory). */
  getStatus?(messageId: string): Promise<DeliveryStatus>;
}

/** A delivery event from a provider webhook (or from the send itself). */
export interface DeliveryEvent {
  /** Unique per event (SendGrid `sg_event_id`, SNS `MessageId`): duplicates are ignored. */
  id: string;
  /** The message id the send returned. */
  messageId: string;
  status: Exclude<DeliveryStatus, 'unknown'>;
  provider: string;
  /** When the provider says it happened. */
  timestamp: Date;
  /** The recipient concerned, when known. */
  recipient?: string;
  /** A short reason (bounce type, SMTP response), never message content. */
  reason?: string;
  /** For the service's own `queued`/`sent` event: provider attempts the send took, retries included. */
  attempts?: number;
  /** For the service's own `queued`/`sent` event: providers given up on before the one that took it. */
  failovers?: number;
}

/** The status of one message and the events that led to it. */
export interface StatusRecord {
  messageId: string;
  status: Exclude<DeliveryStatus, 'unknown'>;
  provider: string;
  updatedAt: Date;
  /** Every recorded event, oldest first. */
  events: DeliveryEvent[];
}

/**
 * Keeps delivery events and the resulting status: `@app/delivery`'s one status-store interface
 * ({@link DeliveryStatusStore}), shared with `@app/sms`. `record` is atomic: a duplicate event id is ignored,
 * and a status only replaces one of equal or lower precedence (see {@link STATUS_PRECEDENCE}; e-mail
 * records with `ties: 'replace'`), so late or out-of-order webhooks never turn `bounced` back into
 * `delivered`. The service and the webhook handlers translate {@link DeliveryEvent}s to its updates.
 */
export type EmailStatusStore = DeliveryStatusStore;

/** What every `email.*` event carries (published once per new delivery event). */
export interface EmailEventPayload {
  /** The message id the send returned. */
  messageId: string;
  provider: string;
  status: Exclude<DeliveryStatus, 'unknown'>;
  /** When the provider says it happened, ISO 8601. */
  timestamp: string;
  /** The recipient concerned, masked (`a***@example.com`), when known: events never carry an address in clear. */
  recipientMasked?: string;
  /** A short reason (bounce type, SMTP response), never message content. */
  reason?: string;
  /** On `email.queued`/`email.sent` from the service: provider attempts the send took, retries included. */
  attempts?: number;
  /** On `email.queued`/`email.sent` from the service: providers given up on before the one that took it. */
  failovers?: number;
}

/**
 * The event map of `@app/email`: each event name the service and the webhook handlers publish to an event
 * sink (`email.queued`, `email.sent`, `email.delivered`, `email.bounced`...), with its payload.
 */
export type EmailEvents = { [S in Exclude<DeliveryStatus, 'unknown'> as `email.${S}`]: EmailEventPayload };
