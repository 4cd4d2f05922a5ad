// Test helper: what the Redis store wrote, read with plain commands (never through the adapter).
import type { ConfigRecord } from '../../types.js';
import { fromHash } from './client.js';

/**
 * Every store record under a prefix: `keys(pattern)` lists the entry hashes (on a cluster, from every
 * master), `hgetall` reads one.
 */
export function rawReader(
  keys: (pattern: string) => Promise<string[]>,
  hgetall: (key: string) => Promise<Record<string, string>>,
  prefix: string,
) {
  return async (): Promise<Map<string, ConfigRecord>> => {
    const out = new Map<string, ConfigRecord>();
    for (const redisKey of await keys(`${prefix}{*}:entry:*`)) {
      const key = redisKey.slice(redisKey.indexOf('}:entry:') + '}:entry:'.length);
      const record = fromHash(key, await hgetall(redisKey));
      if (record) out.set(key, record);
    }
    return out;
  };
}
