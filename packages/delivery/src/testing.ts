import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
import type { IdempotencyStore } from './idempotency.js';

/** Parts of the idempotency contract an adapter may switch off. */
export type IdempotencyCapability = 'expiry';

/**
 * Options of {@link idempotencyStoreContract}: the shared contract options (`name`, `create`, `inspect`,
 * `timeoutMs`, `concurrency`, `features`), plus a clock for the expiry tests.
 */
export interface IdempotencyStoreContractOptions
  extends ContractOptions<IdempotencyStore, readonly string[], IdempotencyCapability> {
  /**
   * Moves the store's clock forward (a store built on an injected `now`); the expiry part is skipped without
   * it. @default undefined
   */
  advanceTime?: ((ms: number) => void | Promise<void>) | undefined;
}

type Resolved = ResolvedContractOptions<IdempotencyStore, readonly string[], IdempotencyCapability> &
  IdempotencyStoreContractOptions;

let n = 0;
const freshKey = () =>
  `k${Date.now().toString(36)}${(n++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const RESULT = { id: 'SM123', status: 'queued', provider: 'twilio' };

async function withStore(o: Resolved, fn: (store: IdempotencyStore) => Promise<void>): Promise<void> {
  const store = await o.create();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

function reservation(o: Resolved): void {
  const { it, expect } = o;
  it(
    `lets exactly one of ${o.concurrency} concurrent reservations win; the others see it pending`,
    () =>
      withStore(o, async (store) => {
        const k = freshKey();
        const all = await Promise.all(
          Array.from({ length: o.concurrency }, () => store.reserve(k, 'fp', 60_000)),
        );
        expect(all.filter((r) => r.acquired)).toHaveLength(1);
        for (const r of all.filter((x) => !x.acquired)) {
          expect(r).toEqual({ acquired: false, existing: { state: 'pending', fingerprint: 'fp' } });
        }
      }),
    o.timeoutMs,
  );

  it(
    "answers the holder's fingerprint, so a reused key is told apart from a retry",
    () =>
      withStore(o, async (store) => {
        const k = freshKey();
        expect((await store.reserve(k, 'fp-a', 60_000)).acquired).toBe(true);
        expect(await store.reserve(k, 'fp-b', 60_000)).toEqual({
          acquired: false,
          existing: { state: 'pending', fingerprint: 'fp-a' },
        });
      }),
    o.timeoutMs,
  );
}

function completion(o: Resolved): void {
  const { it, expect } = o;
  it(
    'answers the stored result (and fingerprint) once completed',
    () =>
      withStore(o, async (store) => {
        const k = freshKey();
        const r = await store.reserve(k, 'fp', 60_000);
        if (!r.acquired) throw new Error('expected to acquire');
        await store.complete(k, r.token, RESULT, 60_000);
        expect(await store.reserve(k, 'fp', 60_000)).toEqual({
          acquired: false,
          existing: { state: 'done', fingerprint: 'fp', result: RESULT },
        });
        expect(await store.reserve(k, 'other', 60_000)).toEqual({
          acquired: false,
          existing: { state: 'done', fingerprint: 'fp', result: RESULT },
        });
      }),
    o.timeoutMs,
  );
}

function tokens(o: Resolved): void {
  const { it, expect } = o;
  it(
    'frees a key on release, and ignores a token that does not hold it',
    () =>
      withStore(o, async (store) => {
        const k = freshKey();
        const a = await store.reserve(k, 'fp', 60_000);
        if (!a.acquired) throw new Error('expected to acquire');
        await store.release(k, 'not-the-token');
        await store.complete(k, 'not-the-token', RESULT, 60_000);
        expect(await store.reserve(k, 'fp', 60_000)).toEqual({
          acquired: false,
          existing: { state: 'pending', fingerprint: 'fp' },
        });
        await store.release(k, a.token);
        const b = await store.reserve(k, 'fp2', 60_000);
        expect(b.acquired).toBe(true);
        // The first holder lost the key: its late completion must not overwrite the new reservation.
        await store.complete(k, a.token, RESULT, 60_000);
        expect(await store.reserve(k, 'fp2', 60_000)).toEqual({
          acquired: false,
          existing: { state: 'pending', fingerprint: 'fp2' },
        });
      }),
    o.timeoutMs,
  );

  it(
    'closes idempotently',
    async () => {
      const store = await o.create();
      await store.close();
      await store.close();
      await store[Symbol.asyncDispose]();
    },
    o.timeoutMs,
  );
}

function expiry(o: Resolved): void {
  const { it, expect } = o;
  const run = o.has('expiry') && o.advanceTime !== undefined;
  it.skipIf(!run)(
    'frees a pending key after lockMs, and forgets a completed one after ttlMs',
    () =>
      withStore(o, async (store) => {
        const k = freshKey();
        const first = await store.reserve(k, 'fp', 1000);
        if (!first.acquired) throw new Error('expected to acquire');
        await o.advanceTime?.(1001);
        const second = await store.reserve(k, 'fp', 1000);
        if (!second.acquired) throw new Error('expected the expired reservation to be taken over');
        // The first holder's reservation expired: its completion must not land.
        await store.complete(k, first.token, RESULT, 60_000);
        expect((await store.reserve(k, 'fp', 1000)).acquired).toBe(false);
        await store.complete(k, second.token, RESULT, 5000);
        await o.advanceTime?.(4000);
        expect(await store.reserve(k, 'fp', 1000)).toMatchObject({ existing: { state: 'done' } });
        await o.advanceTime?.(1001);
        expect((await store.reserve(k, 'fp', 1000)).acquired).toBe(true);
      }),
    o.timeoutMs,
  );
}

function atRest(o: Resolved): void {
  const { it, expect } = o;
  it.skipIf(!o.inspect)(
    'keeps a row for a live key and none once it is released',
    () =>
      withStore(o, async (store) => {
        const k = freshKey();
        const r = await store.reserve(k, 'fp', 60_000);
        if (!r.acquired) throw new Error('expected to acquire');
        expect((await o.inspect?.())?.some((row) => row.includes(k))).toBe(true);
        await store.release(k, r.token);
        expect((await o.inspect?.())?.some((row) => row.includes(k))).toBe(false);
      }),
    o.timeoutMs,
  );
}

/**
 * The behaviour every {@link IdempotencyStore} must have, split by capability: exactly one of many
 * concurrent reservations wins and the others see the holder's fingerprint, a completed key answers its
 * result, only the holder's token completes or frees a key, keys expire (with `advanceTime`), and a
 * released key leaves nothing behind (with `inspect`). Proving a new store takes a few lines.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { idempotencyStoreContract } from '@app/delivery/testing';
 * idempotencyStoreContract({ describe, it, expect, name: 'my store', create: () => myIdempotencyStore() });
 * ```
 */
export function idempotencyStoreContract(options: IdempotencyStoreContractOptions): void {
  const o = { ...contractOptions(options), advanceTime: options.advanceTime } as Resolved;
  o.describe(`IdempotencyStore contract: ${o.name}`, () => {
    o.describe('reservation', () => reservation(o));
    o.describe('completion', () => completion(o));
    o.describe('tokens', () => tokens(o));
    o.describe('expiry', () => expiry(o));
    o.describe('at rest', () => atRest(o));
  });
}
