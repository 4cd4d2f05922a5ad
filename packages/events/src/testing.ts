import { type ContractOptions, contractOptions } from '@app/core/testing';
import { createEventBus } from './bus.js';
import { EventsErrorCode } from './errors.js';
import { inspectionSuite } from './internal/contract-inspect.js';
import { type AnyEvents, kit, type Suite, tag } from './internal/contract-kit.js';
import type { EventTransport } from './types.js';

export { eventually } from './internal/contract-kit.js';

/** One entry as the backend stores it, read straight from storage by a contract suite's `inspect` probe. */
export interface RawEventEntry {
  /** Where it is stored: a Redis stream key, a table name... */
  readonly location: string;
  /** Its stored fields, as text. */
  readonly fields: Readonly<Record<string, string>>;
}

/**
 * The parts of the contract an adapter may switch off with `features: { <capability>: false }`:
 * `durableGroups` (consumer groups: backlog, shared work, attempts carried over), `patterns`
 * (`subscribePattern`), `history` (reading and replaying the log), `deadLetters` (listing and replaying them),
 * `inspection` (the optional `streamLength`, `consumerGroups` and `deleteDeadLetters`: switch it off when
 * the transport does not implement them).
 */
export type EventTransportCapability =
  | 'durableGroups'
  | 'patterns'
  | 'history'
  | 'deadLetters'
  | 'inspection';

/**
 * What {@link eventTransportContract} needs: the shared contract options. `create` makes a fresh transport per
 * test (event names are unique per test, so transports may share a store); a delivery a durable member left
 * unfinished must reach the next member of its group within `timeoutMs` (for Redis: a small `claimIdleMs`).
 * `inspect` reads every entry the transports wrote, straight from the backend.
 */
export interface EventTransportContractOptions
  extends ContractOptions<EventTransport, readonly RawEventEntry[], EventTransportCapability> {}

/**
 * The behaviour every {@link EventTransport} must show, run through `createEventBus`, split by capability
 * (switch off what an adapter does not do with `features`). Call it inside a test file with vitest's functions.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { eventTransportContract } from '@app/events/testing';
 * import { memoryEventTransport } from '@app/events/memory';
 *
 * eventTransportContract({ describe, it, expect, name: 'memory', create: () => memoryEventTransport() });
 * ```
 */
export function eventTransportContract(options: EventTransportContractOptions): void {
  const o = contractOptions(options);
  o.describe(`EventTransport contract: ${o.name}`, () => {
    publishSuite(o);
    rawStorageSuite(o);
    if (o.has('history')) historySuite(o);
    if (o.has('patterns')) patternSuite(o);
    if (o.has('durableGroups')) durableSuite(o);
    if (o.has('durableGroups') && o.has('deadLetters')) deadLetterSuite(o);
    if (o.has('inspection')) inspectionSuite(o);
  });
}

