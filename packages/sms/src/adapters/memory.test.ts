import { describe, expect, it } from 'vitest';
import { SmsError, SmsErrorCode } from '../errors.js';
import { smsProviderContract } from '../testing.js';
import { memorySmsProvider } from './memory.js';

// The outbox is the memory provider's storage: the probe reads the current test's provider.
let current = memorySmsProvider();
smsProviderContract({
  describe,
  it,
  expect,
  name: 'memory',
  create: () => {
    current = memorySmsProvider();
    return { provider: current };
  },
  inspect: async () => current.messages(),
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
