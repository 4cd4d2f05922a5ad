/** The one command {@link scanRedisKeys} sends: any ioredis `Redis` fits (a `Cluster` through its masters). */
export interface ScanClient {
  scan(
    cursor: string,
    matchToken: 'MATCH',
    pattern: string,
    countToken: 'COUNT',
    count: number,
  ): Promise<[cursor: string, keys: string[]]>;
}

/** An ioredis `Cluster`, seen through what {@link scanRedisKeys} needs of it. */
export interface ClusterScanClient {
  nodes(role: 'master'): ScanClient[];
}

/**
 * Every key under `prefix`, read straight from Redis with SCAN (on each master of a cluster): the raw
 * probe (`inspect`) of a Redis adapter's contract suites. Never KEYS.
 *
 * @example
 * ```ts
 * idempotencyStoreContract({ ...t, name: 'redis', create, inspect: () => scanRedisKeys(client, 'idem:') });
 * ```
 */
export async function scanRedisKeys(
  client: ScanClient | ClusterScanClient,
  prefix: string,
): Promise<string[]> {
  const nodes =
    'nodes' in client && typeof client.nodes === 'function' ? client.nodes('master') : [client as ScanClient];
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
