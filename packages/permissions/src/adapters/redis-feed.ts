// Invalidation notifications of the Redis permission cache: classic pub/sub on one node, sharded pub/sub
// (SSUBSCRIBE/SPUBLISH) on a Cluster, told apart by the client's `isCluster`.
//
// ioredis' own sharded pub/sub on a `Cluster` does not deliver unless the Cluster was built with
// `shardedSubscribers: true`: without it, SSUBSCRIBE goes to one random node and never settles for a
// channel another node owns, and `smessage` is never emitted (checked on a real 3-master cluster, ioredis
// 5.11). So the feed subscribes on `client.duplicate([], { shardedSubscribers: true })`, which keeps one
// subscriber per master and resubscribes after a failover. Delivery is not taken on trust: after every
// (re)connection the feed publishes a probe on each channel and counts itself live only once all of them
// came back; until then the cache uses no local copy without asking Redis.
import { randomBytes } from 'node:crypto';
import { type Logger, sleep } from '@app/core';

/** The subscriber connection the feed opens with `client.duplicate()` (an ioredis `Redis` or `Cluster`). */
export interface RedisFeedSubscriber {
  subscribe(...channels: string[]): Promise<unknown>;
  ssubscribe?(...channels: string[]): Promise<unknown>;
  on(event: string, listener: (...args: string[]) => void): unknown;
  disconnect(): void;
}

/** What the feed needs of your client, all optional: without `duplicate`, no notifications (epochs only). */
export interface RedisFeedClient {
  /** `true` on an ioredis `Cluster`: sharded pub/sub is used then. */
  readonly isCluster?: boolean;
  /** ioredis' connection status: commands are only sent while it is `ready`. */
  readonly status?: string;
  publish?(channel: string, message: string): Promise<unknown>;
  spublish?(channel: string, message: string): Promise<unknown>;
  duplicate?(...args: never[]): RedisFeedSubscriber;
  on?(event: string, listener: (...args: string[]) => void): unknown;
  off?(event: string, listener: (...args: string[]) => void): unknown;
}

/** A running subscription. */
export interface InvalidationFeed {
  /** Whether notifications are known to arrive now (a probe came back on every channel). */
  live(): boolean;
  close(): Promise<void>;
}

interface FeedOptions {
  client: RedisFeedClient;
  prefix: string;
  logger: Logger;
  timeoutMs: number;
  /** A subject's copy is stale (`undefined`: every copy). */
  onMessage(subject: string | undefined): void;
  /** Notifications arrive again after a (re)connection: copies kept meanwhile may have missed some. */
  onResubscribed(): void;
}

/** Channels: a fixed few, each its own hash tag, so a cluster spreads them (and their traffic) over shards. */
const CHANNELS = 8;
const channelsOf = (prefix: string) => Array.from({ length: CHANNELS }, (_, i) => `${prefix}{inv:${i}}`);

function channelOf(prefix: string, subject: string | undefined): string {
  let h = 0;
  if (subject !== undefined)
    for (let i = 0; i < subject.length; i++) h = (h * 31 + subject.charCodeAt(i)) | 0;
  return `${prefix}{inv:${Math.abs(h) % CHANNELS}}`;
}

/** Announces that a subject's (or, with `undefined`, every) compiled set changed. */
export function announceInvalidation(
  client: RedisFeedClient,
  prefix: string,
  subject: string | undefined,
): Promise<unknown> {
  const publish = client.isCluster === true ? client.spublish : client.publish;
  if (typeof publish !== 'function') return Promise.resolve(0);
  return publish.call(client, channelOf(prefix, subject), subject === undefined ? '*' : `s:${subject}`);
}

/**
 * Calls `onChange` when the client's topology changed under it: a reconnection (a restart, a Sentinel
 * failover) or, on a Cluster, a node leaving the pool (a failover). Returns the function that stops it.
 */
export function watchTopology(client: RedisFeedClient, onChange: () => void): () => void {
  if (typeof client.on !== 'function') return () => {};
  let connected = client.status === 'ready';
  const ready = () => {
    if (connected) onChange();
    connected = true;
  };
  client.on('ready', ready);
  client.on('-node', onChange);
  return () => {
    client.off?.('ready', ready);
    client.off?.('-node', onChange);
  };
}

/** Subscribes to the invalidation channels; `undefined` when the client cannot (no `duplicate`). */
export function invalidationFeed(o: FeedOptions): InvalidationFeed | undefined {
  const { client, prefix, logger } = o;
  const sharded = client.isCluster === true;
  if (typeof client.duplicate !== 'function') return undefined;
  const duplicate = client.duplicate as (...args: unknown[]) => RedisFeedSubscriber;
  const sub = sharded ? duplicate.call(client, [], { shardedSubscribers: true }) : duplicate.call(client);
  const channels = channelsOf(prefix);
  let live = false;
  let closed = false;
  let dirty = false;
  let probing: Promise<void> | undefined;
  let waiting: { nonce: string; left: Set<string>; done: () => void } | undefined;

  sub.on('error', (error: string) => logger.debug({ err: error }, 'permissions: invalidation feed error'));
  sub.on(sharded ? 'smessage' : 'message', (channel: string, message: string) => {
    const text = message;
    if (text.startsWith('p:')) {
      if (waiting !== undefined && text === `p:${waiting.nonce}`) {
        waiting.left.delete(channel);
        if (waiting.left.size === 0) waiting.done();
      }
    } else if (text === '*') o.onMessage(undefined);
    else if (text.startsWith('s:')) o.onMessage(text.slice(2));
  });

  const probeOnce = async (): Promise<boolean> => {
    const nonce = randomBytes(8).toString('hex');
    const arrived = new Promise<void>((done) => {
      waiting = { nonce, left: new Set(channels), done };
    });
    const publish = (sharded ? client.spublish : client.publish) as RedisFeedClient['publish'];
    await Promise.all(channels.map((c) => publish!.call(client, c, `p:${nonce}`)));
    const timeout = sleep(o.timeoutMs * 3).then(() => false);
    return Promise.race([arrived.then(() => true), timeout]);
  };

  // Live only once a probe came back on every channel; an event during the probe means probe again.
  const establish = (): Promise<void> => {
    live = false;
    dirty = true;
    if (probing) return probing;
    probing = (async () => {
      while (!closed && dirty) {
        dirty = false;
        const ok = await probeOnce().catch((error: unknown) => {
          logger.debug({ err: error }, 'permissions: invalidation probe failed');
          return false;
        });
        if (closed) return;
        if (ok && !dirty) {
          o.onResubscribed();
          live = true;
          return;
        }
        if (!ok) {
          dirty = true;
          await sleep(Math.min(o.timeoutMs, 500));
        }
      }
    })().finally(() => {
      probing = undefined;
      waiting = undefined;
    });
    return probing;
  };

  let started = false;
  const lost = () => {
    live = false;
    if (started) void establish();
  };
  for (const event of sharded
    ? ['-node', '+node', '-subscriber', '+subscriber', 'subscribersReady']
    : ['close', 'ready'])
    sub.on(event, lost);

  const subscribed = sharded
    ? Promise.all(channels.map((c) => sub.ssubscribe!(c)))
    : sub.subscribe(...channels);
  void subscribed.then(
    () => {
      started = true;
      return establish();
    },
    (error: unknown) => logger.warn({ err: error }, 'permissions: subscribing to invalidations failed'),
  );

  return {
    live: () => live,
    async close() {
      closed = true;
      live = false;
      sub.disconnect();
    },
  };
}
