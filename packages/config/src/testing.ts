import assert from 'node:assert/strict';
import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
import type { ConfigRecord, ConfigStore, JsonValue } from './types.js';

/**
 * Parts of the {@link configStoreContract} an adapter may switch off with `features: { list: false }`:
 * `expiry` (keeps `expiresAt`), `tombstones` (delete semantics), `list` (prefix listing), `races`
 * (concurrent writers). A switched-off part is skipped visibly. Every part is on by default.
 */
export type ConfigStoreCapability = 'expiry' | 'tombstones' | 'list' | 'races';

/** What `inspect` returns: every record at rest (tombstones included) by key, read without the adapter. */
export type ConfigStoreRaw = ReadonlyMap<string, ConfigRecord>;

/** Options of {@link configStoreContract}: the shared contract options of `@app/core/testing`. */
export type ConfigStoreContractOptions = ContractOptions<ConfigStore, ConfigStoreRaw, ConfigStoreCapability>;

type Resolved = ResolvedContractOptions<ConfigStore, ConfigStoreRaw, ConfigStoreCapability>;
/** Registers one test: a fresh store and a key namespace of its own (tests never see each other's keys). */
type Test = (name: string, body: (store: ConfigStore, prefix: string) => Promise<void>) => void;
/** Compares what is at rest for `key` with `expected` (a no-op without `inspect`). */
type CheckRaw = (key: string, expected: ConfigRecord | undefined) => Promise<void>;

let suiteCounter = 0;

/** get, set, versions, JSON round trips, independent keys. */
function basicsSuite(o: Resolved, test: Test, checkRaw: CheckRaw): void {
  o.describe('basics', () => {
    test('get of a key never set is undefined', async (store, p) => {
      assert.equal(await store.get(`${p}missing`), undefined);
      await checkRaw(`${p}missing`, undefined);
    });

    test('set returns the entry with version 1, and get returns it', async (store, p) => {
      const key = `${p}a`;
      const entry = await store.set(key, { on: true, n: 3 });
      assert.deepEqual(entry, {
        key,
        value: { on: true, n: 3 },
        version: 1,
        expiresAt: null,
        deleted: false,
      });
      assert.deepEqual(await store.get(key), entry);
      await checkRaw(key, entry);
    });

    test('every set increases the version by one and replaces the value', async (store, p) => {
      const key = `${p}a`;
      const versions: number[] = [];
      for (const value of ['one', 'two', 'three']) versions.push((await store.set(key, value)).version);
      assert.deepEqual(versions, [1, 2, 3]);
      const got = await store.get(key);
      assert.equal(got?.deleted, false);
      assert.deepEqual(got, { key, value: 'three', version: 3, expiresAt: null, deleted: false });
    });

    test('JSON values round-trip exactly', async (store, p) => {
      const values: JsonValue[] = [
        null,
        false,
        0,
        -1.5,
        Number.MAX_SAFE_INTEGER,
        '',
        'unicode ✓ "quoted" \\ back',
        [],
        [1, 'two', null, { three: [3] }],
        {},
        { nested: { deep: { list: [true, false], empty: {} } }, 'key with spaces': 1 },
      ];
      for (const [i, value] of values.entries()) {
        const key = `${p}v${i}`;
        const entry = await store.set(key, value);
        assert.deepEqual(entry.value, value, `set of ${JSON.stringify(value)}`);
        const got = await store.get(key);
        assert.deepEqual(
          got?.deleted === false ? got.value : 'not live',
          value,
          `get of ${JSON.stringify(value)}`,
        );
        await checkRaw(key, entry);
      }
    });

    test('keys are independent, including one that prefixes another', async (store, p) => {
      await store.set(`${p}a`, 'a');
      await store.set(`${p}a.b`, 'ab');
      await store.delete(`${p}a`);
      assert.deepEqual(await store.get(`${p}a.b`), {
        key: `${p}a.b`,
        value: 'ab',
        version: 1,
        expiresAt: null,
        deleted: false,
      });
    });
  });
}

/** `expiresAt` is kept as given. */
function expirySuite(o: Resolved, test: Test, checkRaw: CheckRaw): void {
  o.describe('expiry', () => {
    test('expiresAt is kept as given, and cleared by a set without it', async (store, p) => {
      const key = `${p}t`;
      const expiresAt = 1_900_000_000_123;
      const entry = await store.set(key, 1, { expiresAt });
      assert.equal(entry.expiresAt, expiresAt);
      assert.equal(((await store.get(key)) as { expiresAt: number | null }).expiresAt, expiresAt);
      await checkRaw(key, entry);
      const again = await store.set(key, 2);
      assert.equal(again.expiresAt, null);
      assert.equal(((await store.get(key)) as { expiresAt: number | null }).expiresAt, null);
    });
  });
}

/** Deletes leave tombstones; versions continue across them. */
function tombstoneSuite(o: Resolved, test: Test, checkRaw: CheckRaw): void {
  o.describe('tombstones', () => {
    test('delete leaves a tombstone with a newer version; a second delete does nothing', async (store, p) => {
      const key = `${p}d`;
      await store.set(key, 'x');
      await store.set(key, 'y');
      const tombstone = await store.delete(key);
      assert.deepEqual(tombstone, { key, version: 3, deleted: true });
      assert.deepEqual(await store.get(key), tombstone);
      await checkRaw(key, tombstone);
      assert.equal(await store.delete(key), undefined);
      assert.deepEqual(await store.get(key), tombstone);
      assert.equal(await store.delete(`${p}never`), undefined);
      assert.equal(await store.get(`${p}never`), undefined);
    });

    test('a set after a delete continues the version sequence', async (store, p) => {
      const key = `${p}r`;
      await store.set(key, 1);
      const tombstone = await store.delete(key);
      const entry = await store.set(key, 2);
      assert.ok(
        tombstone && entry.version > tombstone.version,
        'version after delete must exceed the tombstone',
      );
      assert.deepEqual(await store.get(key), entry);
      await checkRaw(key, entry);
    });
  });
}

