import { randomBytes } from 'node:crypto';
import type { ChangeHistoryStore, ChangeRecord, ConsoleConfig } from './types.js';

/** The config key prefix of the change history kept in config. */
export const HISTORY_PREFIX = 'console.history.';

let sequence = 0;

/** A sortable id: the time, zero-padded, this process's sequence (order within a millisecond), random bits. */
export function historyId(at: number): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${String(at).padStart(15, '0')}-${String(sequence).padStart(6, '0')}-${randomBytes(4).toString('hex')}`;
}

/**
 * The change history kept in config: one key per write (`console.history.<time>-<random>`), so writes from
 * several instances never overwrite each other, listed newest first. The oldest entries beyond `maxEntries`
 * are deleted.
 *
 * @example
 * ```ts
 * const history = configHistory(config);
 * await history.append({ id, at, subject: 'ops-1', section: 'flags', action: 'toggle', target: 'beta' });
 * ```
 */
export function configHistory(config: ConsoleConfig, maxEntries = 1000): ChangeHistoryStore {
  let appended = 0;
  const list = async (): Promise<ChangeRecord[]> => {
    const entries = await config.list(HISTORY_PREFIX);
    return [...entries.values()]
      .map((e) => e.value as ChangeRecord)
      .filter((r) => r && typeof r === 'object');
  };
  return {
    async append(record) {
      await config.set(`${HISTORY_PREFIX}${record.id}`, record as never);
      appended++;
      if (appended % 50 !== 0) return;
      const all = (await list()).sort((a, b) => a.id.localeCompare(b.id));
      const excess = all.slice(0, Math.max(0, all.length - maxEntries));
      await Promise.all(excess.map((r) => config.delete(`${HISTORY_PREFIX}${r.id}`)));
    },
    async list(limit) {
      return (await list()).sort((a, b) => b.id.localeCompare(a.id)).slice(0, limit);
    },
  };
}

/**
 * The change history in memory (this process only), for a console without config.
 *
 * @example
 * ```ts
 * const console = createConsole({ authorize, flags, flagStore, history: memoryHistory() });
 * ```
 */
export function memoryHistory(maxEntries = 1000): ChangeHistoryStore {
  const records: ChangeRecord[] = [];
  return {
    async append(record) {
      records.push(record);
      if (records.length > maxEntries) records.splice(0, records.length - maxEntries);
    },
    async list(limit) {
      return records.slice(-limit).reverse();
    },
  };
}
