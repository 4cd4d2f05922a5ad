import { type Closeable, closeable } from '@app/core';
import type { CompiledPermissions } from './compile.js';

/** What a cache answers for a subject: the compiled set if it holds a current one, and a write token. */
export interface CacheRead {
  /** The subject's compiled permissions, when the cache holds a current copy. */
  compiled: CompiledPermissions | undefined;
  /**
   * Identifies the policy version the caller is about to load. Pass it back to `write`: a cache must drop
   * the write when an invalidation happened in between, so a slow load never caches stale permissions.
   */
  token: string;
}

/**
 * Holds compiled permission sets. The service invalidates it after every write it makes; a shared cache
 * (`redisPermissionCache`) makes that invalidation visible to every instance.
 *
 * `read` and `write` may answer synchronously (the in-memory cache does) so that a cached check costs no
 * extra promise. `close()` (from `Closeable`) stops timers and drops local copies, never a client you passed in.
 */
export interface PermissionCache extends Closeable {
  read(subject: string): CacheRead | Promise<CacheRead>;
  /**
   * Optional fast path: the subject's compiled set when this process holds a copy it may use without any I/O
   * (in memory and current), else `undefined`. Called with unvalidated subject strings, so it must not reach
   * a backend. The service then decides without a promise chain; without `peek` every check calls `read`.
   */
  peek?(subject: string): CompiledPermissions | undefined;
  write(subject: string, compiled: CompiledPermissions, token: string): void | Promise<void>;
  /** Called after a subject's assignments change. */
  invalidateSubject(subject: string): void | Promise<void>;
  /** Called after roles, rules or inheritance change. */
  invalidateAll(): void | Promise<void>;
}

/** Options of {@link memoryPermissionCache}. */
export interface MemoryPermissionCacheOptions {
  /** How long a compiled set is kept, in ms. Bounds staleness from writes made outside this process. @default 60000 */
  ttlMs?: number;
  /** At most this many subjects are kept; the oldest entries go first. @default 10000 */
  maxEntries?: number;
  /**
   * The clock, for tests. By default expiry is checked against a clock refreshed every `min(ttlMs / 10, 1000)`
   * ms by an unref'd timer (reading `Date.now()` on every check costs more than the rest of a cached check).
   * @default a coarse Date.now
   */
  now?: () => number;
}

interface Entry {
  compiled: CompiledPermissions;
  read: CacheRead;
  expiresAt: number;
}

/**
 * The default cache: compiled sets in this process, invalidated by the writes this service makes.
 * With several instances, use `redisPermissionCache` from `@app/permissions/redis` instead.
 *
 * @example
 * ```ts
 * const permissions = createPermissionService({
 *   store: memoryPermissionStore(),
 *   cache: memoryPermissionCache({ ttlMs: 10_000 }),
 * });
 * ```
 */
export function memoryPermissionCache(options: MemoryPermissionCacheOptions = {}): PermissionCache {
  const ttlMs = options.ttlMs ?? 60_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const entries = new Map<string, Entry>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let coarse = Date.now();
  const now =
    options.now ??
    (() => {
      if (timer === undefined) {
        coarse = Date.now();
        timer = setInterval(() => (coarse = Date.now()), Math.max(1, Math.min(ttlMs / 10, 1000)));
        timer.unref();
      }
      return coarse;
    });
  // Any invalidation bumps the generation, so a load that started before it cannot be written back.
  let generation = 0;
  let token = '0';

  const cache: Omit<PermissionCache, keyof Closeable> = {
    peek(subject) {
      const entry = entries.get(subject);
      return entry !== undefined && entry.expiresAt > now() ? entry.compiled : undefined;
    },
    read(subject) {
      const entry = entries.get(subject);
      if (entry !== undefined) {
        if (entry.expiresAt > now()) return entry.read;
        entries.delete(subject);
      }
      return { compiled: undefined, token };
    },
    write(subject, compiled, writeToken) {
      if (writeToken !== token || ttlMs <= 0) return;
      entries.delete(subject);
      entries.set(subject, { compiled, read: { compiled, token }, expiresAt: now() + ttlMs });
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    invalidateSubject(subject) {
      token = String(++generation);
      entries.delete(subject);
    },
    invalidateAll() {
      token = String(++generation);
      entries.clear();
    },
  };
  return closeable(cache, () => {
    clearInterval(timer);
    timer = undefined;
    entries.clear();
  });
}
