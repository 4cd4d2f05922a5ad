import { createPublicKey, type KeyObject, verify, X509Certificate } from 'node:crypto';
import type { EventSink, Logger } from '@app/core';
import { silentLogger } from '@app/core';
import { EmailError, EmailErrorCode } from '../errors.js';
import { recordDeliveryEvents } from '../status.js';
import type { DeliveryEvent, EmailStatusStore } from '../types.js';
import { bodyText, reply, type WebhookHandler, type WebhookRequest } from './http.js';

/** An Amazon SNS HTTP(S) message, as POSTed to a subscribed endpoint. */
export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '1' | '2';
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  Token?: string;
  SubscribeURL?: string;
}

/** Downloads a signing certificate (PEM). Injected in tests; defaults to `fetch`. */
export type CertificateFetcher = (url: string) => Promise<string>;

// The middle label must be a region name (`us-east-1`, `us-gov-west-1`, `cn-north-1`...): a looser
// `[a-z0-9-]+` also accepts hosts AWS customers control, such as the S3 bucket `sns` at
// `sns.s3.amazonaws.com` or `sns.s3-external-1.amazonaws.com`, where anyone could serve their own key.
const SNS_HOST = /^sns\.[a-z]{2}(?:-[a-z]+)+-\d+\.amazonaws\.com(?:\.cn)?$/;

/**
 * Tells whether `url` is an https URL on an SNS host (`sns.<region>.amazonaws.com`). Signing certificates
 * and subscription URLs from anywhere else are refused: otherwise anyone could sign with their own key.
 * A certificate URL (`pem: true`) must also be a plain `.pem` path: no credentials, query or fragment.
 *
 * @example
 * ```ts
 * isSnsUrl('https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem'); // true
 * ```
 */
export function isSnsUrl(url: string, options: { pem?: boolean } = {}): boolean {
  try {
    const u = new URL(url);
    if (u.protocol !== 'https:' || !SNS_HOST.test(u.hostname) || u.port !== '') return false;
    if (u.username !== '' || u.password !== '') return false;
    // Every distinct certificate URL is downloaded and cached: `?n=1`, `?n=2`... must not each count.
    return !options.pem || (u.pathname.endsWith('.pem') && u.search === '' && u.hash === '');
  } catch {
    return false;
  }
}

/**
 * The canonical string SNS signs, per message type (`Key\nValue\n` for each signed field, in order).
 *
 * @example
 * ```ts
 * verify('sha256', Buffer.from(snsStringToSign(message)), certKey, Buffer.from(message.Signature, 'base64'));
 * ```
 */
