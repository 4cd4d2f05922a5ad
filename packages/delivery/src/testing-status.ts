import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
import type { DeliveryStatusStore, DeliveryStatusUpdate } from './status.js';
import { storeTest } from './testing-store.js';

/** Parts of the status contract an adapter may switch off. */
export type StatusStoreCapability = 'events' | 'concurrency';

/** Options of {@link statusStoreContract}: the shared contract options (`name`, `create`, `inspect`...). */
export interface StatusStoreContractOptions
  extends ContractOptions<DeliveryStatusStore, readonly string[], StatusStoreCapability> {}

type Resolved = ResolvedContractOptions<DeliveryStatusStore, readonly string[], StatusStoreCapability>;

let n = 0;
const fresh = (what: string) =>
  `${what}-${Date.now().toString(36)}${(n++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const AT = Date.parse('2030-01-01T00:00:00.000Z');

/** An update of `messageId` (a fresh event id), for the suite's tests. */
function update(messageId: string, status: string, rank: number, extra: Partial<DeliveryStatusUpdate> = {}) {
  return { messageId, eventId: fresh('e'), status, rank, at: AT + rank, provider: 'contract', ...extra };
}

/** One test on a fresh store and a fresh message id, with the suite's timeout. */
const test = (
  o: Resolved,
  title: string,
  body: (store: DeliveryStatusStore, messageId: string) => Promise<void>,
  run = true,
) => storeTest(o, () => fresh('m'), title, body, run);

function recording(o: Resolved): void {
  const { expect } = o;
  test(o, 'answers undefined for a message it never saw', async (store, m) => {
    expect(await store.get(m)).toBeUndefined();
  });
  test(o, 'records a first update and answers it, with its event', async (store, m) => {
    const u = update(m, 'sent', 1, { details: { recipient: 'a***@example.com' } });
    const expected = {
      messageId: m,
      status: 'sent',
      rank: 1,
      updatedAt: u.at,
      provider: 'contract',
      details: { recipient: 'a***@example.com' },
      events: [{ eventId: u.eventId, status: 'sent', at: u.at, provider: 'contract', details: u.details }],
    };
    const result = await store.record(u);
    expect(result).toEqual({
      fresh: true,
      applied: true,
      record: o.has('events') ? expected : expect.anything(),
    });
    const stored = await store.get(m);
    expect(o.has('events') ? stored : { ...stored, events: expected.events }).toEqual(expected);
  });
  test(o, 'ignores a duplicate event id: not fresh, not applied, nothing changed', async (store, m) => {
    const u = update(m, 'sent', 1);
    await store.record(u);
    const again = await store.record({ ...u, status: 'bounced', rank: 9 });
    expect(again.fresh).toBe(false);
    expect(again.applied).toBe(false);
    expect(again.record.status).toBe('sent');
    if (o.has('events')) expect((await store.get(m))?.events).toHaveLength(1);
  });
  test(o, 'merges details and keeps the provider when an update names none', async (store, m) => {
    await store.record(update(m, 'sent', 1, { details: { recipient: 'r', reason: 'first' } }));
    await store.record(update(m, 'bounced', 6, { provider: undefined, details: { reason: 'mailbox full' } }));
    const stored = await store.get(m);
    expect(stored).toMatchObject({
      status: 'bounced',
      provider: 'contract',
      details: { recipient: 'r', reason: 'mailbox full' },
    });
  });
}

function precedence(o: Resolved): void {
  const { expect } = o;
  test(
    o,
    'never lets a late, lower rank replace a higher one; lists every event in order',
    async (store, m) => {
      const applied = [];
      for (const [status, rank] of [
        ['delivered', 3],
        ['sent', 1],
        ['bounced', 6],
        ['deferred', 2],
      ] as const) {
        applied.push((await store.record(update(m, status, rank))).applied);
      }
      expect(applied).toEqual([true, false, true, false]);
      const stored = await store.get(m);
      expect(stored?.status).toBe('bounced');
      expect(stored?.updatedAt).toBe(AT + 6);
      if (o.has('events')) {
        expect(stored?.events.map((e) => e.status)).toEqual(['delivered', 'sent', 'bounced', 'deferred']);
      }
    },
  );
  test(o, "on an equal rank, 'keep' keeps the first and 'replace' takes the latest", async (store, m) => {
    await store.record(update(m, 'delivered', 4));
    expect((await store.record(update(m, 'failed', 4, { ties: 'keep' }))).applied).toBe(false);
    expect((await store.get(m))?.status).toBe('delivered');
    expect((await store.record(update(m, 'undelivered', 4, { ties: 'replace' }))).applied).toBe(true);
    expect((await store.get(m))?.status).toBe('undelivered');
  });
  test(o, 'refuses a malformed update before any write', async (store, m) => {
    for (const bad of [
      { ...update(m, 'sent', 1), messageId: '' },
      { ...update(m, 'sent', 1), eventId: '' },
      { ...update(m, 'sent', 1), rank: 1.5 },
      { ...update(m, 'sent', 1), at: Number.NaN },
    ]) {
      await expect(store.record(bad)).rejects.toMatchObject({ code: 'INVALID_STATUS_UPDATE' });
    }
    expect(await store.get(m)).toBeUndefined();
  });
}

function concurrency(o: Resolved): void {
  const { expect } = o;
  const run = o.has('concurrency');
  const unique = Math.max(2, Math.min(50, Math.floor(o.concurrency / 2)));
  test(
    o,
    `stays consistent under ${unique * 2} concurrent records of one message (half of them duplicates)`,
    async (store, m) => {
      const statuses = ['sent', 'deferred', 'delivered', 'opened', 'clicked'];
      const updates = Array.from({ length: unique }, (_, i) => update(m, statuses[i % 5] as string, i % 5));
      const results = await Promise.all([...updates, ...updates].map((u) => store.record(u)));
      expect(results.filter((r) => r.fresh)).toHaveLength(unique);
      const stored = await store.get(m);
      expect(stored?.status).toBe('clicked');
      if (o.has('events')) expect(new Set(stored?.events.map((e) => e.eventId)).size).toBe(unique);
    },
    run,
  );
  test(
    o,
    `applies exactly one of ${o.concurrency} concurrent final statuses of one rank ('keep': the first wins)`,
    async (store, m) => {
      await store.record(update(m, 'sent', 1));
      const finals = Array.from({ length: o.concurrency }, (_, i) =>
        update(m, i % 2 ? 'failed' : 'delivered', 4, { details: { n: String(i) } }),
      );
      const results = await Promise.all(finals.map((u) => store.record(u)));
      const winners = results.filter((r) => r.applied);
      expect(winners).toHaveLength(1);
      const stored = await store.get(m);
      expect(stored?.details.n).toBe(winners[0]?.record.details.n);
    },
    run,
  );
}

function atRest(o: Resolved): void {
  const { expect } = o;
  const holds = async (id: string) => (await o.inspect?.())?.some((raw) => raw.includes(id)) ?? false;
  test(
    o,
    'keeps the message in its storage once recorded, and writes nothing for a read',
    async (store, m) => {
      const unseen = fresh('unseen');
      await store.get(unseen);
      expect(await holds(unseen)).toBe(false);
      await store.record(update(m, 'sent', 1));
      expect(await holds(m)).toBe(true);
    },
    o.inspect !== undefined,
  );
}

/**
 * The behaviour every {@link DeliveryStatusStore} must have, split by capability (keyv's test suite is the
 * model): recording, dedupe by event id, precedence (ties kept or replaced), consistency under concurrent
 * records (switch off with `features: { concurrency: false }`), the events list (`events: false` for a
 * store that keeps none), and what reaches storage (with `inspect`).
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { statusStoreContract } from '@app/delivery/testing';
 * statusStoreContract({ describe, it, expect, name: 'my store', create: () => myStatusStore() });
 * ```
 */
export function statusStoreContract(options: StatusStoreContractOptions): void {
  const o = contractOptions(options);
  const groups = { recording, precedence, concurrency, 'at rest': atRest };
  o.describe(`DeliveryStatusStore contract: ${o.name}`, () => {
    for (const [group, tests] of Object.entries(groups)) o.describe(group, () => tests(o));
  });
}
