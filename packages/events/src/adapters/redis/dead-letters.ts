import { runScript } from '@app/core';
import { EventsError, EventsErrorCode } from '../../errors.js';
import { describeError } from '../../internal/dead-letter.js';
import type { DeadLetter, StoredEvent } from '../../types.js';
import { exec, POSITION, parseEntry, type RawEntry, recordFields, toFields } from './entries.js';
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
  subscription: string,
  position: string,
  event: StoredEvent | undefined,
  fields: string[] | null,
  failure: { error: unknown; attempts: number },
): void {
  const base = event ? recordFields(event) : (fields ?? []);
  batch.call(
    'XADD',
    ctx.dlqKey(subscription),
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

/** The dead letters of a subscription, oldest first. */
export async function listDeadLetters(
  ctx: RedisContext,
  subscription: string,
  limit: number,
): Promise<DeadLetter[]> {
  const entries = (await ctx.client.call(
    'XRANGE',
    ctx.dlqKey(subscription),
    '-',
    '+',
    'COUNT',
    limit,
  )) as RawEntry[];
  return entries.map(([id, fields]) => parseDeadLetter(id, fields));
}

/**
 * Moves dead letters (all, or those with the given ids) to the subscription's retry stream, each at most
 * once even under concurrent replays. Resolves with how many moved.
 */
export async function replayDeadLetters(
  ctx: RedisContext,
  subscription: string,
  ids: readonly string[] | undefined,
): Promise<number> {
  const { client } = ctx;
  const key = ctx.dlqKey(subscription);
  let entries: RawEntry[];
  if (ids === undefined) {
    entries = (await client.call('XRANGE', key, '-', '+')) as RawEntry[];
  } else {
    for (const id of ids) {
      if (!POSITION.test(id)) {
        throw new EventsError(
          EventsErrorCode.INVALID_ARGUMENT,
          `unknown dead-letter id ${JSON.stringify(id)}`,
        );
      }
    }
    const batch = client.pipeline();
    for (const id of ids) batch.call('XRANGE', key, id, id);
    entries = ((await exec(batch)) as RawEntry[][]).flat();
  }
  let replayed = 0;
  for (const [id, fields] of entries) {
    const dead = parseDeadLetter(id, fields);
    const moved = await runScript(
      client,
      REPLAY_DEAD_LETTER,
      [key, ctx.retryKey(subscription)],
      [id, ctx.deadLetterMaxLen, ...recordFields(dead)],
    );
    if (Number(moved) === 1) replayed++;
  }
  return replayed;
}

/** A dead-letter stream entry as a {@link DeadLetter}; a corrupt event keeps what there is. */
export function parseDeadLetter(id: string, fields: string[] | null): DeadLetter {
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
    deadLetterId: id,
    subscription: f.get('sub') ?? '',
    error,
    attempts: Number(f.get('a') ?? 0),
    failedAt: Number(f.get('f') ?? 0),
  };
}