function publishSuite(o: Suite): void {
  const { wait, withBus } = kit(o);
  const { expect } = o;
  o.describe('publish and live delivery', () => {
    o.it(
      'delivers to live subscribers only what is published after subscribe',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.live`;
          await bus.publish(name, { n: -1 });
          const seen: number[] = [];
          await bus.subscribe(name, (e) => {
            seen.push(e.data.n);
          });
          await bus.publishMany([0, 1, 2].map((n) => ({ name, data: { n } })));
          await wait(() => expect(seen).toEqual([0, 1, 2]));
        });
      },
      o.timeoutMs,
    );

    o.it(
      `acknowledges ${o.concurrency} concurrent publishes each with its own id and position, in order per name`,
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.burst`;
          const seen: number[] = [];
          await bus.subscribe(name, (e) => void seen.push(e.data.n));
          const published = await Promise.all(
            Array.from({ length: o.concurrency }, (_, n) => bus.publish(name, { n })),
          );
          expect(new Set(published.map((p) => p.id)).size).toBe(o.concurrency);
          expect(new Set(published.map((p) => p.position)).size).toBe(o.concurrency);
          await wait(() => expect(seen).toHaveLength(o.concurrency));
          // One publisher's events arrive in the order they were published.
          expect(seen).toEqual(Array.from({ length: o.concurrency }, (_, n) => n));
        });
      },
      o.timeoutMs,
    );

    o.it(
      'waits on close for handlers in flight',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.slow`;
          let release!: () => void;
          const gate = new Promise<void>((r) => {
            release = r;
          });
          let started = false;
          let finished = false;
          const sub = await bus.subscribe(name, async () => {
            started = true;
            await gate;
            finished = true;
          });
          await bus.publish(name, { n: 1 });
          await wait(() => expect(started).toBe(true));
          const closing = sub.close();
          // Not a wait for something: a chance for close() to resolve too early, which it must not.
          await new Promise((r) => setTimeout(r, 20));
          expect(finished).toBe(false);
          release();
          await closing;
          expect(finished).toBe(true);
        });
      },
      o.timeoutMs,
    );

    o.it(
      'rejects bad input before any I/O',
      async () => {
        await withBus(async (bus, t) => {
          await expect(bus.publish(`${t}.*`, { n: 1 })).rejects.toMatchObject({
            code: EventsErrorCode.INVALID_ARGUMENT,
          });
          await expect(bus.publish('', { n: 1 })).rejects.toMatchObject({
            code: EventsErrorCode.INVALID_ARGUMENT,
          });
          const cyclic: { n: number; self?: unknown } = { n: 1 };
          cyclic.self = cyclic;
          await expect(bus.publish(`${t}.x`, cyclic)).rejects.toMatchObject({
            code: EventsErrorCode.INVALID_PAYLOAD,
          });
          await expect(bus.subscribe(`${t}.x`, () => {}, { concurrency: 0 })).rejects.toMatchObject({
            code: EventsErrorCode.INVALID_ARGUMENT,
          });
          if (o.has('history')) expect(await bus.history(`${t}.x`)).toEqual([]);
        });
      },
      o.timeoutMs,
    );

    o.it(
      'refuses to publish after close',
      async () => {
        const bus = createEventBus<AnyEvents>({ transport: await o.create() });
        await bus.close();
        await expect(bus.publish(`${tag()}.late`, { n: 1 })).rejects.toMatchObject({
          code: EventsErrorCode.CLOSED,
        });
      },
      o.timeoutMs,
    );
  });
}

function rawStorageSuite(o: Suite): void {
  const { withBus } = kit(o);
  const { expect } = o;
  o.describe('raw storage (inspect)', () => {
    o.it.skipIf(!o.inspect)(
      'stores each acknowledged event exactly once, with its id, name and JSON payload',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.stored`;
          const published = await Promise.all([0, 1, 2].map((n) => bus.publish(name, { n })));
          const raw = await o.inspect!();
          for (const [n, p] of published.entries()) {
            const rows = raw.filter((r) => Object.values(r.fields).includes(p.id));
            expect(rows).toHaveLength(1);
            const values = Object.values(rows[0]!.fields);
            expect(values).toContain(name);
            expect(values).toContain(JSON.stringify({ n }));
          }
        });
      },
      o.timeoutMs,
    );
  });
}

function historySuite(o: Suite): void {
  const { withBus } = kit(o);
  const { expect } = o;
  o.describe('history', () => {
    o.it(
      'publishes with a unique id, timestamp and source, and keeps a log in order',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.created`;
          const published = [];
          for (let n = 0; n < 5; n++) published.push(await bus.publish(name, { n }, 'tests'));
          expect(new Set(published.map((p) => p.id)).size).toBe(5);
          expect(published[0]).toMatchObject({ name, source: 'tests' });
          const log = await bus.history(name);
          expect(log.map((e) => e.data.n)).toEqual([0, 1, 2, 3, 4]);
          expect(log.map((e) => e.id)).toEqual(published.map((p) => p.id));
          expect(log.map((e) => e.position)).toEqual(published.map((p) => p.position));
          const latest = await bus.getEventHistory(name, 2);
          expect(latest.map((e) => e.data.n)).toEqual([4, 3]);
          const after = await bus.history(name, { after: published[2]!.position });
          expect(after.map((e) => e.data.n)).toEqual([3, 4]);
          expect(await bus.history(`${t}.never`)).toEqual([]);
        });
      },
      o.timeoutMs,
    );

    o.it(
      'keeps the headers (trace context) an event was published with, and adds none',
      async () => {
        const transport = await o.create();
        try {
          const name = `${tag()}.traced`;
          const headers = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };
          const base = { name, payload: '{}', timestamp: Date.now() };
          await transport.publish([
            { ...base, id: `${name}-1`, headers },
            { ...base, id: `${name}-2` },
          ]);
          const [traced, plain] = await transport.history(name, { limit: 10, order: 'asc' });
          expect(traced!.headers).toEqual(headers);
          expect(plain!.headers).toBeUndefined();
        } finally {
          await transport.close();
        }
      },
      o.timeoutMs,
    );

    o.it(
      'reads history and replays from a time',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.timed`;
          await bus.publishMany([0, 1, 2].map((n) => ({ name, data: { n } })));
          const [, second] = await bus.history(name);
          const future = await bus.history(name, { since: Date.now() + 60_000 });
          expect(future).toEqual([]);
          const seen: number[] = [];
          const count = await bus.replay(name, { since: second!.timestamp - 60_000, batchSize: 2 }, (e) => {
            seen.push(e.data.n);
          });
          expect(count).toBe(3);
          expect(seen).toEqual([0, 1, 2]);
        });
      },
      o.timeoutMs,
    );
  });
}

