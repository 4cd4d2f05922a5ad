import { ConfigError } from './errors.js';
import type { ServiceInternals } from './internals.js';
import type { ConfigListEntry } from './service-types.js';
import type { ConfigEntry } from './types.js';
import { assertKey } from './validate.js';

/** True when the listed entry belongs to the prefix and has not expired (stores never read the clock). */
export function liveUnder(entry: ConfigEntry, prefix: string, now: number): boolean {
  return entry.key.startsWith(prefix) && (entry.expiresAt === null || entry.expiresAt > now);
}

/**
 * `list(prefix)`: every live entry under a literal prefix, read from the store, in code-unit key order.
 * Cached keys are refreshed, watched keys cached, and other keys left out of the cache.
 */
export async function listEntries<V>(
  svc: ServiceInternals,
  prefix: string,
): Promise<Map<string, ConfigListEntry<V>>> {
  assertKey(prefix, 'prefix');
  let entries: ConfigEntry[];
  try {
    entries = await svc.store.list(prefix);
  } catch (error) {
    if (error instanceof ConfigError && error.code === 'UNAVAILABLE') throw error;
    throw new ConfigError('STORE_ERROR', `could not list '${prefix}' from the store`, { cause: error });
  }
  const now = svc.now();
  const out = new Map<string, ConfigListEntry<V>>();
  // Code-unit order, whatever the database's collation.
  const sorted = [...entries].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  for (const entry of sorted) {
    // A foreign store that lists too much must not leak other keys.
    if (!liveUnder(entry, prefix, now)) continue;
    const cached = await svc.typed.toEntry(entry);
    if (cached.invalid) throw cached.invalid;
    // Cached keys are refreshed; watched ones are cached as a get would, so a reconnect re-reads them.
    if (svc.cache.peek(entry.key) !== undefined || svc.watchers.covers(entry.key)) {
      svc.apply(entry.key, cached, false);
    }
    out.set(
      entry.key,
      Object.freeze({ value: cached.value as V, version: entry.version, expiresAt: entry.expiresAt }),
    );
  }
  return out;
}
