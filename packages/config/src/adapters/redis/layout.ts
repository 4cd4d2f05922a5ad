// Where the Redis adapters put each config key, on one node and on Redis Cluster alike.
//
// Every config key belongs to one of SHARDS shards, chosen by a stable hash of the key. A shard is a Redis
// Cluster hash tag: the store hash, the index, the cache hash and the change channel of a key all carry its
// shard's tag, so each script touches one slot (no CROSSSLOT) and can SPUBLISH on a channel of that slot,
// while the keys still spread over SHARDS slots (never one tag for all). The tags were picked so that their
// slots fall in SHARDS equal ranges of the 16,384 slots: on a cluster whose masters own contiguous ranges
// (what `redis-cli --cluster create` makes), the shards spread evenly over the masters.

/** How many shards (hash tags, index sets, change channels) a key prefix has. Part of the data layout. */
export const SHARDS = 16;

/** The hash tags, one per shard; tag i hashes into slots [1024 i, 1024 (i + 1)). Part of the data layout. */
export const SHARD_TAGS: readonly string[] = Object.freeze([
  'c10',
  'c21',
  'c2',
  'c43',
  'c11',
  'c20',
  'c3',
  'c42',
  'c12',
  'c23',
  'c0',
  'c41',
  'c13',
  'c22',
  'c1',
  'c40',
]);

/** The shard of a config key: FNV-1a (32 bit) of its UTF-16 code units, modulo {@link SHARDS}. Stable. */
export function shardOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % SHARDS;
}

/** `<prefix>{<tag>}:` of a shard: the start of every key and channel of that shard. */
export function shardPrefix(keyPrefix: string, shard: number): string {
  return `${keyPrefix}{${SHARD_TAGS[shard]}}:`;
}

/** `<prefix>{<tag>}:` of the shard a config key belongs to. */
export function keyShardPrefix(keyPrefix: string, key: string): string {
  return shardPrefix(keyPrefix, shardOf(key));
}

/**
 * `compute` of a config key, remembered: the names a key's writes use are built once per key, not on every
 * write. Bounded: the memo is emptied when it holds `max` keys.
 */
export function keyMemo<T>(compute: (key: string) => T, max = 1024): (key: string) => T {
  const memo = new Map<string, T>();
  return (key) => {
    let value = memo.get(key);
    if (value === undefined) {
      if (memo.size >= max) memo.clear();
      value = compute(key);
      memo.set(key, value);
    }
    return value;
  };
}

/** The change channel of each shard, in shard order. */
export function shardChannels(keyPrefix: string): string[] {
  return SHARD_TAGS.map((_, shard) => `${shardPrefix(keyPrefix, shard)}changes`);
}

/** A client that says it is an ioredis `Cluster` (`isCluster === true`). */
export function isClusterClient(client: unknown): boolean {
  return (client as { isCluster?: unknown } | null)?.isCluster === true;
}

/**
 * The publish command scripts use: SPUBLISH (sharded pub/sub, Redis 7) on a cluster, where the channel is
 * in the slot of the script's keys; PUBLISH on one node (or behind Sentinel).
 */
export function publishCommand(client: unknown): 'SPUBLISH' | 'PUBLISH' {
  return isClusterClient(client) ? 'SPUBLISH' : 'PUBLISH';
}

/**
 * Whether two key prefixes put a config key's store and cache keys in one slot (so one script may touch
 * both): true when neither carries a hash tag of its own (`{`), or when they are the same prefix.
 */
export function sameSlotPrefixes(a: string, b: string): boolean {
  return a === b || (!a.includes('{') && !b.includes('{'));
}

/**
 * The Redis hash in which `redisConfigStore` keeps a config key, e.g. to inspect it by hand.
 *
 * @example
 * ```ts
 * await redis.hgetall(redisEntryKey('myapp:config:', 'email.provider')); // { v: '3', t: '0', d: '"ses"', x: '' }
 * ```
 */
export function redisEntryKey(keyPrefix: string, key: string): string {
  return `${keyShardPrefix(keyPrefix, key)}entry:${key}`;
}

/**
 * The sorted set (one of 16) that indexes a config key for `list`.
 *
 * @example
 * ```ts
 * await redis.zrange(redisIndexKey('myapp:config:', 'email.provider'), 0, -1); // [..., 'email.provider', ...]
 * ```
 */
export function redisIndexKey(keyPrefix: string, key: string): string {
  return `${keyShardPrefix(keyPrefix, key)}index`;
}
