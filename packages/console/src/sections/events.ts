import { compilePattern } from '@app/events';
import { ConsoleError } from '../errors.js';
import { optionalStrings, type Route, requireString, type Section } from '../http.js';
import type { ConsoleDeadLetter, ConsoleEvent, ConsoleEventsOptions, ConsumerGroupInfo } from '../types.js';

/** Width of one bar of the publish-rate sparkline. */
export const RATE_BUCKET_MS = 10_000;
/** Bars in the sparkline (5 minutes). */
export const RATE_BUCKETS = 30;

/** Counts per name and per time bucket, for sparklines; old buckets are dropped as time moves on. */
export class RateCounter {
  private readonly counts = new Map<string, Map<number, number>>();

  constructor(
    private readonly now: () => number,
    private readonly bucketMs = RATE_BUCKET_MS,
    private readonly buckets = RATE_BUCKETS,
  ) {}

  /** Counts one occurrence of `key` now. */
  add(key: string, at = this.now()): void {
    const bucket = Math.floor(at / this.bucketMs);
    let series = this.counts.get(key);
    if (!series) {
      series = new Map();
      this.counts.set(key, series);
    }
    series.set(bucket, (series.get(bucket) ?? 0) + 1);
    for (const old of series.keys()) if (old <= bucket - this.buckets) series.delete(old);
  }

  /** The counts of `key`, oldest bucket first, the last one being now's. */
  series(key: string): number[] {
    const current = Math.floor(this.now() / this.bucketMs);
    const series = this.counts.get(key);
    return Array.from({ length: this.buckets }, (_, i) => series?.get(current - this.buckets + 1 + i) ?? 0);
  }

  /** Every key counted. */
  keys(): string[] {
    return [...this.counts.keys()];
  }
}

/** A dead letter as the page shows it: its payload parsed (then redacted like every body), no stack trace. */
function showDeadLetter(letter: ConsoleDeadLetter) {
  let data: unknown = letter.payload;
  try {
    data = JSON.parse(letter.payload);
  } catch {
    // shown as the raw text
  }
  return {
    deadLetterId: letter.deadLetterId,
    subscription: letter.subscription,
    id: letter.id,
    name: letter.name,
    timestamp: letter.timestamp,
    data,
    error: { name: letter.error.name, message: letter.error.message },
    attempts: letter.attempts,
    failedAt: letter.failedAt,
  };
}

/**
 * The events section: names with stream length, publish rate, consumer groups (what the bus can tell: each of
 * `streamLength`, `consumerGroups` and `deleteDeadLetters` is feature-detected on the bus, and shown as "n/a"
 * when missing), history by name or pattern, and dead letters to inspect, replay or delete.
 */
