import { randomUUID } from 'node:crypto';
import { closeable } from '@app/core';
import type { IdempotencyRecord, IdempotencyReservation, IdempotencyStore } from '../idempotency.js';
import {
  assertStatusUpdate,
  type DeliveryStatusRecord,
  type DeliveryStatusRecordResult,
  type DeliveryStatusStore,
  type DeliveryStatusUpdate,
  replacesStatus,
  statusEventOf,
} from '../status.js';

/** Options of {@link memoryIdempotencyStore}. */
export interface MemoryIdempotencyStoreOptions {
  /** The clock, in ms since the epoch (inject one in tests to expire keys). @default Date.now */
  now?: () => number;
  /**
   * Keys kept at most. Expired keys are swept once as many keys have been added as the store held after
   * the previous sweep (amortised constant time per `reserve`); if still over the bound, the oldest
   * keys go first. An expired key is never answered, swept or not. @default 100000
   */
  maxEntries?: number;
}

type Entry = { record: IdempotencyRecord; token?: string; expiresAt: number };

/**
 * An idempotency store in process memory: right for one process; use `redisIdempotencyStore` or
 * `prismaIdempotencyStore` when several processes may receive the same retried call.
 *
 * @example
 * ```ts
 * import { memoryIdempotencyStore } from '@app/delivery/memory';
 * const sms = createSmsService({ providers, idempotency: { store: memoryIdempotencyStore() } });
 * ```
 */
export function memoryIdempotencyStore(options: MemoryIdempotencyStoreOptions = {}): IdempotencyStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 100_000;
  const entries = new Map<string, Entry>();

  function live(key: string): Entry | undefined {
    const entry = entries.get(key);
    if (entry && entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry;
  }

  // Each sweep visits at most twice the keys added since the previous one: `reserve` stays amortised O(1).
  const minSweep = Math.min(1000, maxEntries);
  let sweepAfter = minSweep;
  let added = 0;
  function prune(): void {
    if (++added >= sweepAfter) {
      for (const key of entries.keys()) live(key);
      added = 0;
      sweepAfter = Math.max(minSweep, entries.size);
    }
    // Still over: the oldest go (Map order is insertion order; `complete` keeps the place).
    while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
  }

  return closeable({
    async reserve(key: string, fingerprint: string, lockMs: number): Promise<IdempotencyReservation> {
      const existing = live(key);
      if (existing) return { acquired: false, existing: structuredClone(existing.record) };
      const token = randomUUID();
      entries.set(key, { record: { state: 'pending', fingerprint }, token, expiresAt: now() + lockMs });
      prune();
      return { acquired: true, token };
    },
    async complete(key: string, token: string, result: unknown, ttlMs: number) {
      const entry = live(key);
      if (!entry || entry.token !== token) return;
      entries.set(key, {
        record: { state: 'done', fingerprint: entry.record.fingerprint, result: structuredClone(result) },
        expiresAt: now() + ttlMs,
      });
    },
    async release(key: string, token: string) {
      if (live(key)?.token === token) entries.delete(key);
    },
  });
}

/** Options of {@link memoryStatusStore}. */
export interface MemoryStatusStoreOptions {
  /** Messages kept at most; the least recently updated are dropped first. @default 10000 */
  maxEntries?: number;
  /** Events kept per message (the oldest are dropped). @default 100 */
  maxEvents?: number;
}

type StatusEntry = { record: DeliveryStatusRecord; seen: Set<string> };

// Records hold strings only: a shallow copy per level is a full copy, and much cheaper than structuredClone.
const copy = (record: DeliveryStatusRecord): DeliveryStatusRecord => ({
  ...record,
  details: { ...record.details },
  events: record.events.map((e) => ({ ...e, details: { ...e.details } })),
});

/**
 * A delivery status store in process memory, bounded to `maxEntries` messages: the services' default.
 * Every `record` runs to completion before the next (one event loop), so it is atomic by construction.
 *
 * @example
 * ```ts
 * import { memoryStatusStore } from '@app/delivery/memory';
 * const email = createEmailService({ providers, statusStore: memoryStatusStore({ maxEntries: 1000 }) });
 * ```
 */
export function memoryStatusStore(options: MemoryStatusStoreOptions = {}): DeliveryStatusStore {
  const maxEntries = options.maxEntries ?? 10_000;
  const maxEvents = options.maxEvents ?? 100;
  const entries = new Map<string, StatusEntry>();

  return closeable({
    async get(messageId: string) {
      const entry = entries.get(messageId);
      return entry ? copy(entry.record) : undefined;
    },
    async record(update: DeliveryStatusUpdate): Promise<DeliveryStatusRecordResult> {
      assertStatusUpdate(update);
      const entry = entries.get(update.messageId);
      if (entry?.seen.has(update.eventId))
        return { fresh: false, applied: false, record: copy(entry.record) };
      const record: DeliveryStatusRecord = entry?.record ?? {
        messageId: update.messageId,
        status: update.status,
        rank: update.rank,
        updatedAt: update.at,
        details: {},
        events: [],
      };
      const applied = replacesStatus(entry?.record.rank, update);
      if (applied) {
        record.status = update.status;
        record.rank = update.rank;
        record.updatedAt = update.at;
        if (update.provider !== undefined) record.provider = update.provider;
        Object.assign(record.details, update.details);
      }
      record.events.push(statusEventOf(update));
      if (record.events.length > maxEvents) record.events.splice(0, record.events.length - maxEvents);
      const seen = entry?.seen ?? new Set<string>();
      seen.add(update.eventId);
      entries.delete(update.messageId);
      entries.set(update.messageId, { record, seen });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
      return { fresh: true, applied, record: copy(record) };
    },
  });
}
