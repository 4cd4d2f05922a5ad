import { describe, expect, it } from 'vitest';
import { idempotencyStoreContract, statusStoreContract } from '../testing.js';
import { memoryIdempotencyStore, memoryStatusStore } from './memory.js';

let now = 1_000_000;
idempotencyStoreContract({
  describe,
  it,
  expect,
  name: 'memory',
  create: () => memoryIdempotencyStore({ now: () => now }),
  advanceTime: (ms) => {
    now += ms;
  },
});

describe('memoryIdempotencyStore bounds', () => {
  it('keeps at most maxEntries keys, dropping the oldest', async () => {
    const store = memoryIdempotencyStore({ maxEntries: 3 });
    for (const k of ['a', 'b', 'c', 'd']) expect((await store.reserve(k, 'fp', 60_000)).acquired).toBe(true);
    expect((await store.reserve('a', 'fp', 60_000)).acquired).toBe(true);
    expect((await store.reserve('d', 'fp', 60_000)).acquired).toBe(false);
  });

  it('keeps a copy of the result: changing it afterwards changes nothing', async () => {
    const store = memoryIdempotencyStore();
    const r = await store.reserve('k', 'fp', 60_000);
    if (!r.acquired) throw new Error('expected to acquire');
    const result = { id: 'm1' };
    await store.complete('k', r.token, result, 60_000);
    result.id = 'changed';
    expect(await store.reserve('k', 'fp', 60_000)).toEqual({
      acquired: false,
      existing: { state: 'done', fingerprint: 'fp', result: { id: 'm1' } },
    });
  });

  it('bounds the idempotency store, dropping expired keys first', async () => {
    let now = 0;
    const store = memoryIdempotencyStore({ maxEntries: 2, now: () => now });
    await store.reserve('old', 'f', 10);
    await store.reserve('live', 'f', 1000);
    now = 20;
    await store.reserve('new', 'f', 1000);
    expect((await store.reserve('live', 'f', 1000)).acquired).toBe(false);
    expect((await store.reserve('old', 'f', 1000)).acquired).toBe(true);
  });

  it('sweeps expired keys once enough keys were added, before evicting live ones', async () => {
    let now = 0;
    const store = memoryIdempotencyStore({ maxEntries: 4, now: () => now });
    await store.reserve('keep', 'f', 1000);
    await store.reserve('x1', 'f', 10);
    await store.reserve('x2', 'f', 10);
    now = 20;
    // The 4th key added triggers a sweep: x1 and x2 go, so three more keys fit without evicting 'keep'.
    for (const key of ['y1', 'y2', 'y3']) expect((await store.reserve(key, 'f', 1000)).acquired).toBe(true);
    for (const key of ['keep', 'y1', 'y2', 'y3']) {
      expect((await store.reserve(key, 'f', 1000)).acquired).toBe(false);
    }
  });

  it('keeps reserve amortised O(1) at the bound: clock reads and map steps do not grow with live keys', async () => {
    /** Clock reads and Map iterator steps per reserve, over `size` new keys once `size` live keys fill the store. */
    async function costPerReserve(size: number) {
      let reads = 0;
      const store = memoryIdempotencyStore({
        maxEntries: size,
        now: () => {
          reads++;
          return 0;
        },
      });
      for (let i = 0; i < size; i++) await store.reserve(`fill-${i}`, 'f', 60_000);
      reads = 0;
      const steps = countMapIteratorSteps();
      try {
        for (let i = 0; i < size; i++) await store.reserve(`new-${i}`, 'f', 60_000);
      } finally {
        steps.restore();
      }
      // Still bounded and still answering: the newest keys are held, the oldest evicted.
      expect((await store.reserve(`new-${size - 1}`, 'f', 60_000)).acquired).toBe(false);
      expect((await store.reserve('fill-0', 'f', 60_000)).acquired).toBe(true);
      return { reads: reads / size, steps: steps.count / size };
    }
    const small = await costPerReserve(1_000);
    const large = await costPerReserve(16_000);
    // A scan per reserve would cost ~1,000 and ~16,000 here; one sweep per `size` keys added costs ~1 more.
    for (const cost of [small, large]) {
      expect(cost.reads).toBeLessThan(4);
      expect(cost.steps).toBeLessThan(4);
    }
    expect(large.reads).toBeLessThan(small.reads * 1.5);
    expect(large.steps).toBeLessThan(small.steps * 1.5);
  });

  it('memory store: a reserve does not scan every live key (amortised sweep of expired ones)', async () => {
    const now = 1_000;
    let clockReads = 0;
    const store = memoryIdempotencyStore({
      now: () => {
        clockReads++;
        return now;
      },
    });
    for (let i = 0; i < 5000; i++) await store.reserve(`k${i}`, 'f', 60_000);
    clockReads = 0;
    for (let i = 0; i < 100; i++) await store.reserve(`more${i}`, 'f', 60_000);
    // Scanning 5,000 live keys on each reserve made a day of sends quadratic.
    expect(clockReads).toBeLessThan(100 * 10);
  });

  it('expires keys by the injected clock', async () => {
    let now = 1_000;
    const store = memoryIdempotencyStore({ now: () => now });
    expect((await store.reserve('k', 'f', 100)).acquired).toBe(true);
    expect(await store.reserve('k', 'f', 100)).toEqual({
      acquired: false,
      existing: { state: 'pending', fingerprint: 'f' },
    });
    now += 100;
    expect((await store.reserve('k', 'f', 100)).acquired).toBe(true);
  });
});

/** Counts `next()` calls on every Map iterator created until `restore()`: the work of scanning maps. */
function countMapIteratorSteps(): { readonly count: number; restore(): void } {
  const proto = Map.prototype as unknown as Record<PropertyKey, (this: unknown) => Iterator<unknown>>;
  const names: PropertyKey[] = ['keys', 'values', 'entries', Symbol.iterator];
  const originals = names.map((name) => proto[name]!);
  let count = 0;
  names.forEach((name, i) => {
    proto[name] = function (this: unknown) {
      const inner = originals[i]!.call(this);
      const counted: IterableIterator<unknown> = {
        next() {
          count++;
          return inner.next();
        },
        [Symbol.iterator]() {
          return counted;
        },
      };
      return counted;
    };
  });
  return {
    get count() {
      return count;
    },
    restore() {
      names.forEach((name, i) => {
        proto[name] = originals[i]!;
      });
    },
  };
}

statusStoreContract({ describe, it, expect, name: 'memory', create: () => memoryStatusStore() });

describe('memoryStatusStore bounds', () => {
  const u = (messageId: string, eventId: string, rank = 1) => ({
    messageId,
    eventId,
    status: `s${rank}`,
    rank,
    at: 1000 + rank,
  });

  it('keeps at most maxEntries messages, dropping the least recently updated', async () => {
    const store = memoryStatusStore({ maxEntries: 2 });
    await store.record(u('a', 'e1'));
    await store.record(u('b', 'e1'));
    await store.record(u('a', 'e2', 2)); // a is now the most recent
    await store.record(u('c', 'e1'));
    expect(await store.get('b')).toBeUndefined();
    expect((await store.get('a'))?.rank).toBe(2);
    expect(await store.get('c')).toBeDefined();
  });

  it('keeps the newest maxEvents events, and answers copies', async () => {
    const store = memoryStatusStore({ maxEvents: 2 });
    for (const id of ['e1', 'e2', 'e3']) await store.record(u('m', id));
    const record = await store.get('m');
    expect(record?.events.map((e) => e.eventId)).toEqual(['e2', 'e3']);
    record?.events.pop();
    expect((await store.get('m'))?.events).toHaveLength(2);
  });
});
