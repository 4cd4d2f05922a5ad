import type { ServiceInternals } from './internals.js';
import { liveUnder } from './list.js';
import type { ConfigEntry } from './types.js';

/**
 * After notifications may have been missed (the subscriber reconnected): forget the cache, replay changes not
 * yet shared, re-read what is watched, and list the watched prefixes (a key created meanwhile is in no
 * cache). Watched entries stay as stale markers (never served) so the re-read can tell whether they changed.
 */
export async function resynchronise(svc: ServiceInternals): Promise<void> {
  if (svc.isClosed) return;
  const watched: string[] = [];
  for (const [key, entry] of [...svc.cache.entries()]) {
    if (svc.watchers.covers(key)) {
      entry.freshUntil = Number.NEGATIVE_INFINITY;
      watched.push(key);
    } else {
      svc.cache.delete(key);
    }
  }
  svc.shared.up();
  svc.logger.info(
    { watched: watched.length, pending: svc.shared.pendingCount },
    '[@app/config] resynchronising',
  );
  await svc.shared.replayPending();
  for (const key of watched) {
    if (svc.isClosed) return;
    // apply() notifies when the re-read finds a newer version than the stale marker.
    await svc.load(key, undefined).catch((error: unknown) => {
      svc.logger.warn({ err: error, key }, '[@app/config] could not re-read a watched key');
    });
  }
  for (const prefix of svc.watchers.prefixes()) {
    if (svc.isClosed) return;
    let listed: ConfigEntry[];
    try {
      listed = await svc.store.list(prefix);
    } catch (error) {
      svc.logger.warn({ err: error, prefix }, '[@app/config] could not re-list a watched prefix');
      continue;
    }
    const now = svc.now();
    for (const record of listed) {
      if (svc.isClosed) return;
      if (!liveUnder(record, prefix, now)) continue;
      const known = svc.cache.peek(record.key) !== undefined;
      // Not cached: new to this instance (or evicted), so its watchers hear about it.
      svc.apply(record.key, await svc.typed.toEntry(record), !known);
    }
  }
}
