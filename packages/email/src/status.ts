import { type EventSink, type Logger, maskEmailAddress } from '@app/core';
import { type DeliveryStatusRecord, type DeliveryStatusUpdate, statusDetails } from '@app/delivery';
import type { DeliveryEvent, DeliveryStatus, EmailStatusStore, StatusRecord } from './types.js';

/**
 * How statuses override each other: a recorded status replaces the current one only when its precedence
 * is equal or higher. Webhooks arrive late and out of order; this keeps the most significant outcome.
 */
export const STATUS_PRECEDENCE: Readonly<Record<Exclude<DeliveryStatus, 'unknown'>, number>> = Object.freeze({
  queued: 0,
  sent: 1,
  deferred: 2,
  delivered: 3,
  opened: 4,
  clicked: 5,
  bounced: 6,
  dropped: 6,
  complained: 7,
});

type EmailStatus = Exclude<DeliveryStatus, 'unknown'>;

/**
 * The status-store update of an e-mail delivery event: ranked by {@link STATUS_PRECEDENCE}, an equal rank
 * replacing the stored one (`ties: 'replace'`), recipient and reason kept as details.
 *
 * @example
 * ```ts
 * await store.record(emailStatusUpdate({ id: 'e1', messageId: 'm1', status: 'delivered', provider: 'ses', timestamp: new Date() }));
 * ```
 */
export function emailStatusUpdate(event: DeliveryEvent): DeliveryStatusUpdate {
  const { id: eventId, messageId, status, provider } = event;
  const details = statusDetails({ recipient: event.recipient, reason: event.reason });
  const rank = STATUS_PRECEDENCE[status];
  return {
    messageId,
    eventId,
    status,
    rank,
    at: event.timestamp.getTime(),
    provider,
    details,
    ties: 'replace',
  };
}

/**
 * The e-mail view of a stored status record: the status, its provider and the {@link DeliveryEvent}s.
 *
 * @example
 * ```ts
 * const record = emailStatusRecord(await store.get(messageId));
 * ```
 */
export function emailStatusRecord(record: DeliveryStatusRecord): StatusRecord;
export function emailStatusRecord(record: DeliveryStatusRecord | undefined): StatusRecord | undefined;
export function emailStatusRecord(record: DeliveryStatusRecord | undefined): StatusRecord | undefined {
  if (!record) return undefined;
  return {
    messageId: record.messageId,
    status: record.status as EmailStatus,
    provider: record.provider ?? '',
    updatedAt: new Date(record.updatedAt),
    events: record.events.map((e) => {
      const event: DeliveryEvent = {
        id: e.eventId,
        messageId: record.messageId,
        status: e.status as EmailStatus,
        provider: e.provider ?? '',
        timestamp: new Date(e.at),
      };
      if (e.details.recipient !== undefined) event.recipient = e.details.recipient;
      if (e.details.reason !== undefined) event.reason = e.details.reason;
      return event;
    }),
  };
}

/** The event names published to an {@link EventSink}: `email.delivered`, `email.bounced`... */
export type EmailEventName = `email.${Exclude<DeliveryStatus, 'unknown'>}`;

/**
 * Records events in a status store and publishes each new one (not duplicates) to `sink` as
 * `email.<status>`. Webhook handlers and the service use it; call it yourself for a custom source.
 *
 * @example
 * ```ts
 * await recordDeliveryEvents([{ id: 'e1', messageId: 'm1', status: 'delivered', provider: 'ses', timestamp: new Date() }], { store, sink });
 * ```
 */
export async function recordDeliveryEvents(
  events: readonly DeliveryEvent[],
  target: { store: EmailStatusStore; sink?: EventSink | undefined; logger?: Logger | undefined },
): Promise<number> {
  let fresh = 0;
  for (const event of events) {
    if (!(await target.store.record(emailStatusUpdate(event))).fresh) continue;
    fresh++;
    if (!target.sink) continue;
    const data: Record<string, unknown> = {
      messageId: event.messageId,
      provider: event.provider,
      status: event.status,
      timestamp: event.timestamp.toISOString(),
    };
    // Events never carry an address in clear; the status store keeps the recipient for getStatus.
    if (event.recipient !== undefined) data.recipientMasked = maskEmailAddress(event.recipient);
    if (event.reason !== undefined) data.reason = event.reason;
    if (event.attempts !== undefined) data.attempts = event.attempts;
    if (event.failovers !== undefined) data.failovers = event.failovers;
    try {
      await target.sink.publish(`email.${event.status}`, data, '@app/email');
    } catch (error) {
      // The event is recorded; a sink outage must not make the provider redeliver it forever.
      target.logger?.error({ err: error, event: `email.${event.status}` }, 'event sink publish failed');
    }
  }
  return fresh;
}
