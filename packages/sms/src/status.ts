import { type DeliveryStatusRecord, type DeliveryStatusUpdate, statusDetails } from '@app/delivery';
import { SmsError, SmsErrorCode } from './errors.js';
import type { SmsStatus, SmsStatusRecord, SmsStatusUpdate } from './types.js';

const RANK: Readonly<Record<SmsStatus, number>> = {
  queued: 1,
  sending: 2,
  sent: 3,
  delivered: 4,
  undelivered: 4,
  failed: 4,
};

/**
 * The position of a status in a message's life: a store applies an update only when its rank is higher
 * than the stored one, so late or replayed callbacks never move a status back. The three final statuses
 * share the top rank: the first one received wins.
 *
 * @example
 * ```ts
 * statusRank('sent') < statusRank('delivered'); // true
 * ```
 */
export function statusRank(status: SmsStatus): number {
  return RANK[status];
}

/**
 * True for `delivered`, `undelivered` and `failed`.
 *
 * @example
 * ```ts
 * if (isFinalStatus((await sms.getStatus(id)).status as SmsStatus)) stopPolling();
 * ```
 */
export function isFinalStatus(status: SmsStatus): boolean {
  return RANK[status] === 4;
}

/**
 * True when `value` is one of the {@link SmsStatus} names.
 *
 * @example
 * ```ts
 * isSmsStatus('delivered'); // true
 * isSmsStatus('unknown'); // false
 * ```
 */
export function isSmsStatus(value: unknown): value is SmsStatus {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/**
 * Rejects a malformed status update (no message id, unknown status) with `INVALID_CALLBACK`, before it
 * reaches a store. Every status store calls it.
 *
 * @example
 * ```ts
 * assertUpdate({ id: 'SM1', status: 'delivered' }); // passes
 * ```
 */
export function assertUpdate(update: SmsStatusUpdate): void {
  if (typeof update?.id !== 'string' || update.id.length === 0) {
    throw new SmsError(SmsErrorCode.INVALID_CALLBACK, 'a status update needs a message id');
  }
  if (!isSmsStatus(update.status)) {
    throw new SmsError(SmsErrorCode.INVALID_CALLBACK, `unknown status '${String(update.status)}'`);
  }
}

/**
 * The status-store update of an SMS status update: ranked by {@link statusRank}, the first final status
 * kept (`ties: 'keep'`). A provider sends one callback per status, so the status is the event id: a
 * replayed callback is a duplicate. Recipient and error code are kept as details.
 *
 * @example
 * ```ts
 * await store.record(smsStatusUpdate({ id: 'SM1', status: 'delivered' }, Date.now()));
 * ```
 */
export function smsStatusUpdate(update: SmsStatusUpdate, now: number): DeliveryStatusUpdate {
  assertUpdate(update);
  const at = update.at ?? now;
  if (!Number.isFinite(at)) {
    throw new SmsError(SmsErrorCode.INVALID_CALLBACK, `invalid status time '${String(update.at)}'`);
  }
  // One callback per status: the status is the event id, so a replayed callback is a duplicate.
  const { id: messageId, status, provider } = update;
  const details = statusDetails({ to: update.to, errorCode: update.errorCode });
  return {
    messageId,
    eventId: status,
    status,
    rank: statusRank(status),
    at,
    provider,
    details,
    ties: 'keep',
  };
}

/**
 * The SMS view of a stored status record.
 *
 * @example
 * ```ts
 * const record = smsStatusRecord(await store.get('SM1'));
 * ```
 */
export function smsStatusRecord(record: DeliveryStatusRecord): SmsStatusRecord {
  const out: SmsStatusRecord = {
    id: record.messageId,
    status: record.status as SmsStatus,
    updatedAt: record.updatedAt,
  };
  if (record.provider !== undefined) out.provider = record.provider;
  if (record.details.to !== undefined) out.to = record.details.to;
  if (record.details.errorCode !== undefined) out.errorCode = record.details.errorCode;
  return out;
}
