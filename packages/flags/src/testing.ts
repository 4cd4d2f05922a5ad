import { createFlags, type FlagSource, type Flags } from './flags.js';
import { canList, flagKeys } from './keys.js';
import type { FlagDefinition } from './types.js';
import bucketing from './vectors/bucketing.json' with { type: 'json' };
import { deleteFlag, type FlagStore, setFlag } from './writer.js';

export type { MemoryConfigSource, MemoryConfigSourceOptions } from './memory-source.js';
export { memoryConfigSource } from './memory-source.js';

/** One ASCII bucketing vector: identical in Unleash (every SDK) and @app/flags. */
export interface BucketingVector {
  groupId: string;
  id: string;
  /** MurmurHash3 x86_32 of `${groupId}:${id}`, seed 0. */
  murmur3: number;
  /** The same with Unleash's variant seed, 86028157. */
  murmur3VariantSeed: number;
  /** `murmur3 % 100 + 1`: inside a rollout of p% when `rolloutBucket <= p`. */
  rolloutBucket: number;
  /** `murmur3VariantSeed % 1000 + 1`: the variant target for weights adding up to 1000. */
  variantBucket1000: number;
}

/** One non-ASCII vector: hashed as UTF-8; unleash-client for Node (which hashes UTF-16 low bytes) differs. */
export interface Utf8BucketingVector {
  groupId: string;
  id: string;
  murmur3: number;
  rolloutBucket: number;
  /** What unleash-client for Node computes instead. */
  unleashNodeRolloutBucket: number;
}

/**
 * The published bucketing vectors (also in the README). Generated from unleash-client and the `murmurhash`
 * package, not from this package's code.
 *
 * @example
 * ```ts
 * for (const v of BUCKETING_VECTORS.ascii) expect(rolloutBucket(v.groupId, v.id)).toBe(v.rolloutBucket);
 * ```
 */
export const BUCKETING_VECTORS: { ascii: BucketingVector[]; utf8: Utf8BucketingVector[] } = {
  ascii: bucketing.ascii,
  utf8: bucketing.utf8,
};

/** The parts of vitest (or jest) the contract suite uses, passed in so this module never imports a runner. */
export interface ContractRunner {
  /** The test runner's `describe`. */
  describe(name: string, fn: () => void): void;
  /** The test runner's `it`. */
  it(name: string, fn: () => Promise<void>, timeout?: number): void;
  /** The test runner's `expect` (only `toEqual` and `toBe` are used). */
  expect(actual: unknown): { toEqual(expected: unknown): void; toBe(expected: unknown): void };
}

/** What the contract suite needs from the source under test. */
export interface FlagSourceFixture {
  /** Where the suite writes definitions (for `@app/config`: the service). */
  store: FlagStore;
  /** The source a first instance of `createFlags` reads. */
  source: FlagSource;
  /**
   * The source a second instance reads: another connection or process view of the same data, to prove a
   * change on one instance reaches the other. @default source
   */
  peerSource?: FlagSource;
  /** The key prefix to use, so runs don't collide. @default a fresh 'flags-contract-<n>.' */
  keyPrefix?: string;
  /** Called after each test. */
  cleanup?: () => Promise<void>;
}

/** Options of {@link flagSourceContract}. */
export interface FlagSourceContractOptions extends ContractRunner {
  /** Shown in the suite name, e.g. 'memory' or 'redis'. */
  name: string;
  /** Builds a fresh fixture for each test. */
  create: () => Promise<FlagSourceFixture>;
  /** How long to wait for a change to propagate before failing, in ms. @default 5000 */
  propagationTimeoutMs?: number;
}

