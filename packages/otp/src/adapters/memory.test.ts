import { describe, expect, it } from 'vitest';
import { otpStoreContract } from '../testing.js';
import { memoryOtpStore } from './memory.js';

const shared = memoryOtpStore();

otpStoreContract({
  name: 'memory',
  createStore: () => shared,
  readAll: async () => shared.dump(),
  describe,
  it,
  expect,
});

describe('memoryOtpStore', () => {
  it('sweeps expired challenges once the threshold is reached', async () => {
    const store = memoryOtpStore({ sweepThreshold: 2 });
    const req = (key: string, now: number) => ({
      challengeKey: key,
      destinationKey: `d${key}`,
      challengeId: `id${key}`,
      codeHash: 'h',
      now,
      expiresAt: now + 1000,
      maxAttempts: 5,
      cooldownMs: 0,
      destinationLimit: { max: 5, windowMs: 1000 },
    });
    await store.issue(req('a', 0));
    await store.issue(req('b', 0));
    expect(store.dump().filter((v) => v === 'ida')).toHaveLength(1);
    await store.issue(req('c', 5000));
    expect(store.dump()).not.toContain('ida');
    expect(store.dump()).toContain('idc');
  });

  it('rejects calls after close', async () => {
    const store = memoryOtpStore();
    await store.close();
    await expect(store.verify({ challengeKey: 'k', codeHash: 'h', now: 0 })).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('rejects a bad sweepThreshold before use', () => {
    expect(() => memoryOtpStore({ sweepThreshold: 0 })).toThrow(/sweepThreshold/);
  });
});