export function snsStringToSign(m: SnsMessage): string {
  const fields =
    m.Type === 'Notification'
      ? (['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const)
      : (['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'] as const);
  let out = '';
  for (const f of fields) {
    const v = m[f];
    if (v === undefined || v === null) continue;
    out += `${f}\n${v}\n`;
  }
  return out;
}

function keyFromPem(pem: string): KeyObject {
  return pem.includes('BEGIN CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);
}

const defaultFetcher: CertificateFetcher = async (url) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`certificate download failed: HTTP ${res.status}`);
  return res.text();
};

/** Options of {@link createSnsVerifier}. */
export interface SnsVerifierOptions {
  /** Downloads the signing certificate. @default fetch (5 s timeout), cached per URL */
  fetchCertificate?: CertificateFetcher;
}

/**
 * Creates a verifier of SNS message signatures (SignatureVersion 1: SHA1withRSA, 2: SHA256withRSA), with
 * the certificate downloaded from `SigningCertURL` after checking the host, and cached.
 *
 * @example
 * ```ts
 * const verifySns = createSnsVerifier();
 * if (!(await verifySns(JSON.parse(body)))) return res.status(401).end();
 * ```
 */
export function createSnsVerifier(
  options: SnsVerifierOptions = {},
): (message: SnsMessage) => Promise<boolean> {
  const fetchCertificate = options.fetchCertificate ?? defaultFetcher;
  const keys = new Map<string, Promise<KeyObject>>();
  return async (m) => {
    if (typeof m?.Signature !== 'string' || typeof m.SigningCertURL !== 'string') return false;
    if (!isSnsUrl(m.SigningCertURL, { pem: true })) return false;
    const algorithm = m.SignatureVersion === '1' ? 'sha1' : m.SignatureVersion === '2' ? 'sha256' : undefined;
    if (!algorithm) return false;
    let key = keys.get(m.SigningCertURL);
    if (!key) {
      key = fetchCertificate(m.SigningCertURL).then(keyFromPem);
      keys.set(m.SigningCertURL, key);
      // A failed download is not cached: the next message tries again.
      key.catch(() => keys.delete(m.SigningCertURL));
    }
    try {
      return verify(
        algorithm,
        Buffer.from(snsStringToSign(m)),
        await key,
        Buffer.from(m.Signature, 'base64'),
      );
    } catch {
      return false;
    }
  };
}

const SES_STATUS: Readonly<Record<string, DeliveryEvent['status']>> = {
  Send: 'sent',
  Delivery: 'delivered',
  Bounce: 'bounced',
  Complaint: 'complained',
  Reject: 'dropped',
  'Rendering Failure': 'dropped',
  DeliveryDelay: 'deferred',
  Open: 'opened',
  Click: 'clicked',
};

type SesNotification = {
  eventType?: string;
  notificationType?: string;
  mail?: { messageId?: string; destination?: string[]; timestamp?: string };
  bounce?: {
    bounceType?: string;
    bounceSubType?: string;
    bouncedRecipients?: Array<{ emailAddress?: string }>;
    timestamp?: string;
  };
  complaint?: {
    complainedRecipients?: Array<{ emailAddress?: string }>;
    complaintFeedbackType?: string;
    timestamp?: string;
  };
  delivery?: { recipients?: string[]; timestamp?: string };
  deliveryDelay?: {
    delayType?: string;
    delayedRecipients?: Array<{ emailAddress?: string }>;
    timestamp?: string;
  };
  open?: { timestamp?: string };
  click?: { timestamp?: string };
  reject?: { reason?: string };
  failure?: { errorMessage?: string };
};

/**
 * Turns one SES event notification (the `Message` of an SNS notification, from a configuration set event
 * destination or identity notifications) into a delivery event; undefined for untracked types.
 *
 * @example
 * ```ts
 * parseSesEvent(JSON.parse(sns.Message), sns.MessageId);
 * ```
 */
export function parseSesEvent(
  message: unknown,
  eventId: string,
  provider = 'ses',
): DeliveryEvent | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const n = message as SesNotification;
  const type = n.eventType ?? n.notificationType ?? '';
  const status = SES_STATUS[type];
  const messageId = n.mail?.messageId;
  if (!status || !messageId) return undefined;
  const detail = n.bounce ?? n.complaint ?? n.delivery ?? n.deliveryDelay ?? n.open ?? n.click;
  const at = Date.parse(detail?.timestamp ?? n.mail?.timestamp ?? '');
  const recipient =
    n.bounce?.bouncedRecipients?.[0]?.emailAddress ??
    n.complaint?.complainedRecipients?.[0]?.emailAddress ??
    n.deliveryDelay?.delayedRecipients?.[0]?.emailAddress ??
    n.delivery?.recipients?.[0] ??
    n.mail?.destination?.[0];
  const reason = n.bounce
    ? [n.bounce.bounceType, n.bounce.bounceSubType].filter(Boolean).join('/')
    : (n.complaint?.complaintFeedbackType ??
      n.deliveryDelay?.delayType ??
      n.reject?.reason ??
      n.failure?.errorMessage);
  const event: DeliveryEvent = {
    id: eventId,
    messageId,
    status,
    provider,
    timestamp: Number.isNaN(at) ? new Date() : new Date(at),
  };
  if (recipient) event.recipient = recipient;
  if (reason) event.reason = reason.slice(0, 500);
  return event;
}

