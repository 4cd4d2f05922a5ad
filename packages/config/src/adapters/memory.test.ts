import { describe, expect, it } from 'vitest';
import { configStoreContract } from '../testing.js';
import { memoryConfigStore } from './memory.js';

let current = memoryConfigStore();
configStoreContract({
  describe,
  it,
  expect,
  name: 'memory',
  create: () => {
    current = memoryConfigStore();
    return current;
  },
  inspect: async () => current.dump(),
  concurrency: 1000,
});

describe('memoryConfigStore', () => {
  it('copies values in and out', async () => {
    const store = memoryConfigStore();
    const value = { list: [1] };
    await store.set('k', value);
    value.list.push(2);
    const got = await store.get('k');
    expect(got).toMatchObject({ value: { list: [1] } });
    if (got && !got.deleted) (got.value as { list: number[] }).list.push(3);
    expect(await store.get('k')).toMatchObject({ value: { list: [1] } });
  });
});