let contractRun = 0;

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * The behaviour any config source must show for `@app/flags` to work on it: startup load (through
 * `list(prefix)` when the source has it, else through the index), live propagation to another instance,
 * deletes, rejected writes that leave the store untouched, and concurrent writers whose flags a fresh
 * instance all finds. Checks the store directly, not only through flags.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * flagSourceContract({ describe, it, expect, name: 'memory', create: async () => {
 *   const source = memoryConfigSource();
 *   return { store: source, source };
 * } });
 * ```
 */
export function flagSourceContract(options: FlagSourceContractOptions): void {
  const { describe, it, expect, name, create } = options;
  const timeout = options.propagationTimeoutMs ?? 5000;

  const withFixture =
    (
      fn: (
        f: Required<Omit<FlagSourceFixture, 'cleanup'>>,
        open: (s: FlagSource) => Promise<Flags>,
      ) => Promise<void>,
    ) =>
    async () => {
      const fixture = await create();
      const keyPrefix = fixture.keyPrefix ?? `flags-contract-${++contractRun}.`;
      const opened: Flags[] = [];
      const open = async (source: FlagSource) => {
        const flags = createFlags({ source, keyPrefix });
        opened.push(flags);
        await flags.ready();
        return flags;
      };
      try {
        await fn(
          {
            store: fixture.store,
            source: fixture.source,
            peerSource: fixture.peerSource ?? fixture.source,
            keyPrefix,
          },
          open,
        );
      } finally {
        for (const f of opened) await f.close();
        await fixture.cleanup?.();
      }
    };

  describe(`@app/flags source contract: ${name}`, () => {
    it(
      'loads every flag at startup',
      withFixture(async ({ store, source, keyPrefix }, open) => {
        await setFlag(store, 'alpha', { enabled: true }, { keyPrefix });
        await setFlag(store, 'beta', { enabled: false }, { keyPrefix });
        const flags = await open(source);
        expect(flags.names()).toEqual(['alpha', 'beta']);
        expect(flags.isEnabled('alpha', { userId: 'u' })).toBe(true);
        expect(flags.evaluate('beta').reason).toBe('DISABLED');
      }),
      timeout * 2,
    );

    it(
      'propagates a change, a new flag and a delete to another instance',
      withFixture(async ({ store, source, peerSource, keyPrefix }, open) => {
        await setFlag(store, 'gamma', { enabled: false }, { keyPrefix });
        const writerSide = await open(source);
        const other = await open(peerSource);
        expect(other.isEnabled('gamma')).toBe(false);
        await setFlag(store, 'gamma', { enabled: true }, { keyPrefix });
        await waitFor(
          () => other.isEnabled('gamma') && writerSide.isEnabled('gamma'),
          timeout,
          'gamma to turn on',
        );
        await setFlag(
          store,
          'delta',
          { enabled: true, variants: [{ name: 'v', weight: 1, payload: { n: 1 } }] },
          { keyPrefix },
        );
        await waitFor(
          () => other.getVariant('delta', { userId: 'u' }).name === 'v',
          timeout,
          'delta to appear',
        );
        expect(other.getVariant('delta', { userId: 'u' }).payload).toEqual({ n: 1 });
        if (store.delete) {
          await deleteFlag(store, 'gamma', { keyPrefix });
          await waitFor(() => !other.names().includes('gamma'), timeout, 'gamma to be deleted');
          expect(other.evaluate('gamma').errorCode).toBe('FLAG_NOT_FOUND');
          expect(await store.get(flagKeys(keyPrefix).flag('gamma'))).toBe(undefined);
        }
      }),
      timeout * 4,
    );

    it(
      'rejects a bad definition before writing anything',
      withFixture(async ({ store, keyPrefix }) => {
        const keys = flagKeys(keyPrefix);
        await setFlag(store, 'kept', { enabled: true, rollout: 50 }, { keyPrefix });
        const indexBefore = await store.get(keys.index);
        let code: unknown;
        try {
          await setFlag(store, 'kept', { enabled: true, rollout: 150 } as FlagDefinition, { keyPrefix });
        } catch (error) {
          code = (error as { code?: unknown }).code;
        }
        expect(code).toBe('INVALID_DEFINITION');
        try {
          await setFlag(store, 'fresh', { enabled: 'yes' } as unknown as FlagDefinition, { keyPrefix });
        } catch (error) {
          code = (error as { code?: unknown }).code;
        }
        expect(code).toBe('INVALID_DEFINITION');
        expect(await store.get(keys.flag('fresh'))).toBe(undefined);
        expect(await store.get(keys.index)).toEqual(indexBefore);
        const stored = await store.get(keys.flag('kept'));
        expect(typeof stored === 'string' ? JSON.parse(stored) : stored).toEqual({
          enabled: true,
          rollout: 50,
        });
      }),
      timeout * 2,
    );

    it(
      'a fresh instance finds every flag after 50 concurrent writers',
      withFixture(async ({ store, peerSource, keyPrefix }, open) => {
        const names = Array.from({ length: 50 }, (_, i) => `flag-${String(i).padStart(2, '0')}`);
        await Promise.all(names.map((n) => setFlag(store, n, { enabled: true }, { keyPrefix })));
        const fresh = await open(peerSource);
        expect(fresh.names()).toEqual(names);
        const index = await store.get(flagKeys(keyPrefix).index);
        if (canList(store)) {
          // Readers list: no index is written (it would only be a race to lose).
          expect(index).toBe(undefined);
        } else {
          expect(typeof index === 'string' ? JSON.parse(index) : index).toEqual(names);
        }
      }),
      timeout * 4,
    );

    it(
      'finds a flag written straight into the store when the source lists, and only then',
      withFixture(async ({ store, peerSource, keyPrefix }, open) => {
        await store.set(flagKeys(keyPrefix).flag('unindexed'), { enabled: true });
        const fresh = await open(peerSource);
        if (canList(peerSource)) {
          expect(fresh.names()).toEqual(['unindexed']);
          expect(fresh.isEnabled('unindexed', { userId: 'u' })).toBe(true);
        } else {
          // Without list, the index is the only way to find a flag, and nobody wrote this one there.
          expect(fresh.names()).toEqual([]);
        }
      }),
      timeout * 2,
    );

    it(
      'keeps the last good definition when an invalid one is written around the validator',
      withFixture(async ({ store, source, peerSource, keyPrefix }, open) => {
        await setFlag(store, 'guarded', { enabled: true }, { keyPrefix });
        const flags = await open(peerSource === source ? source : peerSource);
        await store.set(flagKeys(keyPrefix).flag('guarded'), { enabled: 'maybe' });
        await setFlag(store, 'marker', { enabled: true }, { keyPrefix });
        await waitFor(() => flags.names().includes('marker'), timeout, 'the marker flag');
        expect(flags.isEnabled('guarded')).toBe(true);
        expect(flags.evaluate('guarded').reason).toBe('DEFAULT');
      }),
      timeout * 2,
    );
  });
}
