import { randomUUID } from 'node:crypto';
import { SmsError, SmsErrorCode } from '../errors.js';
import { isSmsStatus, statusRank } from '../status.js';
import type {
  SmsIdempotencyRecord,
  SmsIdempotencyReservation,
  SmsIdempotencyStore,
  SmsSendResult,
  SmsStatusRecord,
  SmsStatusRecordResult,
  SmsStatusStore,
  SmsStatusUpdate,
} from '../types.js';

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

  return {
    async get(id) {
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
    async close() {},
  };
}

/** Options of {@link memorySmsIdempotencyStore}. */
export interface MemorySmsIdempotencyStoreOptions {
  /** The clock, in ms since the epoch (inject one in tests to expire keys). @default Date.now */
  now?: () => number;
  /**
   * Keys kept at most. Expired keys are swept once as many keys have been added as the store held after
   * the previous sweep (amortised constant time per `reserve`); if still over the bound, the oldest
   * reserved keys go first. An expired key is never answered, swept or not. @default 100000
   */
  maxEntries?: number;
}

type MemoryEntry = { record: SmsIdempotencyRecord; token?: string; expiresAt: number };

/**
 * An idempotency store in process memory: right for one process; use `redisSmsIdempotencyStore` when
 * several processes send. The service's default.
 *
 * @example
 * ```ts
 * const sms = createSmsService({ providers, idempotency: { store: memorySmsIdempotencyStore() } });
 * ```
 */
export function memorySmsIdempotencyStore(
  options: MemorySmsIdempotencyStoreOptions = {},
): SmsIdempotencyStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 100_000;
  const entries = new Map<string, MemoryEntry>();

  function live(key: string): MemoryEntry | undefined {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Expired keys are swept once as many keys have been added as the map held after the last sweep (it
   * would have doubled, were it not bounded): each sweep visits at most twice the keys added since the
   * previous one, so `reserve` stays amortised O(1) however many keys are live.
   */
  const minSweep = Math.min(1000, maxEntries);
  let sweepAfter = minSweep;
  let added = 0;
  function prune(): void {
    if (++added >= sweepAfter) {
      for (const key of entries.keys()) live(key);
      added = 0;
      sweepAfter = Math.max(minSweep, entries.size);
    }
    // Still over: the oldest reservations go (Map order is insertion order; `complete` keeps the place).
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  }

  return {
    async reserve(key, fingerprint, ttlMs): Promise<SmsIdempotencyReservation> {
      const existing = live(key);
      if (existing) return { acquired: false, existing: structuredClone(existing.record) };
      const token = randomUUID();
      entries.set(key, { record: { state: 'pending', fingerprint }, token, expiresAt: now() + ttlMs });
      prune();
      return { acquired: true, token };
    },
    async complete(key, token, result: SmsSendResult, ttlMs) {
      const entry = live(key);
      if (!entry || entry.token !== token) return;
      entries.set(key, {
        record: { state: 'done', fingerprint: entry.record.fingerprint, result: { ...result } },
        expiresAt: now() + ttlMs,
      });
    },
    async release(key, token) {
      if (live(key)?.token === token) entries.delete(key);
    },
    async close() {},
  };
}

/** Rejects a malformed update before it reaches a store. */
export function assertUpdate(update: SmsStatusUpdate): void {
  if (typeof update?.id !== 'string' || update.id.length === 0) {
    throw new SmsError(SmsErrorCode.INVALID_CALLBACK, 'a status update needs a message id');
  }
  if (!isSmsStatus(update.status)) {
    throw new SmsError(SmsErrorCode.INVALID_CALLBACK, `unknown status '${String(update.status)}'`);
  }
}

function definedFields(update: SmsStatusUpdate): Partial<SmsStatusRecord> {
  const out: Partial<SmsStatusRecord> = {};
  if (update.provider !== undefined) out.provider = update.provider;
  if (update.to !== undefined) out.to = update.to;
  if (update.errorCode !== undefined) out.errorCode = update.errorCode;
  return out;
}
