import { type Closeable, closeable } from '@app/core';
import { EventsError, EventsErrorCode } from '../errors.js';
import { describeError } from '../internal/dead-letter.js';
import { Limiter } from '../internal/limiter.js';
import { positiveInt } from '../internal/validate.js';
import { compilePattern } from '../pattern.js';
import type {
  DeadLetter,
  DeliveryAttempts,
  EventRecord,
  EventTransport,
  GroupStats,
  HistoryQuery,
  StoredEvent,
  TransportSubscribeOptions,
  TransportSubscription,
} from '../types.js';

/** Options of {@link memoryEventTransport}. */
export interface MemoryEventTransportOptions {
  /** Events kept per event name; the oldest go first. @default 10000 */
  maxLen?: number;
  /**
   * Dead letters kept per subscription, and replayed events kept per subscription (the log
   * `replayDeadLetters` appends to, as the Redis transport's retry stream); the oldest go first.
   * @default 10000
   */
  deadLetterMaxLen?: number;
}

interface Entry {
  seq: number;
  event: StoredEvent;
}

interface Group {
  createdAt: number;
  startAt: 'latest' | 'earliest';
  cursors: Map<string, number>;
  /** Events taken by a member that closed before finishing them: the next member gets them first. */
  unowned: Array<{ key: string; entry: Entry }>;
  /** Attempts begun on each delivery not yet settled, so a member taking one over continues the count. */
  attempts: Map<Entry, number>;
  members: Set<Member>;
}

interface Member {
  options: TransportSubscribeOptions;
  matches: (key: string) => boolean;
  limiter: Limiter;
  closing: boolean;
  /** Live members only: the last sequence number that existed when it subscribed. */
  startSeq: number;
  group?: Group;
}

const eventKey = (name: string) => `e:${name}`;
const retryKey = (subscription: string) => `r:${subscription}`;

/** Index of the first entry with `seq > after` (entries are sorted by seq). */
function firstAfter(entries: Entry[], after: number): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.seq > after) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * An in-process transport with the Redis transport's semantics: per-name logs with history, durable
 * groups that keep a backlog and share work among members, live subscriptions, dead letters and
 * replays. For tests and single-process apps; nothing survives the process.
 *
 * @example
 * ```ts
 * import { createEventBus } from '@app/events';
 * import { memoryEventTransport } from '@app/events/memory';
 *
 * const bus = createEventBus<Events>({ transport: memoryEventTransport({ maxLen: 1000 }) });
 * ```
 */