function patternSuite(o: Suite): void {
  const { wait, withBus } = kit(o);
  const { expect } = o;
  o.describe('patterns', () => {
    o.it(
      'matches patterns, including names first published after subscribing',
      async () => {
        await withBus(async (bus, t) => {
          await bus.publish(`${t}.user.old`, { n: 0 });
          const seen: string[] = [];
          await bus.subscribePattern(`${t}.user.*`, (e) => {
            seen.push(`${e.name}:${e.data.n}`);
          });
          await bus.publish(`${t}.user.old`, { n: 1 });
          await bus.publish(`${t}.user.brand-new`, { n: 2 });
          await bus.publish(`${t}.order.placed`, { n: 3 });
          await wait(() => expect(seen.sort()).toEqual([`${t}.user.brand-new:2`, `${t}.user.old:1`]));
        });
      },
      o.timeoutMs,
    );

    o.it.skipIf(!o.has('durableGroups'))(
      'delivers durable pattern subscriptions across names',
      async () => {
        await withBus(async (bus, t) => {
          await bus.publish(`${t}.a.one`, { n: 0 });
          const seen: string[] = [];
          await bus.subscribePattern(`${t}.a.*`, (e) => void seen.push(e.name), { group: `${t}-pg` });
          await bus.publish(`${t}.a.one`, { n: 1 });
          await bus.publish(`${t}.a.two`, { n: 2 });
          await bus.publish(`${t}.b.one`, { n: 3 });
          await wait(() => expect(seen.sort()).toEqual([`${t}.a.one`, `${t}.a.two`]));
        });
      },
      o.timeoutMs,
    );
  });
}

