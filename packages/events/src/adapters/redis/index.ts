import { closeable } from '@app/core';
import { EventsError, EventsErrorCode } from '../../errors.js';
import type { EventTransport, HistoryQuery, StoredEvent } from '../../types.js';
import { PublishBuffer } from './buffer.js';
import { Heartbeat } from './claim.js';
import { listDeadLetters, replayDeadLetters } from './dead-letters.js';
import { compareIds, POSITION, parseEntry, type RawEntry } from './entries.js';
import { consumerGroups, deleteDeadLetters, streamLength } from './inspect.js';
import { NameRegistry } from './names.js';
import { type RedisContext, type RedisEventTransportOptions, resolveOptions } from './options.js';
import { Publisher } from './publisher.js';
import { StreamReader } from './reader.js';
import { groupStats } from './stats.js';
import { RedisSubscription } from './subscription.js';

export type {
  DurabilityOptions,
  PublishBufferOptions,
  RedisBatchLike,
  RedisEventTransportOptions,
  RedisNodeLike,
  RedisStreamsClient,
} from './options.js';

/**
 * Redis Streams transport. One stream per event name (`<prefix>e:{<name>}`) capped by `XADD MAXLEN ~`: the
 * publishes of one tick go out together, and the capped log is the history. Durable subscriptions are
 * consumer groups (at-least-once; stale deliveries of crashed members are claimed with XAUTOCLAIM); live
 * subscriptions read from the tail. Works unchanged on one node, behind Sentinel, and on Redis Cluster (pass
 * an ioredis `Cluster`): each event name is the hash tag of its stream and of the dead-letter and retry
 * streams beside it, so each script or transaction stays in one slot and the names spread over the shards.
 * On one node all subscriptions share ONE blocking connection (`client.duplicate()`, made on the first
 * subscribe); on a cluster each slot read gets its own. Other commands go through `client`. Opt-in
 * `durability` waits for replicas (`WAIT`) after each publish batch.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { createEventBus } from '@app/events';
 * import { redisEventTransport } from '@app/events/redis';
 *
 * const bus = createEventBus<Events>({ transport: redisEventTransport({ client: new Redis(), keyPrefix: 'myapp:events:' }) });
 * ```
 */
export function redisEventTransport(options: RedisEventTransportOptions): EventTransport {
  const ctx = resolveOptions(options);
  const names = new NameRegistry(ctx);
  const reader = new StreamReader(ctx);
  const heartbeat = new Heartbeat(ctx);
  const publisher = new Publisher(ctx, names);
  const buffer = ctx.buffer
    ? new PublishBuffer(ctx, publisher, ctx.buffer.maxEvents, ctx.buffer.onOverflow)
    : undefined;
  const sink = buffer ?? publisher;
  const open = new Set<RedisSubscription>();
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new EventsError(EventsErrorCode.CLOSED, 'the redis transport is closed');
  };

  const transport: Omit<EventTransport, 'close' | typeof Symbol.asyncDispose> = {
    system: 'redis',
    groupStats: () => groupStats(ctx, open),
    publish(records) {
      if (closed) {
        return Promise.reject(new EventsError(EventsErrorCode.CLOSED, 'the redis transport is closed'));
      }
      return sink.publish(records);
    },

    async subscribe(subOptions) {
      assertOpen();
      const sub = new RedisSubscription(subOptions, { ctx, reader, names, heartbeat, open });
      await sub.start();
      await reader.refresh();
      return { close: () => sub.close() };
    },

    async history(name, query) {
      assertOpen();
      return readHistory(ctx, name, query);
    },

    async listDeadLetters(subscription, limit) {
      assertOpen();
      return listDeadLetters(ctx, subscription, limit);
    },

    async replayDeadLetters(subscription, ids) {
      assertOpen();
      return replayDeadLetters(ctx, subscription, ids);
    },

    async streamLength(name) {
      assertOpen();
      return streamLength(ctx, name);
    },

    async consumerGroups(name) {
      assertOpen();
      return consumerGroups(ctx, name);
    },

    async deleteDeadLetters(subscription, ids) {
      assertOpen();
      return deleteDeadLetters(ctx, subscription, ids);
    },
  };

  return closeable(transport, async () => {
    closed = true;
    await buffer?.close();
    await Promise.all([...open].map((s) => s.close()));
    heartbeat.stop();
    await reader.close();
    names.close();
    publisher.close();
  });
}

async function readHistory(ctx: RedisContext, name: string, query: HistoryQuery): Promise<StoredEvent[]> {
  if (query.after !== undefined && !POSITION.test(query.after)) {
    throw new EventsError(
      EventsErrorCode.INVALID_ARGUMENT,
      `unknown position ${JSON.stringify(query.after)}`,
    );
  }
  let start = '-';
  if (query.since !== undefined) start = `${Math.max(0, Math.floor(query.since))}-0`;
  if (query.after !== undefined && (start === '-' || compareIds(query.after, start) >= 0)) {
    start = `(${query.after}`;
  }
  const end = query.until === undefined ? '+' : String(Math.max(0, Math.floor(query.until)));
  const key = ctx.eventKey(name);
  const entries = (
    query.order === 'asc'
      ? await ctx.client.call('XRANGE', key, start, end, 'COUNT', query.limit)
      : await ctx.client.call('XREVRANGE', key, end, start, 'COUNT', query.limit)
  ) as RawEntry[];
  return entries.map(([id, fields]) => parseEntry(id, fields));
}