/** Options of {@link createSesWebhookHandler}. */
export interface SesWebhookOptions {
  /** Where events are recorded (share it with the email service). */
  store: EmailStatusStore;
  /** Receives `email.delivered`, `email.bounced`... for each new event. @default undefined */
  events?: EventSink;
  /**
   * The topics accepted (required). A valid SNS signature only proves that the message came from SNS, for
   * some topic: anyone can create a topic and replay what SNS signed for it, so the topic must be checked.
   * Subscription confirmations of other topics are refused too.
   */
  topicArns: readonly string[];
  /** Downloads SNS signing certificates. @default fetch, cached per URL */
  fetchCertificate?: CertificateFetcher;
  /** Visits the SubscribeURL of a SubscriptionConfirmation. @default a GET with fetch */
  confirmSubscription?: (subscribeUrl: string) => Promise<void>;
  /** Confirms subscriptions automatically (after verifying them). @default true */
  autoConfirm?: boolean;
  /** Messages older than this (by their signed Timestamp) are refused as replays, in ms. @default 3600000 (1 h) */
  maxAgeMs?: number;
  /** The clock, in ms. @default Date.now */
  now?: () => number;
  /** The provider name recorded with events. @default 'ses' */
  provider?: string;
  /** Logs subscription confirmations and events that could not be recorded or published. @default silentLogger */
  logger?: Logger;
}

const defaultConfirm = async (url: string) => {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`subscription confirmation failed: HTTP ${res.status}`);
};

/**
 * Creates a handler for SES events delivered by SNS: verifies the SNS signature (certificate host
 * checked), refuses stale timestamps and unknown topics, confirms subscriptions, and records events.
 *
 * @example
 * ```ts
 * const handle = createSesWebhookHandler({ store: email.statusStore, topicArns: [process.env.SES_TOPIC_ARN!] });
 * const { status, body } = await handle({ headers: req.headers, rawBody });
 * ```
 */
export function createSesWebhookHandler(options: SesWebhookOptions): WebhookHandler {
  const topics = options?.topicArns;
  if (
    !Array.isArray(topics) ||
    topics.length === 0 ||
    topics.some((t) => typeof t !== 'string' || t.length === 0)
  ) {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      "createSesWebhookHandler needs 'topicArns' (the ARNs of your SES event topics): an SNS signature alone " +
        "only proves that some topic, possibly someone else's, sent the message",
    );
  }
  const verifySns = createSnsVerifier({ fetchCertificate: options.fetchCertificate });
  const confirm = options.confirmSubscription ?? defaultConfirm;
  const maxAge = options.maxAgeMs ?? 3_600_000;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  return async (request: WebhookRequest) => {
    let m: SnsMessage;
    try {
      m = JSON.parse(bodyText(request.rawBody)) as SnsMessage;
    } catch {
      return reply(400, { error: 'body is not JSON' });
    }
    if (
      typeof m !== 'object' ||
      m === null ||
      typeof m.Type !== 'string' ||
      typeof m.MessageId !== 'string'
    ) {
      return reply(400, { error: 'not an SNS message' });
    }
    if (!topics.includes(m.TopicArn)) return reply(403, { error: 'unknown topic' });
    const sentAt = Date.parse(m.Timestamp);
    if (Number.isNaN(sentAt) || now() - sentAt > maxAge || sentAt - now() > 300_000) {
      return reply(401, { error: 'timestamp outside the accepted window' });
    }
    if (!(await verifySns(m))) return reply(401, { error: 'invalid signature' });

    if (m.Type === 'SubscriptionConfirmation') {
      if (options.autoConfirm === false) return reply(200, { subscription: 'pending' });
      if (!m.SubscribeURL || !isSnsUrl(m.SubscribeURL))
        return reply(400, { error: 'SubscribeURL is not an SNS URL' });
      try {
        await confirm(m.SubscribeURL);
      } catch (error) {
        logger.error({ err: error, topic: m.TopicArn }, 'SNS subscription confirmation failed');
        return reply(502, { error: 'confirmation failed' });
      }
      logger.info({ topic: m.TopicArn }, 'SNS subscription confirmed');
      return reply(200, { subscription: 'confirmed' });
    }
    if (m.Type !== 'Notification') return reply(200, { ignored: m.Type });

    let inner: unknown;
    try {
      inner = JSON.parse(m.Message);
    } catch {
      return reply(200, { ignored: 'message is not an SES event' });
    }
    const event = parseSesEvent(inner, m.MessageId, options.provider);
    try {
      const recorded = event
        ? await recordDeliveryEvents([event], { store: options.store, sink: options.events, logger })
        : 0;
      return reply(200, { recorded });
    } catch (error) {
      logger.error({ err: error }, 'could not record an SES event');
      return reply(500, { error: 'could not record the event' });
    }
  };
}
