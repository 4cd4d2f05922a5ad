import { closeable } from '@app/core';
import type { ConfigSync, ConfigSyncListener } from './types.js';

/**
 * A change notifier for services in one process (no shared cache): pass the same object to every service
 * that shares a store. A service created without `sync` gets a private one.
 *
 * @example
 * ```ts
 * const store = memoryConfigStore();
 * const sync = inProcessConfigSync();
 * const a = createConfigService({ store, sync });
 * const b = createConfigService({ store, sync });
 * b.watch('feature.x', (value) => console.log('b saw', value));
 * await a.set('feature.x', true); // b saw true
 * ```
 */
export function inProcessConfigSync(): ConfigSync {
  const listeners = new Set<ConfigSyncListener>();
  const sync: Omit<ConfigSync, 'close' | typeof Symbol.asyncDispose> = {
    async write(record, { publish, origin }) {
      if (!publish) return;
      // Delivered on a later microtask, like a message from a broker: never re-entrant into the writer.
      const sentAt = Date.now();
      for (const listener of [...listeners]) queueMicrotask(() => listener.change(record, origin, sentAt));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
  return closeable(sync, () => listeners.clear());
}
