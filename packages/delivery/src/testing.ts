import type { Closeable } from '@app/core';
import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
import type { IdempotencyStore } from './idempotency.js';
import { storeTest } from './testing-store.js';

export * from './testing-channel.js';
export * from './testing-helpers.js';
export * from './testing-http.js';
export * from './testing-probes.js';
export * from './testing-status.js';

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

/** One test on a fresh store and a fresh key, with the suite's timeout. */
const test = (
  o: Resolved,
  title: string,
  body: (store: IdempotencyStore, key: string) => Promise<void>,
  run = true,
) => storeTest(o, freshKey, title, body, run);

/** Reserves `key` and answers the token; fails the test when the key is not acquired. */
async function acquire(store: IdempotencyStore, key: string, fingerprint = 'fp', lockMs = 60_000) {
  const r = await store.reserve(key, fingerprint, lockMs);
  if (!r.acquired) throw new Error(`expected to acquire '${key}'`);
  return r.token;
}

const pending = (fingerprint: string) => ({ acquired: false, existing: { state: 'pending', fingerprint } });
const done = (fingerprint: string) => ({
  acquired: false,
  existing: { state: 'done', fingerprint, result: RESULT },
});

function reservation(o: Resolved): void {
  const { expect } = o;
  test(
    o,
    `lets exactly one of ${o.concurrency} concurrent reservations win; the others see it pending`,
    async (store, k) => {
      const all = await Promise.all(
        Array.from({ length: o.concurrency }, () => store.reserve(k, 'fp', 60_000)),
      );
      expect(all.filter((r) => r.acquired)).toHaveLength(1);
      for (const r of all.filter((x) => !x.acquired)) expect(r).toEqual(pending('fp'));
    },
  );
  test(
    o,
    "answers the holder's fingerprint, so a reused key is told apart from a retry",
    async (store, k) => {
      await acquire(store, k, 'fp-a');
      expect(await store.reserve(k, 'fp-b', 60_000)).toEqual(pending('fp-a'));
    },
  );
}

function completion(o: Resolved): void {
  const { expect } = o;
  test(o, 'answers the stored result (and fingerprint) once completed', async (store, k) => {
    await store.complete(k, await acquire(store, k), RESULT, 60_000);
    expect(await store.reserve(k, 'fp', 60_000)).toEqual(done('fp'));
    expect(await store.reserve(k, 'other', 60_000)).toEqual(done('fp'));
  });
}

function tokens(o: Resolved): void {
  const { expect } = o;
  test(o, 'frees a key on release, and ignores a token that does not hold it', async (store, k) => {
    const a = await acquire(store, k);
    await store.release(k, 'not-the-token');
    await store.complete(k, 'not-the-token', RESULT, 60_000);
    expect(await store.reserve(k, 'fp', 60_000)).toEqual(pending('fp'));
    await store.release(k, a);
    await acquire(store, k, 'fp2');
    // The first holder lost the key: its late completion must not overwrite the new reservation.
    await store.complete(k, a, RESULT, 60_000);
    expect(await store.reserve(k, 'fp2', 60_000)).toEqual(pending('fp2'));
  });
  o.it(
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
  const { expect } = o;
  const run = o.has('expiry') && o.advanceTime !== undefined;
  const advance = async (ms: number) => o.advanceTime?.(ms);
  test(
    o,
    'frees a pending key after lockMs, and forgets a completed one after ttlMs',
    async (store, k) => {
      const first = await acquire(store, k, 'fp', 1000);
      await advance(1001);
      const second = await acquire(store, k, 'fp', 1000); // the expired reservation is taken over
      // The first holder's reservation expired: its completion must not land.
      await store.complete(k, first, RESULT, 60_000);
      expect((await store.reserve(k, 'fp', 1000)).acquired).toBe(false);
      await store.complete(k, second, RESULT, 5000);
      await advance(4000);
      expect(await store.reserve(k, 'fp', 1000)).toEqual(done('fp'));
      await advance(1001);
      expect((await store.reserve(k, 'fp', 1000)).acquired).toBe(true);
    },
    run,
  );
}

function atRest(o: Resolved): void {
  const { expect } = o;
  const holds = async (k: string) => (await o.inspect?.())?.some((row) => row.includes(k));
  test(
    o,
    'keeps a row for a live key and none once it is released',
    async (store, k) => {
      const token = await acquire(store, k);
      expect(await holds(k)).toBe(true);
      await store.release(k, token);
      expect(await holds(k)).toBe(false);
    },
    o.inspect !== undefined,
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

/** A provider under test with the means to free it: what a channel's provider contract creates per test. */
export interface ProviderSubject {
  /** Frees the subject after its test (closes the provider, servers, clients). @default undefined */
  cleanup?(): Promise<void>;
}

/**
 * Runs `fn` with a fresh subject from `create`, then frees it (`cleanup`), whatever `fn` did: the per-test
 * frame of the channels' provider contracts.
 *
 * @example
 * ```ts
 * it('sends', () => withSubject(options.create, async ({ provider }) => { await provider.send(message); }));
 * ```
 */
export async function withSubject<S extends ProviderSubject>(
  create: () => S | Promise<S>,
  fn: (subject: S) => Promise<void>,
): Promise<void> {
  const subject = await create();
  try {
    await fn(subject);
  } finally {
    await subject.cleanup?.();
  }
}

/**
 * The one Closeable check of every provider contract: `close()` runs twice without error and
 * `[Symbol.asyncDispose]` (what `await using` calls) is there, on the provider a fresh subject holds.
 *
 * @example
 * ```ts
 * closeableProviderTest(o, (subject) => subject.provider);
 * ```
 */
export function closeableProviderTest<S extends ProviderSubject>(
  o: Pick<ContractOptions<S>, 'it' | 'expect' | 'create'> & { timeoutMs: number },
  pick: (subject: S) => Closeable,
): void {
  o.it(
    'is Closeable: close() is idempotent, and await using closes it',
    () =>
      withSubject(o.create, async (subject) => {
        const provider = pick(subject);
        o.expect(typeof provider.close).toBe('function');
        o.expect(typeof provider[Symbol.asyncDispose]).toBe('function');
        await provider.close();
        await provider.close();
        await provider[Symbol.asyncDispose]();
      }),
    o.timeoutMs,
  );
}
