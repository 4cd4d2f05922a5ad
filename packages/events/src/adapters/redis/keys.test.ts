import { hashSlot } from '@app/test-harness';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveOptions } from './options.js';

const client = new Redis({ lazyConnect: true });
afterAll(() => client.disconnect());

describe('the Redis transport key layout (no I/O)', () => {
  const names = ['order.placed', 'a', 'x}y', 'w{z', 'ünï.côdé', 'names'];
  const prefixes = ['events:', 'app:{tenant}:', 'a}b:', ''];

  it("keeps every key one script or transaction touches in its event name's slot, for any name and prefix", () => {
    for (const keyPrefix of prefixes) {
      const ctx = resolveOptions({ client, keyPrefix });
      for (const name of names) {
        const slot = hashSlot(ctx.eventKey(name));
        expect(hashSlot(ctx.dlqKey(name, 'sub'))).toBe(slot);
        expect(hashSlot(ctx.retryKey(name, 'sub'))).toBe(slot);
        expect(ctx.eventName(ctx.eventKey(name))).toBe(name);
      }
      expect(hashSlot(ctx.namesKey)).toBe(hashSlot(ctx.namesLogKey));
      expect(ctx.eventName(ctx.namesKey)).toBeUndefined();
      expect(ctx.eventName(ctx.retryKey('a', 'sub'))).toBeUndefined();
    }
  });

  it('rejects a prefix whose braces would make Redis hash whole keys, before any I/O', () => {
    for (const keyPrefix of ['odd{', 'a{}b:', 'x:{']) {
      expect(() => resolveOptions({ client, keyPrefix })).toThrow(/hash tag/);
    }
  });

  it('spreads the event names over the slots (one tag per name, not one for all)', () => {
    const ctx = resolveOptions({ client, keyPrefix: 'events:' });
    const slots = new Set(Array.from({ length: 100 }, (_, i) => hashSlot(ctx.eventKey(`event.${i}`))));
    expect(slots.size).toBeGreaterThan(90);
    // Reading groups keys by slot on a cluster only: one group on a single node.
    expect(ctx.groupOf(ctx.eventKey('a'))).toBe('');
  });
});
