import { closeable } from '@app/core';
import { assertUpdate, statusRank } from '../status.js';
import type { SmsStatusRecord, SmsStatusRecordResult, SmsStatusStore, SmsStatusUpdate } from '../types.js';

/** Options of {@link memorySmsStatusStore}. */
export interface MemorySmsStatusStoreOptions {
  /** Records kept at most; the oldest are dropped first. @default 10000 */
  maxEntries?: number;
  /** The clock, in ms since the epoch (inject one in tests). @default Date.now */
  now?: () => number;
}

/**
 * A delivery status store in process memory, bounded to `maxEntries` records. The service's default.
 *
 * @example
 * ```ts
 * const sms = createSmsService({ providers, statusStore: memorySmsStatusStore({ maxEntries: 1000 }) });
 * ```
 */
export function memorySmsStatusStore(options: MemorySmsStatusStoreOptions = {}): SmsStatusStore {
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const records = new Map<string, SmsStatusRecord>();

  return closeable({
    async get(id: string) {
      const record = records.get(id);
      return record ? { ...record } : undefined;
    },
    async record(update: SmsStatusUpdate): Promise<SmsStatusRecordResult> {
      assertUpdate(update);
      const current = records.get(update.id);
      if (current && statusRank(current.status) >= statusRank(update.status)) {
        return { applied: false, record: { ...current } };
      }
      const next: SmsStatusRecord = {
        ...current,
        ...definedFields(update),
        id: update.id,
        status: update.status,
        updatedAt: update.at ?? now(),
      };
      records.delete(update.id);
      records.set(update.id, next);
      while (records.size > maxEntries) {
        const oldest = records.keys().next().value as string;
        records.delete(oldest);
      }
      return { applied: true, record: { ...next } };
    },
  });
}

function definedFields(update: SmsStatusUpdate): Partial<SmsStatusRecord> {
  const out: Partial<SmsStatusRecord> = {};
  if (update.provider !== undefined) out.provider = update.provider;
  if (update.to !== undefined) out.to = update.to;
  if (update.errorCode !== undefined) out.errorCode = update.errorCode;
  return out;
}
