import { describe, expect, it } from 'vitest';
import { memoryEmailStatusStore } from './adapters/memory.js';
import { emailStatusRecord, recordDeliveryEvents } from './status.js';

describe('email.* events never carry an address in clear', () => {
  it('publishes the recipient masked, while the status store keeps it for getStatus', async () => {
    const store = memoryEmailStatusStore();
    const published: Array<Record<string, unknown>> = [];
    await recordDeliveryEvents(
      [
        {
          id: 'e1',
          messageId: 'm1',
          status: 'bounced',
          provider: 'ses',
          timestamp: new Date('2030-01-01T00:00:00Z'),
          recipient: 'grace.hopper@example.com',
          reason: 'bounce',
        },
      ],
      { store, sink: { publish: async (_name, data) => published.push(data) } },
    );
    expect(published).toEqual([
      expect.objectContaining({ recipientMasked: 'g***@example.com', reason: 'bounce' }),
    ]);
    expect(JSON.stringify(published)).not.toContain('grace.hopper');
    expect(emailStatusRecord(await store.get('m1'))?.events[0]?.recipient).toBe('grace.hopper@example.com');
  });
});
