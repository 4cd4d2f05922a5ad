import { describe, expect, it } from 'vitest';
import { SmsError, SmsErrorCode } from '../errors.js';
import { smsIdempotencyStoreContract, smsProviderContract, smsStatusStoreContract } from '../testing.js';
import { memorySmsIdempotencyStore, memorySmsProvider, memorySmsStatusStore } from './memory.js';

smsProviderContract({
  describe,
  it,
  expect,
  name: 'memory',
  create() {
    const provider = memorySmsProvider();
    return { provider, received: () => provider.messages() };
  },
});

smsStatusStoreContract({ describe, it, expect, name: 'memory', create: () => memorySmsStatusStore() });

let clock = 0;
smsIdempotencyStoreContract({
  describe,
  it,
  expect,
  name: 'memory',
  create: () => memorySmsIdempotencyStore({ now: () => clock }),
  advanceTime: (ms) => {
    clock += ms;
  },
});

describe('memorySmsProvider', () => {
  it('keeps messages with sender and callback, lists them and finds the last one per recipient', async () => {
    const outbox = memorySmsProvider({ from: '+14155550100' });
    await outbox.send('+14155550123', 'one');
    await outbox.send('+14155550199', 'two', { from: 'ACME', statusCallbackUrl: 'https://example.com/cb' });
    await outbox.send('+14155550123', 'three');
    expect(outbox.messages().map((m) => [m.to, m.body, m.from])).toEqual([
      ['+14155550123', 'one', '+14155550100'],
      ['+14155550199', 'two', 'ACME'],
      ['+14155550123', 'three', '+14155550100'],
    ]);
    expect(outbox.last('+14155550123')?.body).toBe('three');
    expect(outbox.last('+14155550199')?.statusCallbackUrl).toBe('https://example.com/cb');
    expect(outbox.last('+19999999999')).toBeUndefined();
    outbox.clear();
    expect(outbox.messages()).toEqual([]);
  });

  it('notifies subscribers until they unsubscribe, and survives a throwing listener', async () => {
    const outbox = memorySmsProvider();
    const seen: string[] = [];
    outbox.subscribe(() => {
      throw new Error('faulty listener');
    });
    const stop = outbox.subscribe((m) => seen.push(m.body));
    await outbox.send('+14155550123', 'a');
    stop();
    await outbox.send('+14155550123', 'b');
    expect(seen).toEqual(['a']);
  });

  it('keeps at most maxMessages and hands out copies', async () => {
    const outbox = memorySmsProvider({ maxMessages: 2 });
    for (const body of ['1', '2', '3']) await outbox.send('+14155550123', body);
    const list = outbox.messages();
    expect(list.map((m) => m.body)).toEqual(['2', '3']);
    (list[0] as { body: string }).body = 'tampered';
    expect(outbox.messages()[0]?.body).toBe('2');
  });

  it('fails a send from beforeSend without keeping it', async () => {
    const outbox = memorySmsProvider({
      beforeSend: (m) => {
        if (m.body === 'boom') throw new SmsError(SmsErrorCode.PROVIDER_UNAVAILABLE, 'down');
      },
    });
    await expect(outbox.send('+14155550123', 'boom')).rejects.toMatchObject({
      code: SmsErrorCode.PROVIDER_UNAVAILABLE,
    });
    await outbox.send('+14155550123', 'fine');
    expect(outbox.messages().map((m) => m.body)).toEqual(['fine']);
  });
});

describe('memory stores', () => {
  it('bounds the status store, dropping the oldest records', async () => {
    const store = memorySmsStatusStore({ maxEntries: 2, now: () => 7 });
    for (const id of ['a', 'b', 'c']) await store.record({ id, status: 'queued' });
    expect(await store.get('a')).toBeUndefined();
    expect(await store.get('c')).toEqual({ id: 'c', status: 'queued', updatedAt: 7 });
  });

  it('bounds the idempotency store, dropping expired keys first', async () => {
    let now = 0;
    const store = memorySmsIdempotencyStore({ maxEntries: 2, now: () => now });
    await store.reserve('old', 'f', 10);
    await store.reserve('live', 'f', 1000);
    now = 20;
    await store.reserve('new', 'f', 1000);
    expect((await store.reserve('live', 'f', 1000)).acquired).toBe(false);
    expect((await store.reserve('old', 'f', 1000)).acquired).toBe(true);
  });

  it('sweeps expired keys once enough keys were added, before evicting live ones', async () => {
    let now = 0;
    const store = memorySmsIdempotencyStore({ maxEntries: 4, now: () => now });
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
      const store = memorySmsIdempotencyStore({
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
