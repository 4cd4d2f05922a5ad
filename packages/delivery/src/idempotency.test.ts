import { silentLogger } from '@app/core';
import { describe, expect, it } from 'vitest';
import { memoryIdempotencyStore } from './adapters/memory.js';
import { fingerprintOf, type IdempotencyErrors, sendOnce } from './idempotency.js';

class TestError extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}
const errors: IdempotencyErrors = {
  invalidKey: () => new TestError('INVALID_KEY'),
  conflict: () => new TestError('CONFLICT'),
  inProgress: () => new TestError('IN_PROGRESS'),
  timeout: () => new TestError('TIMEOUT'),
  unavailable: () => new TestError('UNAVAILABLE'),
};
const base = { errors, logger: silentLogger };

describe('fingerprintOf', () => {
  it('is stable, differs by content and digests bytes by value', () => {
    expect(fingerprintOf(['+1', 'a'])).toBe(fingerprintOf(['+1', 'a']));
    expect(fingerprintOf(['+1', 'a'])).not.toBe(fingerprintOf(['+1', 'b']));
    expect(fingerprintOf({ b: new Uint8Array([1]) })).toBe(fingerprintOf({ b: new Uint8Array([1]) }));
    expect(fingerprintOf({ b: new Uint8Array([1]) })).not.toBe(fingerprintOf({ b: new Uint8Array([2]) }));
  });
});

describe('sendOnce', () => {
  it("fails with the channel's unavailable error, sending nothing, when the store cannot reserve", async () => {
    const store = memoryIdempotencyStore();
    store.reserve = () => Promise.reject(new Error('connection refused'));
    let sent = 0;
    const error = await sendOnce({
      ...base,
      idempotency: { store },
      key: 'k-down',
      fingerprint: 'fp',
      send: async () => ++sent,
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(sent).toBe(0);
  });

  it('sends once, then answers the kept result as a duplicate', async () => {
    const store = memoryIdempotencyStore();
    let sends = 0;
    const call = () =>
      sendOnce({
        ...base,
        idempotency: { store },
        key: 'k',
        fingerprint: 'fp',
        send: async () => ({ id: `m${++sends}`, extra: 'not kept' }),
        keep: (r) => ({ id: r.id }),
      });
    expect(await call()).toEqual({ duplicate: false, result: { id: 'm1', extra: 'not kept' } });
    expect(await call()).toEqual({ duplicate: true, result: { id: 'm1' } });
    expect(sends).toBe(1);
  });

  it('refuses a bad key, a reused key, and a key still pending after waitMs', async () => {
    const store = memoryIdempotencyStore();
    const attempt = (key: string, fingerprint: string, waitMs = 0) =>
      sendOnce({
        ...base,
        idempotency: { store, waitMs, pollMs: 1 },
        key,
        fingerprint,
        send: () => new Promise(() => {}),
      }).catch((e: TestError) => e.code);
    expect(await attempt('', 'fp')).toBe('INVALID_KEY');
    expect(await attempt('x'.repeat(257), 'fp')).toBe('INVALID_KEY');
    void attempt('held', 'fp');
    await new Promise((r) => setImmediate(r));
    expect(await attempt('held', 'other')).toBe('CONFLICT');
    expect(await attempt('held', 'fp', 10)).toBe('IN_PROGRESS');
  });

  it('a waiting call answers the first call’s result once it is done', async () => {
    const store = memoryIdempotencyStore();
    let finish: (v: { id: string }) => void = () => {};
    const first = sendOnce({
      ...base,
      idempotency: { store },
      key: 'w',
      fingerprint: 'fp',
      send: () => new Promise((resolve) => (finish = resolve)),
    });
    await new Promise((r) => setImmediate(r));
    const second = sendOnce({
      ...base,
      idempotency: { store, waitMs: 60_000, pollMs: 1 },
      key: 'w',
      fingerprint: 'fp',
      send: async () => ({ id: 'never' }),
    });
    finish({ id: 'm1' });
    expect(await first).toEqual({ duplicate: false, result: { id: 'm1' } });
    expect(await second).toEqual({ duplicate: true, result: { id: 'm1' } });
  });

  it('frees the key when the send fails, so the call can be made again', async () => {
    const store = memoryIdempotencyStore();
    const failing = sendOnce({
      ...base,
      idempotency: { store },
      key: 'f',
      fingerprint: 'fp',
      send: async () => {
        throw new Error('provider down');
      },
    });
    await expect(failing).rejects.toThrow('provider down');
    expect((await store.reserve('f', 'fp', 1000)).acquired).toBe(true);
  });

  it('aborts the lock signal at half of lockMs with the package timeout error', async () => {
    const store = memoryIdempotencyStore();
    const outcome = await sendOnce({
      ...base,
      idempotency: { store, lockMs: 20 },
      key: 't',
      fingerprint: 'fp',
      send: (lock) =>
        new Promise((_, reject) => {
          lock.addEventListener('abort', () => reject(lock.reason));
        }),
    }).catch((e: TestError) => e.code);
    expect(outcome).toBe('TIMEOUT');
    expect((await store.reserve('t', 'fp', 1000)).acquired).toBe(true);
  });
});
