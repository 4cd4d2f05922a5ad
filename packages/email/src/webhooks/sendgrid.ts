import { createPublicKey, type KeyObject, verify } from 'node:crypto';
import type { EventSink, Logger } from '@app/core';
import { silentLogger } from '@app/core';
import { EmailError, EmailErrorCode } from '../errors.js';
import { recordDeliveryEvents } from '../status.js';
import type { DeliveryEvent, EmailStatusStore } from '../types.js';
import { bodyText, header, reply, type WebhookHandler, type WebhookRequest } from './http.js';

/** The headers SendGrid's signed Event Webhook sends. */
export const SENDGRID_SIGNATURE_HEADER = 'X-Twilio-Email-Event-Webhook-Signature';
export const SENDGRID_TIMESTAMP_HEADER = 'X-Twilio-Email-Event-Webhook-Timestamp';

const STATUS: Readonly<Record<string, DeliveryEvent['status']>> = {
  processed: 'sent',
  deferred: 'deferred',
  delivered: 'delivered',
  open: 'opened',
  click: 'clicked',
  bounce: 'bounced',
  blocked: 'bounced',
  dropped: 'dropped',
  spamreport: 'complained',
};

/**
 * Loads the verification key SendGrid shows in its settings (base64 DER, as copied) or a PEM public key.
 *
 * @example
 * ```ts
 * const key = sendgridPublicKey(process.env.SENDGRID_WEBHOOK_KEY!);
 * ```
 */
export function sendgridPublicKey(key: string | KeyObject): KeyObject {
  if (typeof key !== 'string') return key;
  try {
    if (key.includes('-----BEGIN')) return createPublicKey(key);
    return createPublicKey({ key: Buffer.from(key.trim(), 'base64'), format: 'der', type: 'spki' });
  } catch (error) {
    throw new EmailError(EmailErrorCode.INVALID_OPTIONS, 'the SendGrid webhook public key cannot be read', {
      cause: error,
    });
  }
}

/**
 * Verifies a SendGrid Event Webhook signature: ECDSA (P-256, SHA-256) over `timestamp + rawBody`.
 *
 * @example
 * ```ts
 * verifySendgridSignature({ publicKey, signature, timestamp, rawBody }); // true | false
 * ```
 */
export function verifySendgridSignature(input: {
  publicKey: string | KeyObject;
  signature: string;
  timestamp: string;
  rawBody: string | Uint8Array;
}): boolean {
  const body = typeof input.rawBody === 'string' ? Buffer.from(input.rawBody) : Buffer.from(input.rawBody);
  const payload = Buffer.concat([Buffer.from(input.timestamp), body]);
  try {
    return verify(
      'sha256',
      payload,
      { key: sendgridPublicKey(input.publicKey), dsaEncoding: 'der' },
      Buffer.from(input.signature, 'base64'),
    );
  } catch {
    return false;
  }
}

/**
 * Turns a SendGrid Event Webhook payload (an array of events) into delivery events. Events the status
 * model does not track (unsubscribe, group_resubscribe...) are skipped.
 *
 * @example
 * ```ts
 * parseSendgridEvents(JSON.parse(rawBody));
 * ```
 */
export function parseSendgridEvents(payload: unknown, provider = 'sendgrid'): DeliveryEvent[] {
  if (!Array.isArray(payload)) return [];
  const out: DeliveryEvent[] = [];
  for (const raw of payload) {
    if (typeof raw !== 'object' || raw === null) continue;
    const e = raw as Record<string, unknown>;
    const status = typeof e.event === 'string' ? STATUS[e.event] : undefined;
    const sgId = typeof e.sg_message_id === 'string' ? e.sg_message_id : undefined;
    if (!status || !sgId) continue;
    // sg_message_id is the send's X-Message-Id followed by '.filter...'; bulk sends add our index arg.
    const base = sgId.split('.')[0] as string;
    const index = e.app_email_idx;
    const messageId = typeof index === 'string' || typeof index === 'number' ? `${base}:${index}` : base;
    const seconds = typeof e.timestamp === 'number' ? e.timestamp : Number(e.timestamp);
    const event: DeliveryEvent = {
      id: typeof e.sg_event_id === 'string' ? e.sg_event_id : `${sgId}:${e.event}:${seconds}`,
      messageId,
      status,
      provider,
      timestamp: Number.isFinite(seconds) ? new Date(seconds * 1000) : new Date(),
    };
    if (typeof e.email === 'string') event.recipient = e.email;
    const reason = [e.type, e.reason ?? e.response].filter((x) => typeof x === 'string' && x).join(': ');
    if (reason) event.reason = reason.slice(0, 500);
    out.push(event);
  }
  return out;
}

/** Options of {@link createSendgridWebhookHandler}. */
export interface SendgridWebhookOptions {
  /** The verification key from SendGrid's Event Webhook settings (base64 DER or PEM). */
  publicKey: string | KeyObject;
  /** Where events are recorded (share it with the email service). */
  store: EmailStatusStore;
  /** Receives `email.delivered`, `email.bounced`... for each new event. @default undefined */
  events?: EventSink;
  /** How old (or far in the future) a signed timestamp may be, in seconds; older requests are replays. @default 300 */
  toleranceSeconds?: number;
  /** The clock, in ms. @default Date.now */
  now?: () => number;
  /** The provider name recorded with events. @default 'sendgrid' */
  provider?: string;
  /** Logs events that could not be recorded or published. @default silentLogger */
  logger?: Logger;
}

/**
 * Creates a handler for SendGrid's signed Event Webhook: verifies the signature and the timestamp window,
 * records the events, and answers 200 (401 when the signature or timestamp is wrong, 500 when the store
 * fails, so SendGrid retries).
 *
 * @example
 * ```ts
 * const handle = createSendgridWebhookHandler({ publicKey, store: email.statusStore });
 * app.post('/webhooks/sendgrid', express.raw({ type: '*\/*' }), async (req, res) => {
 *   const r = await handle({ headers: req.headers, rawBody: req.body });
 *   res.status(r.status).send(r.body);
 * });
 * ```
 */
export function createSendgridWebhookHandler(options: SendgridWebhookOptions): WebhookHandler {
  const key = sendgridPublicKey(options.publicKey);
  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now ?? Date.now;
  const logger = options.logger ?? silentLogger;
  return async (request: WebhookRequest) => {
    const signature = header(request.headers, SENDGRID_SIGNATURE_HEADER);
    const timestamp = header(request.headers, SENDGRID_TIMESTAMP_HEADER);
    if (!signature || !timestamp) return reply(401, { error: 'missing signature headers' });
    const seconds = Number(timestamp);
    if (!/^\d+$/.test(timestamp) || Math.abs(now() / 1000 - seconds) > tolerance) {
      return reply(401, { error: 'timestamp outside the accepted window' });
    }
    if (!verifySendgridSignature({ publicKey: key, signature, timestamp, rawBody: request.rawBody })) {
      return reply(401, { error: 'invalid signature' });
    }
    let payload: unknown;
    try {
      payload = JSON.parse(bodyText(request.rawBody));
    } catch {
      return reply(400, { error: 'body is not JSON' });
    }
    if (!Array.isArray(payload)) return reply(400, { error: 'expected an array of events' });
    const events = parseSendgridEvents(payload, options.provider);
    try {
      const recorded = await recordDeliveryEvents(events, {
        store: options.store,
        sink: options.events,
        logger,
      });
      return reply(200, { received: payload.length, recorded });
    } catch (error) {
      logger.error({ err: error }, 'could not record SendGrid events');
      return reply(500, { error: 'could not record events' });
    }
  };
}
