import { type EventEmitter, once } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import { atEndOfFile, serviceUnavailable, uniqueTag } from './service.js';

/** A real Redis for one test file: its own key prefix, clients closed and keys removed after the file. */
export interface RedisHarness {
  /** False when Redis is unreachable outside CI: skip the tests that need it. */
  readonly available: boolean;
  /** The server URL: REDIS_URL, or redis://127.0.0.1:6379. */
  readonly url: string;
  /** A key prefix no other test file uses, e.g. `test:k3x9a1:`. Everything under it is deleted afterwards. */
  readonly prefix: string;
  /** A new connected client, closed after the file. */
  client(options?: RedisOptions): Redis;
  /** Deletes this file's keys (with SCAN, never KEYS) and closes the clients. Runs by itself after the file. */
  cleanup(): Promise<void>;
}

/**
 * Connects to the real Redis for the calling test file. Call it at the top level of the file.
 *
 * @example
 * ```ts
 * const redis = await requireRedis();
 * describe.skipIf(!redis.available)('on real Redis', () => {
 *   it('works', async () => { await redis.client().set(`${redis.prefix}a`, '1'); });
 * });
 * ```
 */
export async function requireRedis(): Promise<RedisHarness> {
  const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `test:${uniqueTag()}:`;
  const clients: Redis[] = [];
  let available = true;

  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    available = false;
    serviceUnavailable('Redis', url, error);
  } finally {
    probe.disconnect();
  }

  const harness: RedisHarness = {
    available,
    url,
    prefix,
    client(options) {
      const c = new Redis(url, { maxRetriesPerRequest: 3, ...options });
      clients.push(c);
      return c;
    },
    async cleanup() {
      if (!available) return;
      const admin = new Redis(url, { maxRetriesPerRequest: 1 });
      try {
        await unlinkByPrefix(admin, prefix);
      } finally {
        admin.disconnect();
        for (const c of clients.splice(0)) c.disconnect();
      }
    },
  };
  atEndOfFile(() => harness.cleanup());
  return harness;
}

/**
 * Deletes every key starting with `prefix` on one node (SCAN + UNLINK, never KEYS): what a test file or a
 * bench leaves behind.
 *
 * @example
 * ```ts
 * await unlinkByPrefix(redis, 'bench:perm:');
 * ```
 */
export async function unlinkByPrefix(client: Pick<Redis, 'scan' | 'unlink'>, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
}

/**
 * Resolves with `client` once it is ready (at once if it already is): an ioredis client, cluster client or
 * sentinel-mode client, waited on by its `ready` event, never by a sleep.
 *
 * @example
 * ```ts
 * const client = await whenReady(cluster.client());
 * ```
 */
export async function whenReady<C extends EventEmitter & { readonly status: string }>(client: C): Promise<C> {
  if (client.status !== 'ready') await once(client, 'ready');
  return client;
}
