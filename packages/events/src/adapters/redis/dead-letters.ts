import { runScript } from '@app/core';
import { EventsError, EventsErrorCode } from '../../errors.js';
import { describeError } from '../../internal/dead-letter.js';
import type { DeadLetter, StoredEvent } from '../../types.js';
import { compareIds, POSITION, parseEntry, type RawEntry, recordFields, toFields } from './entries.js';
import type { RedisBatchLike, RedisContext } from './options.js';
import { REPLAY_DEAD_LETTER } from './scripts.js';

/**
 * Adds the dead letter of a failed delivery to `batch` (the transaction that also acknowledges it): the
 * event's fields (or the raw fields of an entry that could not be parsed), then `p` its position, `sub` the
 * subscription, `e` the error, `a` the attempts and `f` when it failed.
 */
export function addDeadLetter(
  ctx: RedisContext,
  batch: RedisBatchLike,
  name: string,
  subscription: string,
  position: string,
  event: StoredEvent | undefined,
  fields: string[] | null,
  failure: { error: unknown; attempts: number },
): void {
  const base = event ? recordFields(event) : (fields ?? []);
  batch.call(
    'XADD',
    ctx.dlqKey(name, subscription),
    'MAXLEN',
    '~',
    ctx.deadLetterMaxLen,
    '*',
    ...base,
    'p',
    position,
    'sub',
    subscription,
    'e',
    JSON.stringify(describeError(failure.error)),
    'a',
    failure.attempts,
    'f',
    Date.now(),
  );
}

/**
 * Records that `subscription` follows these event names (a set in the subscription's own slot): where
 * {@link listDeadLetters} looks, since each name's dead letters live in that name's slot.
 */
export async function followNames(ctx: RedisContext, subscription: string, names: string[]): Promise<void> {
  if (names.length > 0) await ctx.client.call('SADD', ctx.subscriptionNamesKey(subscription), ...names);
}

/** The event names whose dead-letter streams a subscription may have. */
export async function followedNames(ctx: RedisContext, subscription: string): Promise<string[]> {
  return (await ctx.client.call('SMEMBERS', ctx.subscriptionNamesKey(subscription))) as string[];
}

/**
 * A dead letter's id for the API: its id in its stream, then `:` and the event name (which stream: each
 * event name's dead letters live in that name's slot).
 */
function deadLetterId(id: string, name: string): string {
  return `${id}:${name}`;
}

/** The dead letters of a subscription, oldest first (merged over the streams of the names it follows). */
export async function listDeadLetters(
  ctx: RedisContext,
  subscription: string,
  limit: number,
): Promise<DeadLetter[]> {
  const names = await followedNames(ctx, subscription);
  const lists = await Promise.all(
    names.map(async (name) => {
      const key = ctx.dlqKey(name, subscription);
      const entries = (await ctx.client.call('XRANGE', key, '-', '+', 'COUNT', limit)) as RawEntry[];
      return entries.map(([id, fields]) => parseDeadLetter(id, fields, name));
    }),
  );
  return lists
    .flat()
    .sort((a, b) => a.failedAt - b.failedAt || compareIds(a.deadLetterId, b.deadLetterId))
    .slice(0, limit);
}

/**
 * Moves dead letters (all, or those with the given ids) to the retry stream of their event name, each at most
 * once even under concurrent replays. Resolves with how many moved.
 */
export async function replayDeadLetters(
  ctx: RedisContext,
  subscription: string,
  ids: readonly string[] | undefined,
): Promise<number> {
  const { client } = ctx;
  const found: Array<[name: string, entry: RawEntry]> = [];
  if (ids === undefined) {
    for (const name of await followedNames(ctx, subscription)) {
      const entries = (await client.call('XRANGE', ctx.dlqKey(name, subscription), '-', '+')) as RawEntry[];
      for (const entry of entries) found.push([name, entry]);
    }
  } else {
    const wanted = parseDeadLetterIds(ids);
    const entries = await Promise.all(
      wanted.map(
        ([name, id]) => client.call('XRANGE', ctx.dlqKey(name, subscription), id, id) as Promise<RawEntry[]>,
      ),
    );
    for (const [i, [name]] of wanted.entries()) for (const entry of entries[i]!) found.push([name, entry]);
  }
  let replayed = 0;
  for (const [name, [id, fields]] of found) {
    const dead = parseDeadLetter(id, fields, name);
    const moved = await runScript(
      client,
      REPLAY_DEAD_LETTER,
      [ctx.dlqKey(name, subscription), ctx.retryKey(name, subscription)],
      [id, ctx.deadLetterMaxLen, ...recordFields(dead)],
    );
    if (Number(moved) === 1) replayed++;
  }
  return replayed;
}

/**
 * Splits API dead-letter ids (`<stream id>:<event name>`) into `[name, stream id]` pairs; any malformed id
 * rejects them all with `INVALID_ARGUMENT` before any I/O.
 */
export function parseDeadLetterIds(ids: readonly string[]): Array<readonly [name: string, id: string]> {
  return ids.map((full) => {
    const cut = typeof full === 'string' ? full.indexOf(':') : -1;
    const id = cut === -1 ? '' : full.slice(0, cut);
    if (!POSITION.test(id) || cut === full.length - 1) {
      throw new EventsError(
        EventsErrorCode.INVALID_ARGUMENT,
        `unknown dead-letter id ${JSON.stringify(full)}`,
      );
    }
    return [full.slice(cut + 1), id] as const;
  });
}

/** A dead-letter stream entry as a {@link DeadLetter}; a corrupt event keeps what there is. */
export function parseDeadLetter(id: string, fields: string[] | null, stream: string): DeadLetter {
  const f = toFields(fields ?? []);
  let error: DeadLetter['error'] = { name: 'Error', message: 'unknown' };
  try {
    error = JSON.parse(f.get('e') ?? '') as DeadLetter['error'];
  } catch {}
  let event: StoredEvent;
  try {
    event = parseEntry(f.get('p') ?? id, fields);
  } catch {
    // A corrupt entry was dead-lettered as it was: keep what there is.
    event = {
      id: f.get('i') ?? '',
      name: f.get('n') ?? '',
      payload: f.get('d') ?? '',
      timestamp: 0,
      position: f.get('p') ?? '',
    };
  }
  return {
    ...event,
    deadLetterId: deadLetterId(id, stream),
    subscription: f.get('sub') ?? '',
    error,
    attempts: Number(f.get('a') ?? 0),
    failedAt: Number(f.get('f') ?? 0),
  };
}
