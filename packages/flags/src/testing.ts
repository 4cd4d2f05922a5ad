import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
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

/**
 * The parts of the flag-source contract an adapter may switch off with `features`: `propagation` (a change
 * reaches another instance), `delete` (the store can delete; also off when it has no `delete`), `concurrency`
 * (concurrent writers).
 */
export type FlagSourceCapability = 'propagation' | 'delete' | 'concurrency';

/**
 * Options of {@link flagSourceContract}: core's `ContractOptions` (`describe`, `it`, `expect`, `name`, `create`,
 * `inspect`, `timeoutMs`, `concurrency`, `features`). `inspect` reads the backing store directly (key to
 * stored value, JSON text or object), for the checks on what was (not) written.
 */
export interface FlagSourceContractOptions
  extends ContractOptions<FlagSourceFixture, ReadonlyMap<string, unknown>, FlagSourceCapability> {
  /** How long to wait for a change to propagate before failing, in ms. @default 30000 */
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

const parsed = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

type Fixture = Required<Omit<FlagSourceFixture, 'cleanup'>>;
type Open = (s: FlagSource) => Promise<Flags>;
type Suite = ResolvedContractOptions<
  FlagSourceFixture,
  ReadonlyMap<string, unknown>,
  FlagSourceCapability
> & {
  propagationMs: number;
  withFixture: (fn: (f: Fixture, open: Open) => Promise<void>) => () => Promise<void>;
};

function loadingSuite(o: Suite): void {
  const { it, expect } = o;
  it(
    'loads every flag at startup',
    o.withFixture(async ({ store, source, keyPrefix }, open) => {
      await setFlag(store, 'alpha', { enabled: true }, { keyPrefix });
      await setFlag(store, 'beta', { enabled: false }, { keyPrefix });
      const flags = await open(source);
      expect(flags.names()).toEqual(['alpha', 'beta']);
      expect(flags.isEnabled('alpha', { userId: 'u' })).toBe(true);
      expect(flags.evaluate('beta').reason).toBe('DISABLED');
    }),
    o.timeoutMs,
  );

  it(
    'finds a flag written straight into the store when the source lists, and only then',
    o.withFixture(async ({ store, peerSource, keyPrefix }, open) => {
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
    o.timeoutMs,
  );
}

function propagationSuite(o: Suite): void {
  const { it, expect } = o;
  it(
    'propagates a change, a new flag and a delete to another instance',
    o.withFixture(async ({ store, source, peerSource, keyPrefix }, open) => {
      await setFlag(store, 'gamma', { enabled: false }, { keyPrefix });
      const writerSide = await open(source);
      const other = await open(peerSource);
      expect(other.isEnabled('gamma')).toBe(false);
      await setFlag(store, 'gamma', { enabled: true }, { keyPrefix });
      await waitFor(
        () => other.isEnabled('gamma') && writerSide.isEnabled('gamma'),
        o.propagationMs,
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
        o.propagationMs,
        'delta to appear',
      );
      expect(other.getVariant('delta', { userId: 'u' }).payload).toEqual({ n: 1 });
      if (store.delete && o.has('delete')) {
        await deleteFlag(store, 'gamma', { keyPrefix });
        await waitFor(() => !other.names().includes('gamma'), o.propagationMs, 'gamma to be deleted');
        expect(other.evaluate('gamma').errorCode).toBe('FLAG_NOT_FOUND');
        expect(await store.get(flagKeys(keyPrefix).flag('gamma'))).toBe(undefined);
        if (o.inspect) expect((await o.inspect()).has(flagKeys(keyPrefix).flag('gamma'))).toBe(false);
      }
    }),
    o.timeoutMs,
  );
}

function validationSuite(o: Suite): void {
  const { it, expect } = o;
  it(
    'rejects a bad definition before writing anything',
    o.withFixture(async ({ store, keyPrefix }) => {
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
      expect(parsed(stored)).toEqual({ enabled: true, rollout: 50 });
      if (o.inspect) {
        // Straight from the backend: one validated value under the flag's key, nothing for the rejected one.
        const raw = await o.inspect();
        expect(raw.has(keys.flag('fresh'))).toBe(false);
        expect(parsed(raw.get(keys.flag('kept')))).toEqual({ enabled: true, rollout: 50 });
      }
    }),
    o.timeoutMs,
  );

  it(
    'keeps the last good definition when an invalid one is written around the validator',
    o.withFixture(async ({ store, source, peerSource, keyPrefix }, open) => {
      await setFlag(store, 'guarded', { enabled: true }, { keyPrefix });
      const flags = await open(peerSource === source ? source : peerSource);
      await store.set(flagKeys(keyPrefix).flag('guarded'), { enabled: 'maybe' });
      await setFlag(store, 'marker', { enabled: true }, { keyPrefix });
      await waitFor(() => flags.names().includes('marker'), o.propagationMs, 'the marker flag');
      expect(flags.isEnabled('guarded')).toBe(true);
      expect(flags.evaluate('guarded').reason).toBe('DEFAULT');
    }),
    o.timeoutMs,
  );
}

function concurrencySuite(o: Suite, writers: number): void {
  const { it, expect } = o;
  it(
    `a fresh instance finds every flag after ${writers} concurrent writers`,
    o.withFixture(async ({ store, peerSource, keyPrefix }, open) => {
      const width = String(writers - 1).length;
      const names = Array.from(
        { length: writers },
        (_, i) => `flag-${String(i).padStart(Math.max(2, width), '0')}`,
      );
      await Promise.all(names.map((n) => setFlag(store, n, { enabled: true }, { keyPrefix })));
      const fresh = await open(peerSource);
      expect(fresh.names()).toEqual(names);
      const index = await store.get(flagKeys(keyPrefix).index);
      if (canList(store)) {
        // Readers list: no index is written (it would only be a race to lose).
        expect(index).toBe(undefined);
      } else {
        expect(parsed(index)).toEqual(names);
      }
    }),
    o.timeoutMs,
  );
}

/**
 * The behaviour any config source must show for `@app/flags` to work on it, in capability sub-suites:
 * loading (startup load through `list(prefix)` when the source has it, else through the index), propagation
 * to another instance (changes, new flags, deletes), validation (rejected writes leave the store untouched,
 * checked through `inspect` when given; invalid raw writes are ignored) and concurrency (concurrent writers
 * whose flags a fresh instance all finds). Every test takes `timeoutMs`.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * const shared = memoryConfigSource();
 * flagSourceContract({ describe, it, expect, name: 'memory', create: async () => ({ store: shared, source: shared }),
 *   inspect: async () => shared.entries() });
 * ```
 */
export function flagSourceContract(options: FlagSourceContractOptions): void {
  const base = contractOptions(options);
  // 50 writers unless told otherwise: each is a full setFlag round trip through the real store.
  const writers = options.concurrency ?? 50;
  const o: Suite = {
    ...base,
    propagationMs: options.propagationTimeoutMs ?? 30_000,
    withFixture: (fn) => async () => {
      const fixture = await base.create();
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
    },
  };
  o.describe(`@app/flags source contract: ${o.name}`, () => {
    o.describe('loading', () => loadingSuite(o));
    if (o.has('propagation')) o.describe('propagation', () => propagationSuite(o));
    o.describe('validation', () => validationSuite(o));
    if (o.has('concurrency')) o.describe('concurrency', () => concurrencySuite(o, writers));
  });
}
