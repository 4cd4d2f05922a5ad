import { randomUUID } from 'node:crypto';
import { closeable } from '@app/core';
import type { IdempotencyRecord, IdempotencyReservation, IdempotencyStore } from '../idempotency.js';

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
