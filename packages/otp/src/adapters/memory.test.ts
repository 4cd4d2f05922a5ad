import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { type ChallengeRecord, decideIssue, decideVerify, issuedRecord } from '../decide.js';
import type { OtpStore } from '../store.js';
import { otpStoreContract } from '../testing.js';
import { issueRequest } from '../testing-kit.js';
import { memoryOtpStore } from './memory.js';

let current = memoryOtpStore();

otpStoreContract({
  describe,
  it,
  expect,
  name: 'memory',
  create: () => {
    current = memoryOtpStore();
    return current;
  },
  inspect: async () => current.dump(),
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
    await expect(store.verify({ challengeKey: 'k', codeHash: 'h', now: 0 })).rejects.toMatchObject({
      code: 'CLOSED',
    });
  });

  it('rejects a bad sweepThreshold before use', () => {
    expect(() => memoryOtpStore({ sweepThreshold: 0 })).toThrow(/sweepThreshold/);
  });
});

/** A deliberately broken store: verify reads, yields, then writes, like a GET then SET without Lua. */
function racyStore(): OtpStore {
  const challenges = new Map<string, ChallengeRecord>();
  return {
    async issue(req) {
      const decision = decideIssue(req, challenges.get(req.challengeKey), { destination: 0 });
      if (decision.status === 'issued')
        challenges.set(req.challengeKey, issuedRecord(req, decision.attempts));
      return decision;
    },
    async verify(req) {
      const current = challenges.get(req.challengeKey);
      await tick();
      const { result, next } = decideVerify(req, current);
      if (next?.consumed) challenges.delete(req.challengeKey);
      else if (next) challenges.set(req.challengeKey, next);
      return result;
    },
    async close() {},
    async [Symbol.asyncDispose]() {},
  };
}

describe('the contract suite itself', () => {
  const captured = new Map<string, () => Promise<void>>();
  const fakeIt = ((name: string, fn: () => Promise<void>) =>
    void captured.set(name, fn)) as unknown as typeof it;
  const fakeDescribe = ((_name: string, fn: () => void) => fn()) as unknown as typeof describe;
  otpStoreContract({
    describe: fakeDescribe,
    it: fakeIt,
    expect,
    name: 'racy',
    create: racyStore,
    inspect: async () => [],
    concurrency: 50,
  });
  const race = (prefix: string) => [...captured].find(([name]) => name.startsWith(prefix))![1];

  it('fails a store whose verify is a read then a write (both races)', async () => {
    await expect(race('race: 50 concurrent verifies of the right code')()).rejects.toThrow();
    await expect(race('race: 50 concurrent wrong guesses')()).rejects.toThrow();
  });

  it('fails a store that wrote nothing readable (at-rest check needs the challenge id in the dump)', async () => {
    await expect(race('at rest (numeric code, phone)')()).rejects.toThrow();
  });
});

describe('memoryOtpStore: a failed verify costs the same whatever the reason', () => {
  it('one map read and one map write for a wrong code, no challenge, expired and locked', async () => {
    // Issue 15, counted (Map operations during one verify), never timed.
    const store = memoryOtpStore();
    const live = issueRequest({ maxAttempts: 3 });
    const expired = issueRequest({ expiresAt: live.now + 1 });
    const locked = issueRequest({ maxAttempts: 1 });
    for (const r of [live, expired, locked]) await store.issue(r);
    await store.verify({ challengeKey: locked.challengeKey, codeHash: 'wrong', now: live.now + 1 });
    const ops = ['get', 'set', 'delete', 'has'] as const;
    const cost = async (challengeKey: string) => {
      const spies = ops.map((op) => vi.spyOn(Map.prototype, op));
      const { status } = await store.verify({ challengeKey, codeHash: 'wrong', now: live.now + 1 });
      const calls = Object.fromEntries(ops.map((op, i) => [op, spies[i]!.mock.calls.length]));
      for (const spy of spies) spy.mockRestore();
      return { status, calls };
    };
    const wrong = await cost(live.challengeKey);
    expect(wrong).toEqual({ status: 'mismatch', calls: { get: 1, set: 1, delete: 0, has: 0 } });
    expect(await cost('never-issued')).toEqual({ ...wrong, status: 'unavailable' });
    expect(await cost(expired.challengeKey)).toEqual({ ...wrong, status: 'expired' });
    expect(await cost(locked.challengeKey)).toEqual({ ...wrong, status: 'unavailable' });
  });
});
