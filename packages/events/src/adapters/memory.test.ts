import { describe, expect, it } from 'vitest';
import { createEventBus } from '../bus.js';
import { EventsErrorCode } from '../errors.js';
import { eventTransportContract } from '../testing.js';
import { memoryEventTransport } from './memory.js';

describe('memoryEventTransport', () => {
  eventTransportContract({ describe, it, expect, name: 'memory', create: () => memoryEventTransport() });

  it('trims each log to maxLen', async () => {
    const t = memoryEventTransport({ maxLen: 3 });
    await t.publish(
      [1, 2, 3, 4, 5].map((n) => ({ id: `id${n}`, name: 'x', payload: String(n), timestamp: Date.now() })),
    );
    const rows = await t.history('x', { limit: 10, order: 'asc' });
    expect(rows.map((r) => r.payload)).toEqual(['3', '4', '5']);
    await t.close();
  });

  it('throws INVALID_OPTIONS for bad factory options', () => {
    for (const options of [{ maxLen: 0 }, { maxLen: 1.5 }, { deadLetterMaxLen: -1 }]) {
      expect(() => memoryEventTransport(options)).toThrow(
        expect.objectContaining({ code: EventsErrorCode.INVALID_OPTIONS }),
      );
    }
  });
});

describe('createEventBus options', () => {
  it("throws INVALID_OPTIONS for a bad default retry policy, INVALID_ARGUMENT for a subscription's", async () => {
    expect(() => createEventBus({ retry: { maxAttempts: 0 } })).toThrow(
      expect.objectContaining({ code: EventsErrorCode.INVALID_OPTIONS }),
    );
    expect(() => createEventBus({ retry: { baseDelayMs: -1 } })).toThrow(
      expect.objectContaining({ code: EventsErrorCode.INVALID_OPTIONS }),
    );
    const bus = createEventBus();
    await expect(bus.subscribe('x', () => {}, { retry: { maxAttempts: 0 } })).rejects.toMatchObject({
      code: EventsErrorCode.INVALID_ARGUMENT,
    });
    await bus.close();
  });
});
