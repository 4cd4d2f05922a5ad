import { createHmac } from 'node:crypto';
import { maskPhoneNumber } from '@app/core';
import { describe, expect, it } from 'vitest';
import { memorySmsProvider } from './adapters/memory.js';
import { SmsErrorCode } from './errors.js';
import { createSmsService } from './service.js';

const TO = '+14155550123';

async function eventsFor(eventRecipient?: Parameters<typeof createSmsService>[0]['eventRecipient']) {
  const events: Array<{ name: string; data: Record<string, unknown> }> = [];
  const sms = createSmsService({
    providers: { memory: memorySmsProvider() },
    events: { publish: async (name, data) => events.push({ name, data }) },
    ...(eventRecipient === undefined ? {} : { eventRecipient }),
  });
  const { id } = await sms.send(TO, 'hi');
  await sms.recordStatus({ id, status: 'delivered' });
  return events;
}

describe('sms events never carry the number in clear unless asked to', () => {
  it('masks the recipient by default, in every event', async () => {
    const events = await eventsFor();
    expect(events.map((e) => e.name)).toEqual(['sms.queued', 'sms.delivered']);
    for (const { data } of events) {
      expect(data).not.toHaveProperty('to');
      expect(data.toMasked).toBe('+14*******23');
      expect(JSON.stringify(data)).not.toContain('4155550');
    }
  });

  it('gives a stable keyed hash with { hashKey }', async () => {
    const hashKey = 'events-hash-key-0123456789';
    const events = await eventsFor({ hashKey });
    const expected = createHmac('sha256', hashKey).update(TO).digest('hex');
    expect(events.map((e) => e.data.toHash)).toEqual([expected, expected]);
    expect(JSON.stringify(events)).not.toContain(TO);
  });

  it("gives the number itself only with 'clear'", async () => {
    const events = await eventsFor('clear');
    expect(events.map((e) => e.data.to)).toEqual([TO, TO]);
  });

  it('refuses a bad option before anything is sent', () => {
    for (const bad of ['plain', { hashKey: 'short' }, 42]) {
      expect(() =>
        createSmsService({ providers: { memory: memorySmsProvider() }, eventRecipient: bad as never }),
      ).toThrow(expect.objectContaining({ code: SmsErrorCode.INVALID_OPTIONS }));
    }
  });

  it('masks any length', () => {
    expect(maskPhoneNumber('+447946000958')).toBe('+44********58');
    expect(maskPhoneNumber('+1234')).toBe('+****');
  });
});
