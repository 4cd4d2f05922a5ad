import type { Closeable } from '@app/core';
import { DeliveryError, DeliveryErrorCode } from './errors.js';

/**
 * One status event of one message, as a channel records it (`@app/email` from a webhook event, `@app/sms`
 * from a status callback). Statuses and their ranks are the channel's; the store only compares ranks.
 */
export interface DeliveryStatusUpdate {
  /** The provider's message id (1 to 300 characters). */
  messageId: string;
  /**
   * Unique per message (a webhook event id, or the status itself where a provider sends one callback per
   * status): a second update with the same id is a duplicate and changes nothing.
   */
  eventId: string;
  /** The channel's status name (`delivered`, `bounced`...). */
  status: string;
  /** The status's precedence: an update replaces the stored status only when its rank is higher (or equal, see `ties`). */
  rank: number;
  /** When the provider says it happened, in ms since the epoch. */
  at: number;
  /** The provider that reported it. @default undefined (the stored provider stays) */
  provider?: string | undefined;
  /**
   * Short details kept with the status when the update applies (`recipient`, `reason`, `errorCode`): merged
   * into the stored ones, a key absent here keeps its stored value. Never a message body. @default {}
   */
  details?: Readonly<Record<string, string>> | undefined;
  /**
   * What an update of the stored rank does: `replace` (e-mail: the latest of `bounced`/`dropped` wins) or
   * `keep` (SMS: the first final status wins). @default 'keep'
   */
  ties?: 'replace' | 'keep' | undefined;
}

/** One recorded event of a message, as {@link DeliveryStatusRecord.events} lists it. */
export interface DeliveryStatusEvent {
  eventId: string;
  status: string;
  /** When it happened, in ms since the epoch. */
  at: number;
  provider?: string;
  details: Record<string, string>;
}

/** What a store keeps about one message: the current status and the events that led to it. */
export interface DeliveryStatusRecord {
  messageId: string;
  status: string;
  rank: number;
  /** `at` of the update that set the current status, in ms since the epoch. */
  updatedAt: number;
  /** The provider of the latest applied update that named one. */
  provider?: string;
  /** The merged details of the applied updates. */
  details: Record<string, string>;
  /** The recorded events (applied or not), oldest first; the newest `maxEvents` where a store bounds them. */
  events: DeliveryStatusEvent[];
}

/** The answer of {@link DeliveryStatusStore.record}. */
export interface DeliveryStatusRecordResult {
  /** False when the event id was already recorded for the message (a redelivered webhook). */
  fresh: boolean;
  /** True when the update became the current status. */
  applied: boolean;
  /** The record as stored after the update. */
  record: DeliveryStatusRecord;
}

/**
 * Keeps delivery statuses: the one status-store interface of every channel (`@app/email`'s
 * `EmailStatusStore` and `@app/sms`'s `SmsStatusStore` are this type). `record` is atomic: a duplicate
 * event id is ignored, and a status only replaces one of lower rank (or equal, with `ties: 'replace'`), so
 * late or out-of-order webhooks never turn `bounced` back into `delivered`. Prove an implementation with
 * `statusStoreContract` from `@app/delivery/testing`.
 */
export interface DeliveryStatusStore extends Closeable {
  /** Records one update; answers whether it was new, whether it applied, and the record now stored. */
  record(update: DeliveryStatusUpdate): Promise<DeliveryStatusRecordResult>;
  /** The record of a message, or undefined when nothing was recorded for it. */
  get(messageId: string): Promise<DeliveryStatusRecord | undefined>;
}

/** The longest message or event id a store accepts (the SQL key columns are this wide). */
export const MAX_STATUS_ID_LENGTH = 300;

const isId = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_STATUS_ID_LENGTH;

/**
 * Rejects a malformed update (ids, status, rank, time) with `INVALID_STATUS_UPDATE` before any I/O. Every
 * status store calls it first.
 *
 * @example
 * ```ts
 * assertStatusUpdate({ messageId: 'm1', eventId: 'e1', status: 'sent', rank: 1, at: Date.now() });
 * ```
 */
export function assertStatusUpdate(update: DeliveryStatusUpdate): void {
  const bad = (what: string) =>
    new DeliveryError(DeliveryErrorCode.INVALID_STATUS_UPDATE, `a status update needs ${what}`);
  if (!isId(update?.messageId)) throw bad(`a message id of 1 to ${MAX_STATUS_ID_LENGTH} characters`);
  if (!isId(update.eventId)) throw bad(`an event id of 1 to ${MAX_STATUS_ID_LENGTH} characters`);
  if (typeof update.status !== 'string' || update.status.length === 0) throw bad('a status');
  if (!Number.isSafeInteger(update.rank)) throw bad('an integer rank');
  if (!Number.isFinite(update.at)) throw bad('a time (ms since the epoch)');
  if (update.provider !== undefined && typeof update.provider !== 'string') throw bad('a string provider');
  for (const value of Object.values(update.details ?? {})) {
    if (typeof value !== 'string') throw bad('string details');
  }
}

/**
 * Whether `update` replaces a stored status of rank `current` (undefined: nothing stored yet). The one
 * precedence rule of every store.
 *
 * @example
 * ```ts
 * replacesStatus(3, { rank: 3, ties: 'replace' }); // true
 * ```
 */
export function replacesStatus(
  current: number | undefined,
  update: Pick<DeliveryStatusUpdate, 'rank' | 'ties'>,
): boolean {
  if (current === undefined) return true;
  return update.rank > current || (update.rank === current && update.ties === 'replace');
}

/** The event a store lists for `update`. */
export function statusEventOf(update: DeliveryStatusUpdate): DeliveryStatusEvent {
  const event: DeliveryStatusEvent = {
    eventId: update.eventId,
    status: update.status,
    at: update.at,
    details: { ...update.details },
  };
  if (update.provider !== undefined) event.provider = update.provider;
  return event;
}

/** Parses the JSON form of details, as the Redis and SQL stores keep them ('{}' when empty). */
export function parseDetails(json: string | null | undefined): Record<string, string> {
  if (!json) return {};
  const value = JSON.parse(json) as unknown;
  return value && typeof value === 'object' ? (value as Record<string, string>) : {};
}

/**
 * The details of an update, from fields that may be absent: absent ones are left out (so the stored value
 * of that key stays).
 *
 * @example
 * ```ts
 * statusDetails({ recipient: event.recipient, reason: undefined }); // { recipient: 'a@example.com' }
 * ```
 */
export function statusDetails(fields: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const details: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) details[key] = value;
  return details;
}
