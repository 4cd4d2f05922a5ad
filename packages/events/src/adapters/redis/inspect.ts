import { runScript } from '@app/core';
import type { GroupStats } from '../../types.js';
import { followedNames, parseDeadLetterIds } from './dead-letters.js';
import type { RedisContext } from './options.js';
import { DROP_STREAM } from './scripts.js';
import { toGroupStats } from './stats.js';

/**
 * How many entries the stream of `name` holds (`XLEN` on the transport's own key: 0 when there is none).
 *
 * @example
 * ```ts
 * const length = await streamLength(ctx, 'user.registered');
 * ```
 */
export async function streamLength(ctx: RedisContext, name: string): Promise<number> {
  return Number(await ctx.client.call('XLEN', ctx.eventKey(name)));
}

/**
 * Every consumer group on the stream of `name` (`XINFO GROUPS`, one single-key command: cluster-safe), with
 * pending count and lag (Redis 7; `undefined` when Redis cannot tell). `[]` when the stream does not exist.
 *
 * @example
 * ```ts
 * const groups = await consumerGroups(ctx, 'user.registered'); // [{ name, group: 'mailer', lag: 0, pending: 1 }]
 * ```
 */
export async function consumerGroups(ctx: RedisContext, name: string): Promise<GroupStats[]> {
  let reply: unknown;
  try {
    reply = await ctx.client.call('XINFO', 'GROUPS', ctx.eventKey(name));
  } catch (error) {
    if (/no such key/i.test(String((error as Error | undefined)?.message))) return [];
    throw error;
  }
  return (Array.isArray(reply) ? (reply as unknown[][]) : []).map((entry) => toGroupStats(name, entry));
}

/**
 * Deletes dead letters of `subscription`: without `ids`, every dead-letter stream of the names it follows
 * (each emptied atomically, in its own slot); with ids (`<stream id>:<event name>`, as `listDeadLetters`
 * gives them), `XDEL` per event name. Malformed ids reject with `INVALID_ARGUMENT` before any command.
 * Resolves with how many were deleted.
 *
 * @example
 * ```ts
 * await deleteDeadLetters(ctx, 'mailer', ['1718000000000-0:user.registered']); // 1
 * ```
 */
export async function deleteDeadLetters(
  ctx: RedisContext,
  subscription: string,
  ids: readonly string[] | undefined,
): Promise<number> {
  if (ids === undefined) {
    const names = await followedNames(ctx, subscription);
    const counts = await Promise.all(
      names.map((name) => runScript(ctx.client, DROP_STREAM, [ctx.dlqKey(name, subscription)], [])),
    );
    return counts.reduce<number>((sum, n) => sum + Number(n), 0);
  }
  const byName = new Map<string, string[]>();
  for (const [name, id] of parseDeadLetterIds(ids)) {
    const list = byName.get(name) ?? [];
    if (!list.includes(id)) list.push(id);
    byName.set(name, list);
  }
  const counts = await Promise.all(
    [...byName].map(([name, list]) => ctx.client.call('XDEL', ctx.dlqKey(name, subscription), ...list)),
  );
  return counts.reduce<number>((sum, n) => sum + Number(n), 0);
}
