import { closeable } from '@app/core';
import type {
  ConfigEntry,
  ConfigRecord,
  ConfigStore,
  ConfigTombstone,
  JsonValue,
  StoreSetOptions,
} from '../types.js';

/** The in-memory {@link ConfigStore}, with what it holds exposed for tests. */
export interface MemoryConfigStore extends ConfigStore {
  /** Every record, tombstones included, by key (copies). For tests and debugging. */
  dump(): Map<string, ConfigRecord>;
}

function copyRecord(record: ConfigRecord): ConfigRecord {
  return record.deleted ? { ...record } : { ...record, value: structuredClone(record.value) };
}

/**
 * A {@link ConfigStore} in process memory: the embedded default for tests and single-process apps. Values are
 * copied in and out, so nobody shares an object with the store. `close()` has nothing to release.
 *
 * @example
 * ```ts
 * import { createConfigService } from '@app/config';
 * import { memoryConfigStore } from '@app/config/memory';
 *
 * const config = createConfigService({ store: memoryConfigStore() });
 * ```
 */
export function memoryConfigStore(): MemoryConfigStore {
  const records = new Map<string, ConfigRecord>();
  return closeable({
    async get(key: string) {
      const record = records.get(key);
      return record === undefined ? undefined : copyRecord(record);
    },
    async set(key: string, value: JsonValue, options?: StoreSetOptions) {
      const entry: ConfigEntry = {
        key,
        value: structuredClone(value),
        version: (records.get(key)?.version ?? 0) + 1,
        expiresAt: options?.expiresAt ?? null,
        deleted: false,
      };
      records.set(key, entry);
      return copyRecord(entry) as ConfigEntry;
    },
    async delete(key: string) {
      const record = records.get(key);
      if (record === undefined || record.deleted) return undefined;
      const tombstone: ConfigTombstone = { key, version: record.version + 1, deleted: true };
      records.set(key, tombstone);
      return { ...tombstone };
    },
    async list(prefix: string) {
      const out: ConfigEntry[] = [];
      for (const record of records.values()) {
        if (!record.deleted && record.key.startsWith(prefix)) out.push(copyRecord(record) as ConfigEntry);
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    },
    dump() {
      return new Map([...records].map(([k, r]) => [k, copyRecord(r)]));
    },
  });
}
