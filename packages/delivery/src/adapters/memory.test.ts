import { describe, expect, it } from 'vitest';
import { idempotencyStoreContract } from '../testing.js';
import { memoryIdempotencyStore } from './memory.js';

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
});
