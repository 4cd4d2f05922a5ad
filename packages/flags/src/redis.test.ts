// Two `createFlags` instances, each on its own Redis connections, kept in sync through real Redis pub/sub.
// This file uses a deliberately tiny ConfigSource over ioredis (GET/SET of JSON values plus PUBLISH on one
// channel) with no `list`, so it covers the index path on real connections. What it proves: @app/flags loads
// from and follows any plain ConfigSource whose changes arrive from another process's connection, in the
// order Redis delivers them. @app/config itself (with `list`) is covered by config.integration.test.ts.
import type { ConfigSource, ConfigWatchCallback } from '@app/core';
import { requireRedis } from '@app/test-harness';
import { describe, expect, it, vi } from 'vitest';
import { createFlags } from './flags.js';
import { flagSourceContract } from './testing.js';
import { type FlagStore, setFlag } from './writer.js';

const redis = await requireRedis();
type Client = ReturnType<typeof redis.client>;

/** One "instance": its own command and subscriber connections. */
function tinyRedisSource(prefix: string): ConfigSource & FlagStore & { close(): void } {
  const client: Client = redis.client();
  const subscriber: Client = redis.client();
  const channel = `${prefix}__changes`;
  const watchers = new Set<{ key: string; prefix: boolean; cb: ConfigWatchCallback }>();
  const subscribed = subscriber.subscribe(channel);
  subscriber.on('message', (_ch: string, message: string) => {
    const { key, value } = JSON.parse(message) as { key: string; value?: unknown };
    for (const w of watchers) if (w.prefix ? key.startsWith(w.key) : key === w.key) w.cb(value, key);
  });
  return {
    async get(key) {
      await subscribed;
      const raw = await client.get(prefix + key);
      return raw === null ? undefined : JSON.parse(raw);
    },
    watch(key, cb) {
      const entry = { key: key.replace(/\*$/, ''), prefix: key.endsWith('.') || key.endsWith('*'), cb };
      watchers.add(entry);
      return () => {
        watchers.delete(entry);
      };
    },
    async set(key, value) {
      await client
        .multi()
        .set(prefix + key, JSON.stringify(value))
        .publish(channel, JSON.stringify({ key, value }))
        .exec();
    },
    async delete(key) {
      await client
        .multi()
        .del(prefix + key)
        .publish(channel, JSON.stringify({ key }))
        .exec();
    },
    close() {
      client.disconnect();
      subscriber.disconnect();
    },
  };
}

let run = 0;

describe.skipIf(!redis.available)('@app/flags over real Redis pub/sub', () => {
  flagSourceContract({
    describe,
    it,
    expect,
    name: 'tiny Redis ConfigSource, two instances',
    create: async () => {
      const prefix = `${redis.prefix}contract${++run}:`;
      const a = tinyRedisSource(prefix);
      const b = tinyRedisSource(prefix);
      return {
        store: a,
        source: a,
        peerSource: b,
        cleanup: async () => {
          a.close();
          b.close();
        },
      };
    },
  });

  it('a rollout change written on instance A reaches instance B, and Redis holds the validated JSON', async () => {
    const prefix = `${redis.prefix}live:`;
    const a = tinyRedisSource(prefix);
    const b = tinyRedisSource(prefix);
    await setFlag(a, 'checkout', { enabled: true, rollout: 0 });
    const flagsA = createFlags({ source: a });
    const flagsB = createFlags({ source: b });
    await Promise.all([flagsA.ready(), flagsB.ready()]);
    const seen: string[][] = [];
    flagsB.onChange((c) => seen.push(c.flags));
    expect(flagsB.isEnabled('checkout', { userId: 'u-1' })).toBe(false);

    await setFlag(a, 'checkout', { enabled: true, rollout: 100, overrides: { 'u-2': false } });
    await vi.waitFor(() => expect(flagsB.isEnabled('checkout', { userId: 'u-1' })).toBe(true), {
      timeout: 5000,
    });
    expect(flagsB.evaluate('checkout', { userId: 'u-2' })).toMatchObject({
      enabled: false,
      reason: 'TARGETING_MATCH',
    });
    expect(seen).toEqual([['checkout']]);

    const raw = await redis.client().get(`${prefix}flags.checkout`);
    expect(JSON.parse(raw!)).toEqual({ enabled: true, rollout: 100, overrides: { 'u-2': false } });
    expect(JSON.parse((await redis.client().get(`${prefix}flags._index`))!)).toEqual(['checkout']);

    await Promise.all([flagsA.close(), flagsB.close()]);
    a.close();
    b.close();
  });
});
