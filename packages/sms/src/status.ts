import { SmsError, SmsErrorCode } from './errors.js';
import type { SmsStatus, SmsStatusUpdate } from './types.js';

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
