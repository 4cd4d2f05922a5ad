import type { GroupStats } from '../../types.js';
import type { RedisContext } from './options.js';
import type { RedisSubscription } from './subscription.js';

/** One group of an `XINFO GROUPS` reply, as a map of its fields. */
function groupFields(reply: unknown[]): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), reply[i + 1]);
  return fields;
}

/** One group of an `XINFO GROUPS` reply on the stream of `name`, as {@link GroupStats}. */
export function toGroupStats(name: string, entry: unknown[]): GroupStats {
  const fields = groupFields(entry);
  const lag = fields.get('lag');
  return {
    name,
    group: String(fields.get('name')),
    lag: lag === null || lag === undefined ? undefined : Number(lag),
    pending: Number(fields.get('pending') ?? 0),
  };
}

/**
 * Lag and pending of every durable group the open subscriptions consume, per event stream: one
 * `XINFO GROUPS` per stream (single-key commands, so it holds on Redis Cluster too). `lag` is Redis 7's
 * (`undefined` when Redis cannot tell, e.g. after XDEL or on Redis 6); a stream that fails to answer is left
 * out of this reading rather than failing it.
 */
export async function groupStats(
  ctx: RedisContext,
  open: Iterable<RedisSubscription>,
): Promise<GroupStats[]> {
  const wanted = new Map<string, Set<string>>();
  for (const sub of open) {
    if (!sub.durable) continue;
    for (const key of sub.keys) {
      if (ctx.eventName(key) === undefined) continue;
      const groups = wanted.get(key) ?? new Set<string>();
      groups.add(sub.options.name);
      wanted.set(key, groups);
    }
  }
  const readings = await Promise.all(
    [...wanted].map(async ([key, groups]) => {
      let reply: unknown[][];
      try {
        reply = (await ctx.client.call('XINFO', 'GROUPS', key)) as unknown[][];
      } catch (error) {
        ctx.logger.debug({ err: error }, 'could not read consumer group stats');
        return [];
      }
      const out: GroupStats[] = [];
      for (const entry of reply) {
        const stats = toGroupStats(ctx.eventName(key) ?? key, entry);
        if (groups.has(stats.group)) out.push(stats);
      }
      return out;
    }),
  );
  return readings.flat();
}