export function eventsSection(
  options: ConsoleEventsOptions,
  now: () => number,
): Section & { observe(event: ConsoleEvent): void } {
  const { bus, deadLetterWatchMs = 2_000 } = options;
  const subscriptions = [...(options.subscriptions ?? [])];
  const names = new Set(options.names ?? []);
  const rates = new RateCounter(now);
  let notify: ((data: unknown) => void) | undefined;

  const knownSubscription = (value: unknown): string => {
    const subscription = requireString(value, 'subscription', 200);
    if (!subscriptions.includes(subscription)) {
      throw new ConsoleError('INVALID_INPUT', `unknown subscription ${JSON.stringify(subscription)}`);
    }
    return subscription;
  };

  const describe = async (name: string) => {
    const [length, groups] = await Promise.all([
      bus.streamLength ? bus.streamLength(name).catch(() => null) : null,
      bus.consumerGroups
        ? bus.consumerGroups(name).then(
            (list) =>
              list.map((g): ConsumerGroupInfo => ({ name: g.group, pending: g.pending, lag: g.lag ?? null })),
            () => null,
          )
        : null,
    ]);
    return { name, length, groups, rate: rates.series(name) };
  };

  const routes: Route[] = [
    {
      method: 'GET',
      path: '',
      handle: async () => ({
        bucketMs: RATE_BUCKET_MS,
        capabilities: {
          streamLength: typeof bus.streamLength === 'function',
          groups: typeof bus.consumerGroups === 'function',
          deleteDeadLetters: typeof bus.deleteDeadLetters === 'function',
        },
        subscriptions,
        names: await Promise.all([...names].sort().map(describe)),
      }),
    },
    {
      method: 'GET',
      path: '/history',
      handle: async ({ url }) => {
        const pattern = requireString(url.searchParams.get('name') ?? '', 'name or pattern', 200);
        const limit = Math.min(Math.max(Number(url.searchParams.get('limit')) || 50, 1), 500);
        const targets = pattern.includes('*') ? [...names].filter(compilePattern(pattern)) : [pattern];
        const lists = await Promise.all(targets.map((n) => bus.history(n, { limit, order: 'desc' })));
        const events = lists
          .flat()
          .sort((a, b) => b.timestamp - a.timestamp)
          .slice(0, limit);
        return { pattern, names: targets, events };
      },
    },
    {
      method: 'GET',
      path: '/dead-letters',
      handle: async ({ url }) => {
        const subscription = knownSubscription(url.searchParams.get('subscription'));
        const letters = await bus.listDeadLetters(subscription, 200);
        return { subscription, deadLetters: letters.map(showDeadLetter) };
      },
    },
    {
      method: 'POST',
      path: '/dead-letters/replay',
      write: true,
      handle: async ({ body, record }) => {
        const input = await body();
        const subscription = knownSubscription(input.subscription);
        const ids = optionalStrings(input.ids, 'ids');
        const replayed = await bus.replayDeadLetters(subscription, ids);
        await record({
          action: ids ? 'replay' : 'replay-all',
          target: subscription,
          after: { ids, replayed },
        });
        notify?.({ deadLetters: subscription });
        return { subscription, replayed };
      },
    },
    {
      method: 'POST',
      path: '/dead-letters/delete',
      write: true,
      handle: async ({ body, record }) => {
        const input = await body();
        const subscription = knownSubscription(input.subscription);
        const ids = optionalStrings(input.ids, 'ids');
        if (!bus.deleteDeadLetters) {
          throw new ConsoleError(
            'NOT_AVAILABLE',
            'deleting dead letters needs a bus whose transport can (`bus.deleteDeadLetters`)',
          );
        }
        const deleted = await bus.deleteDeadLetters(subscription, ids);
        await record({
          action: ids ? 'delete' : 'delete-all',
          target: subscription,
          after: { ids, deleted },
        });
        notify?.({ deadLetters: subscription });
        return { subscription, deleted };
      },
    },
  ];

  // Dead letters appear when a handler gives up, with no event on the bus: the server looks for new ones
  // (one XRANGE-sized read per subscription), so pages learn of them through the live stream.
  const seen = new Map<string, string>();
  let timer: ReturnType<typeof setInterval> | undefined;
  const watchDeadLetters = async () => {
    for (const subscription of subscriptions) {
      const letters = await bus.listDeadLetters(subscription, 200).catch(() => undefined);
      if (!letters) continue;
      const mark = `${letters.length}:${letters.at(-1)?.deadLetterId ?? ''}`;
      if (seen.has(subscription) && seen.get(subscription) !== mark) notify?.({ deadLetters: subscription });
      seen.set(subscription, mark);
    }
  };

  return {
    name: 'events',
    routes,
    async start(send) {
      notify = send;
      if (subscriptions.length > 0 && deadLetterWatchMs > 0) {
        await watchDeadLetters();
        timer = setInterval(() => void watchDeadLetters(), deadLetterWatchMs);
        timer.unref?.();
      }
    },
    async close() {
      if (timer) clearInterval(timer);
    },
    observe(event) {
      names.add(event.name);
      rates.add(event.name, event.timestamp || now());
      notify?.({ name: event.name });
    },
  };
}
