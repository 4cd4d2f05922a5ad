import { describe, expect, it, vi } from 'vitest';
import { createEventBus } from '../bus.js';
import { EventsErrorCode } from '../errors.js';
import { eventTransportContract } from '../testing.js';
import type { HandleOutcome } from '../types.js';
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

  it('bounds the retry log of replayed dead letters by deadLetterMaxLen, and still delivers', async () => {
    const t = memoryEventTransport({ deadLetterMaxLen: 5 });
    const subscription = {
      selector: { kind: 'name', name: 'x' },
      name: 'sub',
      startAt: 'latest',
      concurrency: 1,
      consumer: 'c1',
    } as const;
    const fail = async (): Promise<HandleOutcome> => ({
      status: 'failed',
      error: new Error('no'),
      attempts: 1,
    });
    const live = await t.subscribe({ ...subscription, durable: false, handle: fail });
    await t.publish([{ id: 'id1', name: 'x', payload: '1', timestamp: Date.now() }]);
    const deadLetter = async () => {
      await vi.waitFor(async () => expect(await t.listDeadLetters('sub', 10)).toHaveLength(1));
    };
    await deadLetter();
    // Each replay appends to the subscription's retry log; the live member fails it back into a dead letter.
    const replays = 50;
    for (let i = 0; i < replays; i++) {
      expect(await t.replayDeadLetters('sub')).toBe(1);
      await deadLetter();
    }
    await live.close();

    // A new durable group of that name reads its retry log from the start: it sees what the log still holds.
    const seen: string[] = [];
    const durable = await t.subscribe({
      ...subscription,
      durable: true,
      async handle(event) {
        seen.push(event.payload);
        return { status: 'done' };
      },
    });
    // A sentinel published now comes after every retry entry (the group takes the lowest sequence first).
    await t.publish([{ id: 'id2', name: 'x', payload: 'sentinel', timestamp: Date.now() }]);
    await vi.waitFor(() => expect(seen.at(-1)).toBe('sentinel'));
    // 50 replays, the newest 5 kept (before the fix: all 50).
    expect(seen).toEqual(['1', '1', '1', '1', '1', 'sentinel']);

    // Delivery still works: the last dead letter replays to the durable member.
    expect(await t.replayDeadLetters('sub')).toBe(1);
    await vi.waitFor(() => expect(seen).toHaveLength(7));
    expect(seen.at(-1)).toBe('1');
    expect(await t.listDeadLetters('sub', 10)).toEqual([]);
    await durable.close();
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
