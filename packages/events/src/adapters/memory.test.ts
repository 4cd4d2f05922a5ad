import { describe, expect, it } from 'vitest';
import { eventTransportContract } from '../testing.js';
import { memoryTransport } from './memory.js';

describe('memoryTransport', () => {
  eventTransportContract({ describe, it, expect, createTransport: () => memoryTransport() });

  it('trims each log to maxLen', async () => {
    const t = memoryTransport({ maxLen: 3 });
    await t.publish(
      [1, 2, 3, 4, 5].map((n) => ({ id: `id${n}`, name: 'x', payload: String(n), timestamp: Date.now() })),
    );
    const rows = await t.history('x', { limit: 10, order: 'asc' });
    expect(rows.map((r) => r.payload)).toEqual(['3', '4', '5']);
    await t.close();
  });
});
