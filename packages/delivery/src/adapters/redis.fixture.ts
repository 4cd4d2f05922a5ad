import type { Cluster, Redis } from 'ioredis';

/**
 * Every key under `prefix`, read straight from Redis (SCAN on each master of a cluster): the raw-storage
 * probe (`inspect`) of the Redis contract suites.
 */
export async function scanKeys(client: Redis | Cluster, prefix: string): Promise<string[]> {
  const nodes =
    'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client as Redis];
  const keys: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
  }
  return keys;
}