export function memoryEventTransport(options: MemoryEventTransportOptions = {}): EventTransport {
  const maxLen = positiveInt(options.maxLen, 10_000, 'maxLen');
  const deadLetterMaxLen = positiveInt(options.deadLetterMaxLen, 10_000, 'deadLetterMaxLen');
  const logs = new Map<string, Entry[]>();
  const groups = new Map<string, Group>();
  const members = new Set<Member>();
  const deadLetters = new Map<string, DeadLetter[]>();
  let seq = 0;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new EventsError(EventsErrorCode.CLOSED, 'the memory transport is closed');
  };

  function append(key: string, record: EventRecord, cap: number): Entry {
    const entry: Entry = { seq: ++seq, event: { ...record, position: String(seq) } };
    let log = logs.get(key);
    if (!log) {
      log = [];
      logs.set(key, log);
    }
    log.push(entry);
    if (log.length > cap) log.splice(0, log.length - cap);
    return entry;
  }

  function schedule(member: Member): void {
    queueMicrotask(() => pump(member));
  }

  function run(member: Member, key: string, entry: Entry): void {
    member.limiter.push(async () => {
      const group = member.group;
      let attempts: DeliveryAttempts | undefined;
      if (group) {
        const begin = () => {
          const n = (group.attempts.get(entry) ?? 0) + 1;
          group.attempts.set(entry, n);
          return n;
        };
        attempts = { first: begin(), next: async () => begin() };
      }
      const outcome = await member.options.handle(entry.event, attempts);
      if (outcome.status !== 'abandoned') group?.attempts.delete(entry);
      if (outcome.status === 'failed') {
        const name = member.options.name;
        const list = deadLetters.get(name) ?? [];
        deadLetters.set(name, list);
        list.push({
          ...entry.event,
          deadLetterId: String(++seq),
          subscription: name,
          error: describeError(outcome.error),
          attempts: outcome.attempts,
          failedAt: Date.now(),
        });
        if (list.length > deadLetterMaxLen) list.splice(0, list.length - deadLetterMaxLen);
      } else if (outcome.status === 'abandoned' && member.group) {
        member.group.unowned.push({ key, entry });
        for (const other of member.group.members) schedule(other);
      }
    });
  }

  /** Hands a durable member the next events of its group, up to its free capacity. */
  function pump(member: Member): void {
    const group = member.group;
    if (!group || member.closing) return;
    while (member.limiter.free > 0) {
      const orphan = group.unowned.shift();
      if (orphan) {
        run(member, orphan.key, orphan.entry);
        continue;
      }
      let best: { key: string; entry: Entry } | undefined;
      for (const [key, log] of logs) {
        if (!member.matches(key)) continue;
        const cursor =
          group.cursors.get(key) ??
          (key.startsWith('r:') || group.startAt === 'earliest' ? 0 : group.createdAt);
        const next = log[firstAfter(log, cursor)];
        if (next && (!best || next.seq < best.entry.seq)) best = { key, entry: next };
      }
      if (!best) return;
      group.cursors.set(best.key, best.entry.seq);
      run(member, best.key, best.entry);
    }
  }

  function deliver(key: string, entry: Entry): void {
    for (const member of members) {
      if (member.closing || !member.matches(key)) continue;
      if (member.group) schedule(member);
      else if (entry.seq > member.startSeq) run(member, key, entry);
    }
  }

  /** Lag and pending of one group on one event log. */
  function groupOn(group: string, g: Group, key: string, log: Entry[]): GroupStats {
    const cursor = g.cursors.get(key) ?? (g.startAt === 'earliest' ? 0 : g.createdAt);
    let pending = g.unowned.filter((u) => u.key === key).length;
    for (const entry of g.attempts.keys()) if (eventKey(entry.event.name) === key) pending++;
    return { name: key.slice(2), group, lag: log.length - firstAfter(log, cursor), pending };
  }

  /** Lag and pending of each group, per event log its members read. */
  function stats(): GroupStats[] {
    const out: GroupStats[] = [];
    for (const [group, g] of groups) {
      if (g.members.size === 0) continue;
      for (const [key, log] of logs) {
        if (!key.startsWith('e:') || ![...g.members].some((m) => m.matches(key))) continue;
        out.push(groupOn(group, g, key, log));
      }
    }
    return out;
  }

  /** Every group that reads (or has read) the log of `name`, members or not. */
  function groupsOf(name: string): GroupStats[] {
    const key = eventKey(name);
    const log = logs.get(key) ?? [];
    const out: GroupStats[] = [];
    for (const [group, g] of groups) {
      if (g.cursors.has(key) || [...g.members].some((m) => m.matches(key)))
        out.push(groupOn(group, g, key, log));
    }
    return out;
  }

  const transport: Omit<EventTransport, keyof Closeable> = {
    system: 'memory',

    async groupStats() {
      return stats();
    },

    async streamLength(name) {
      assertOpen();
      return logs.get(eventKey(name))?.length ?? 0;
    },

    async consumerGroups(name) {
      assertOpen();
      return groupsOf(name);
    },

    async deleteDeadLetters(subscription, ids) {
      assertOpen();
      const list = deadLetters.get(subscription) ?? [];
      const kept = ids === undefined ? [] : list.filter((d) => !ids.includes(d.deadLetterId));
      deadLetters.set(subscription, kept);
      return list.length - kept.length;
    },

    async publish(records) {
      assertOpen();
      const entries = records.map((record) => append(eventKey(record.name), record, maxLen));
      // Deliver after the caller's stack unwinds, as a networked transport would.
      queueMicrotask(() => {
        for (const entry of entries) deliver(eventKey(entry.event.name), entry);
      });
      return entries.map((entry) => entry.event.position);
    },

    async subscribe(subOptions): Promise<TransportSubscription> {
      assertOpen();
      const { selector, name } = subOptions;
      const nameMatches =
        selector.kind === 'name' ? (n: string) => n === selector.name : compilePattern(selector.pattern);
      const ownRetry = retryKey(name);
      const member: Member = {
        options: subOptions,
        matches: (key) => key === ownRetry || (key.startsWith('e:') && nameMatches(key.slice(2))),
        limiter: new Limiter(subOptions.concurrency, () => pump(member)),
        closing: false,
        startSeq: seq,
      };
      if (subOptions.durable) {
        let group = groups.get(name);
        if (!group) {
          group = {
            createdAt: seq,
            startAt: subOptions.startAt,
            cursors: new Map(),
            unowned: [],
            attempts: new Map(),
            members: new Set(),
          };
          groups.set(name, group);
        }
        group.members.add(member);
        member.group = group;
        schedule(member);
      }
      members.add(member);
      return {
        async close() {
          if (member.closing) return member.limiter.idle();
          member.closing = true;
          members.delete(member);
          member.group?.members.delete(member);
          await member.limiter.idle();
        },
      };
    },

    async history(name, query: HistoryQuery) {
      assertOpen();
      const after = query.after === undefined ? 0 : Number(query.after);
      if (!Number.isFinite(after)) {
        throw new EventsError(
          EventsErrorCode.INVALID_ARGUMENT,
          `unknown position ${JSON.stringify(query.after)}`,
        );
      }
      const rows = (logs.get(eventKey(name)) ?? [])
        .filter(
          (e) =>
            e.seq > after &&
            (query.since === undefined || e.event.timestamp >= query.since) &&
            (query.until === undefined || e.event.timestamp <= query.until),
        )
        .map((e) => e.event);
      if (query.order === 'desc') rows.reverse();
      return rows.slice(0, query.limit);
    },

    async listDeadLetters(subscription, limit) {
      assertOpen();
      return (deadLetters.get(subscription) ?? []).slice(0, limit);
    },

    async replayDeadLetters(subscription, ids) {
      assertOpen();
      const list = deadLetters.get(subscription) ?? [];
      const chosen = ids === undefined ? list.slice() : list.filter((d) => ids.includes(d.deadLetterId));
      deadLetters.set(
        subscription,
        list.filter((d) => !chosen.includes(d)),
      );
      const key = retryKey(subscription);
      for (const dead of chosen) {
        const {
          deadLetterId: _d,
          subscription: _s,
          error: _e,
          attempts: _a,
          failedAt: _f,
          position: _p,
          ...record
        } = dead;
        // Bounded like the dead letters it comes from: one full replay always fits.
        deliver(key, append(key, record, deadLetterMaxLen));
      }
      return chosen.length;
    },
  };
  return closeable(transport, async () => {
    closed = true;
    const all = [...members];
    for (const m of all) {
      m.closing = true;
      members.delete(m);
    }
    await Promise.all(all.map((m) => m.limiter.idle()));
  });
}