/** Literal prefix listing, in key order. */
function listSuite(o: Resolved, test: Test, _checkRaw: CheckRaw): void {
  o.describe('list', () => {
    test('list returns live entries under a literal prefix, ordered by key', async (store, p) => {
      await store.set(`${p}b.2`, 2);
      await store.set(`${p}b.1`, 1);
      await store.set(`${p}b.3`, 3);
      await store.delete(`${p}b.3`);
      await store.set(`${p}bx`, 'not under b.');
      await store.set(`${p}c.1`, 'other');
      // LIKE and glob metacharacters are plain characters in a prefix.
      await store.set(`${p}%_*.1`, 'meta');
      await store.set(`${p}%_*x`, 'meta, other');
      await store.set(`${p}ab_1`, 'would match a%_ as LIKE');
      const listed = await store.list(`${p}b.`);
      assert.deepEqual(
        listed.map((e) => [e.key, e.value, e.version]),
        [
          [`${p}b.1`, 1, 1],
          [`${p}b.2`, 2, 1],
        ],
      );
      assert.deepEqual(
        (await store.list(`${p}%_*.`)).map((e) => e.key),
        [`${p}%_*.1`],
      );
      assert.deepEqual(await store.list(`${p}zzz`), []);
      assert.equal((await store.list(p)).length, 7);
    });
  });
}

/** Concurrent writers get distinct versions. */
function raceSuite(o: Resolved, test: Test, checkRaw: CheckRaw): void {
  o.describe('races', () => {
    test(`${o.concurrency} concurrent sets of one key get distinct versions 1..${o.concurrency}`, async (store, p) => {
      const key = `${p}race`;
      const entries = await Promise.all(Array.from({ length: o.concurrency }, (_, i) => store.set(key, i)));
      const versions = entries.map((e) => e.version).sort((a, b) => a - b);
      assert.deepEqual(
        versions,
        Array.from({ length: o.concurrency }, (_, i) => i + 1),
      );
      const last = entries.find((e) => e.version === o.concurrency);
      const got = await store.get(key);
      assert.deepEqual(got, last, 'the stored value is the one written with the highest version');
      await checkRaw(key, last);
    });

    test('concurrent sets and deletes of one key never reuse a version', async (store, p) => {
      const key = `${p}mixed`;
      await store.set(key, 'start');
      const ops = await Promise.all(
        Array.from({ length: o.concurrency }, (_, i) =>
          i % 3 === 0 ? store.delete(key) : store.set(key, i),
        ),
      );
      const versions = ops.filter((r) => r !== undefined).map((r) => r.version);
      assert.equal(new Set(versions).size, versions.length, 'versions are unique');
      const final = await store.get(key);
      assert.ok(final !== undefined);
      assert.equal(final.version, Math.max(...versions), 'the final record carries the highest version');
    });
  });
}

/**
 * Runs the behaviour every {@link ConfigStore} must have: versions that only grow (across deletes too),
 * tombstones, JSON round trips, literal prefix listing, and atomic concurrent writes, in one sub-suite per
 * capability. Takes the shared {@link ContractOptions} (`timeoutMs` per test, `concurrency` writers in the
 * races, `features` to switch a capability off, `inspect` to check what was written at rest). Assertions use
 * `node:assert`.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { configStoreContract } from '@app/config/testing';
 * import { memoryConfigStore } from '@app/config/memory';
 *
 * configStoreContract({ describe, it, expect, name: 'memory', create: () => memoryConfigStore() });
 * ```
 */
export function configStoreContract(options: ConfigStoreContractOptions): void {
  const o = contractOptions(options);
  const suite = `k${(++suiteCounter).toString(36)}${Math.random().toString(36).slice(2, 7)}`;
  let testCounter = 0;
  /** A key namespace of the current test, so tests never see each other's keys in a shared store. */
  const ns = () => `${suite}-${(++testCounter).toString(36)}.`;
  const test: Test = (name, body) =>
    o.it(
      name,
      async () => {
        const store = await o.create();
        try {
          await body(store, ns());
        } finally {
          await store.close();
        }
      },
      o.timeoutMs,
    );
  const checkRaw: CheckRaw = async (key, expected) => {
    if (!o.inspect) return;
    assert.deepEqual((await o.inspect()).get(key), expected, `raw storage of '${key}'`);
  };
  const parts: [ConfigStoreCapability | undefined, typeof basicsSuite][] = [
    [undefined, basicsSuite],
    ['expiry', expirySuite],
    ['tombstones', tombstoneSuite],
    ['list', listSuite],
    ['races', raceSuite],
  ];
  o.describe(`ConfigStore contract: ${o.name}`, () => {
    for (const [capability, part] of parts) {
      if (capability === undefined || o.has(capability)) part(o, test, checkRaw);
      else o.describe.skip(`${capability} (switched off)`, () => part(o, test, checkRaw));
    }
  });
}