function durableSuite(o: Suite): void {
  const { wait, withBus } = kit(o);
  const { expect } = o;
  o.describe('durable groups', () => {
    o.it(
      'keeps a durable group backlog while no member runs',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.durable`;
          const group = `${t}-mailer`;
          const first = await bus.subscribe(name, () => {}, { group });
          await first.close();
          await bus.publishMany([0, 1, 2, 3].map((n) => ({ name, data: { n } })));
          const seen: number[] = [];
          await bus.subscribe(name, (e) => void seen.push(e.data.n), { group });
          await wait(() => expect(seen).toEqual([0, 1, 2, 3]));
        });
      },
      o.timeoutMs,
    );

    o.it(
      "starts a new group at 'earliest' with the whole log",
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.early`;
          await bus.publishMany([0, 1].map((n) => ({ name, data: { n } })));
          const seen: number[] = [];
          await bus.subscribe(name, (e) => void seen.push(e.data.n), {
            group: `${t}-g`,
            startAt: 'earliest',
          });
          await bus.publish(name, { n: 2 });
          await wait(() => expect(seen).toEqual([0, 1, 2]));
        });
      },
      o.timeoutMs,
    );

    o.it(
      `shares a group among its members: each event once, ${o.concurrency} concurrent publishes`,
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.shared`;
          const group = `${t}-workers`;
          const seen: string[] = [];
          const perMember = [0, 0];
          for (const member of [0, 1]) {
            await bus.subscribe(
              name,
              (e) => {
                seen.push(e.id);
                perMember[member]!++;
              },
              { group, concurrency: 4 },
            );
          }
          const published = await Promise.all(
            Array.from({ length: o.concurrency }, (_, n) => bus.publish(name, { n })),
          );
          expect(new Set(published.map((p) => p.id)).size).toBe(o.concurrency);
          await wait(() => expect(seen).toHaveLength(o.concurrency));
          expect(new Set(seen).size).toBe(o.concurrency);
          expect(perMember[0]! + perMember[1]!).toBe(o.concurrency);
        });
      },
      o.timeoutMs,
    );

    o.it(
      'bounds concurrency per subscription',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.bounded`;
          let inFlight = 0;
          let peak = 0;
          let done = 0;
          await bus.subscribe(
            name,
            async () => {
              peak = Math.max(peak, ++inFlight);
              await new Promise((r) => setTimeout(r, 2));
              inFlight--;
              done++;
            },
            { group: `${t}-bounded`, concurrency: 3 },
          );
          await bus.publishMany(Array.from({ length: 30 }, (_, n) => ({ name, data: { n } })));
          await wait(() => expect(done).toBe(30));
          expect(peak).toBeLessThanOrEqual(3);
          expect(peak).toBeGreaterThan(1);
        });
      },
      o.timeoutMs,
    );

    o.it(
      'continues the attempt count when another member takes over a delivery left unfinished',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.handover`;
          const group = `${t}-handover`;
          const first: number[] = [];
          const second: number[] = [];
          const a = await bus.subscribe(
            name,
            (e) => {
              first.push(e.attempt);
              throw new Error('a fails');
            },
            { group, retry: { maxAttempts: 4, baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' } },
          );
          await bus.publish(name, { n: 1 });
          await wait(() => expect(first).toEqual([1]));
          // Closing interrupts the backoff: the delivery is left unacknowledged for the group.
          await a.close();
          await bus.subscribe(
            name,
            (e) => {
              second.push(e.attempt);
              throw new Error('b fails');
            },
            { group, retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1, jitter: 'none' } },
          );
          if (!o.has('deadLetters')) {
            await wait(() => expect(second).toEqual([2, 3, 4]));
            return;
          }
          await wait(async () => expect(await bus.listDeadLetters(group)).toHaveLength(1));
          expect(first).toEqual([1]);
          expect(second).toEqual([2, 3, 4]);
          const [dead] = await bus.listDeadLetters(group);
          expect(dead).toMatchObject({ name, attempts: 4, error: { message: 'b fails' } });
        });
      },
      o.timeoutMs,
    );
  });
}

function deadLetterSuite(o: Suite): void {
  const { wait, withBus } = kit(o);
  const { expect } = o;
  o.describe('dead letters', () => {
    o.it(
      'retries a failing handler, dead-letters it after N attempts, leaves other handlers alone, replays',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.fragile`;
          let attempts = 0;
          let broken = true;
          const fixed: number[] = [];
          const healthy: number[] = [];
          const failing = await bus.subscribe(
            name,
            (e) => {
              if (broken) {
                attempts++;
                throw new Error(`boom ${e.data.n}`);
              }
              fixed.push(e.data.n);
            },
            { group: `${t}-fragile`, retry: { maxAttempts: 4 } },
          );
          await bus.subscribe(name, (e) => void healthy.push(e.data.n), { group: `${t}-healthy` });
          await bus.subscribe(name, (e) => void healthy.push(e.data.n + 100));
          await bus.publish(name, { n: 7 });
          await wait(async () => expect(await bus.listDeadLetters(failing.name)).toHaveLength(1));
          expect(attempts).toBe(4);
          await wait(() => expect(healthy.sort()).toEqual([107, 7]));
          const [dead] = await bus.listDeadLetters(failing.name);
          expect(dead).toMatchObject({
            name,
            subscription: failing.name,
            attempts: 4,
            error: { message: 'boom 7' },
          });
          expect(JSON.parse(dead!.payload)).toEqual({ n: 7 });
          if (o.inspect) {
            // The dead letter is stored with its error, beside the event's own entry.
            const raw = await o.inspect();
            const rows = raw.filter((r) => Object.values(r.fields).includes(dead!.id));
            expect(rows.length).toBeGreaterThanOrEqual(2);
            expect(rows.some((r) => Object.values(r.fields).some((v) => v.includes('boom 7')))).toBe(true);
          }
          broken = false;
          expect(await bus.replayDeadLetters(failing.name)).toBe(1);
          await wait(() => expect(fixed).toEqual([7]));
          expect(await bus.listDeadLetters(failing.name)).toEqual([]);
          expect(healthy).toHaveLength(2);
        });
      },
      o.timeoutMs,
    );

    o.it(
      'dead-letters without calling the handler a delivery whose attempts are used up',
      async () => {
        await withBus(async (bus, t) => {
          const name = `${t}.exhausted`;
          const group = `${t}-exhausted`;
          let calls = 0;
          const a = await bus.subscribe(
            name,
            () => {
              calls++;
              throw new Error('a fails');
            },
            { group, retry: { maxAttempts: 3, baseDelayMs: 60_000, maxDelayMs: 60_000, jitter: 'none' } },
          );
          await bus.publish(name, { n: 1 });
          await wait(() => expect(calls).toBe(1));
          await a.close();
          // The next member allows a single attempt, and one was made already.
          await bus.subscribe(name, () => void calls++, { group, retry: { maxAttempts: 1 } });
          await wait(async () => expect(await bus.listDeadLetters(group)).toHaveLength(1));
          expect(calls).toBe(1);
          const [dead] = await bus.listDeadLetters(group);
          expect(dead).toMatchObject({
            name,
            attempts: 1,
            error: { name: 'EventsError', message: expect.stringContaining('used up its 1 attempts') },
          });
        });
      },
      o.timeoutMs,
    );
  });
}
