import { EventsError, EventsErrorCode } from '../../errors.js';
import type { EventRecord, StoredEvent } from '../../types.js';
import type { RedisBatchLike } from './options.js';

/** One stream entry as ioredis returns it. */
export type RawEntry = [id: string, fields: string[] | null];
/** An XREAD / XREADGROUP reply. */
export type XReadReply = Array<[key: string, entries: RawEntry[]]> | null;

/** A stream id (`1718000000000-0`) or its milliseconds part. */
export const POSITION = /^\d+(-\d+)?$/;

/** Orders two stream ids. */
export function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = Number(am) - Number(bm);
  return ms !== 0 ? Math.sign(ms) : Math.sign(Number(as) - Number(bs));
}

/** A flat field list as a map. */
export function toFields(fields: string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!);
  return map;
}

/**
 * The fields of an event's stream entry: `i` id, `n` name, `d` payload, `t` timestamp, `s` source, and `h`
 * the headers (trace context) as JSON, written only when there are some.
 */
export function recordFields(record: EventRecord): string[] {
  const fields = ['i', record.id, 'n', record.name, 'd', record.payload, 't', String(record.timestamp)];
  if (record.source !== undefined) fields.push('s', record.source);
  if (record.headers !== undefined) fields.push('h', JSON.stringify(record.headers));
  return fields;
}

/** The `h` field back as headers: only string values; anything unreadable is dropped, never fatal. */
function parseHeaders(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') headers[k] = v;
    return headers;
  } catch {
    return undefined;
  }
}

/** A stream entry as an event, or CORRUPT_EVENT. */
export function parseEntry(id: string, fields: string[] | null): StoredEvent {
  const f = toFields(fields ?? []);
  const eventId = f.get('i');
  const name = f.get('n');
  const payload = f.get('d');
  const timestamp = Number(f.get('t'));
  if (eventId === undefined || name === undefined || payload === undefined || !Number.isFinite(timestamp)) {
    throw new EventsError(EventsErrorCode.CORRUPT_EVENT, `stream entry ${id} is not an event`);
  }
  const source = f.get('s');
  const headers = parseHeaders(f.get('h'));
  return {
    id: eventId,
    name,
    payload,
    timestamp,
    position: id,
    ...(source === undefined ? {} : { source }),
    ...(headers === undefined ? {} : { headers }),
  };
}

/** True for Redis' NOGROUP reply (the group or its stream is gone). */
export function isNoGroup(error: unknown): boolean {
  return error instanceof Error && error.message.includes('NOGROUP');
}

/** Runs a pipeline or transaction; the first failed command's error is thrown. */
export async function exec(batch: RedisBatchLike): Promise<unknown[]> {
  const results = await batch.exec();
  if (!results) throw new EventsError(EventsErrorCode.CLOSED, 'redis transaction aborted');
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** Waits for `work` (never rejecting) but no longer than `ms`. */
export async function bounded(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
