import type { ConfigSource, ConfigWatchCallback, Logger } from '@app/core';
import { isAppError } from '@app/core';
import { describe, expect, it, vi } from 'vitest';
import { createFlags } from './flags.js';
import { flagSourceContract, type MemoryConfigSource, memoryConfigSource } from './testing.js';
import type { FlagDefinition } from './types.js';
import { deleteFlag, setFlag } from './writer.js';

// One source per suite (each test gets a key prefix of its own), so `inspect` can read it raw.
const listing = memoryConfigSource();
flagSourceContract({
  describe,
  it,
  expect,
  name: 'memory, with list',
  create: async () => ({ store: listing, source: listing }),
  inspect: async () => listing.entries(),
});

const plain = memoryConfigSource({}, { list: false });
flagSourceContract({
  describe,
  it,
  expect,
  name: 'memory, without list (the index)',
  create: async () => ({ store: plain, source: plain }),
  inspect: async () => plain.entries(),
});

function recordingLogger() {
  const errors: { obj: object; msg?: string }[] = [];
  const logger: Logger = { debug() {}, info() {}, warn() {}, error: (obj, msg) => errors.push({ obj, msg }) };
  return { logger, errors };
}

describe('createFlags', () => {
  it('runs the README quickstart: write validated, evaluate from the snapshot', async () => {
    const source = memoryConfigSource();
    await setFlag(source, 'new-checkout', {
      enabled: true,
      rollout: 20,
      overrides: { 'u-vip': true },
      rules: [
        {
          name: 'staff',
          conditions: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@acme.com'] }],
        },
      ],
      variants: [
        { name: 'one-page', weight: 50, payload: { steps: 1 } },
        { name: 'two-page', weight: 50, payload: { steps: 2 } },
      ],
    });
    await using flags = createFlags({ source });
    await flags.ready();
    expect(flags.isEnabled('new-checkout', { userId: 'u-vip' })).toBe(true);
    expect(flags.evaluate('new-checkout', { userId: 'x', email: 'bo@acme.com' })).toMatchObject({
      enabled: true,
      reason: 'TARGETING_MATCH',
      ruleName: 'staff',
    });
    expect(['one-page', 'two-page']).toContain(flags.getVariant('new-checkout', { userId: 'u-vip' }).name);
    expect(flags.getVariant('nope')).toEqual({ name: 'disabled', enabled: false });
    expect(flags.evaluate('nope')).toEqual({
      flag: 'nope',
      enabled: false,
      reason: 'ERROR',
      errorCode: 'FLAG_NOT_FOUND',
      errorMessage: 'flag "nope" is not defined',
    });
    expect(Object.keys(flags.evaluateAll({ userId: 'u-vip' }))).toEqual(['new-checkout']);
    // The source lists, so no index is written: one key, one value.
    expect(source.entries()).toEqual(
      new Map<string, unknown>([
        ['flags.new-checkout', expect.objectContaining({ enabled: true, rollout: 20 })],
      ]),
    );
  });

  it('does no I/O per evaluation', async () => {
    const inner = memoryConfigSource();
    await setFlag(inner, 'a', { enabled: true, rollout: 50 });
    const get = vi.fn(inner.get);
    const flags = createFlags({ source: { get, watch: inner.watch } });
    await flags.ready();
    const calls = get.mock.calls.length;
    for (let i = 0; i < 10_000; i++) flags.evaluate('a', { userId: `u${i}` });
    for (let i = 0; i < 10_000; i++) flags.isEnabled('a', { userId: `u${i}` });
    expect(get.mock.calls.length).toBe(calls);
    await flags.close();
  });

  it('follows changes live, tells listeners, and stops after close', async () => {
    const source = memoryConfigSource();
    await setFlag(source, 'a', { enabled: false });
    const flags = createFlags({ source });
    await flags.ready();
    const changes: string[][] = [];
    flags.onChange((c) => changes.push(c.flags));
    await setFlag(source, 'a', { enabled: true });
    expect(flags.isEnabled('a')).toBe(true);
    await setFlag(source, 'b', { enabled: true });
    await vi.waitFor(() => expect(flags.names()).toEqual(['a', 'b']));
    await deleteFlag(source, 'a');
    expect(flags.names()).toEqual(['b']);
    expect(changes).toEqual([['a'], ['b'], ['a']]);
    await flags.close();
    await setFlag(source, 'b', { enabled: false });
    expect(flags.isEnabled('b')).toBe(true);
    expect(changes.length).toBe(3);
  });

  it('a value pushed while a load is in flight wins over the slower read', async () => {
    let release!: (v: unknown) => void;
    const watchers: ConfigWatchCallback[] = [];
    const source: ConfigSource = {
      async get(key) {
        if (key === 'flags._index') return ['slow'];
        return new Promise((r) => {
          release = r;
        });
      },
      watch(_key, cb) {
        watchers.push(cb);
        return () => {};
      },
    };
    const flags = createFlags({ source });
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    expect(flags.evaluate('slow').errorCode).toBe('PROVIDER_NOT_READY');
    for (const w of watchers) w({ enabled: true }, 'flags.slow');
    release({ enabled: false });
    await flags.ready();
    expect(flags.isEnabled('slow')).toBe(true);
  });

  it('rejects invalid stored definitions: PARSE_ERROR at startup, last good kept afterwards', async () => {
    const { logger, errors } = recordingLogger();
    const source = memoryConfigSource({
      'flags._index': JSON.stringify(['broken', 'text', 'good']),
      'flags.broken': { enabled: true, rollout: 500 },
      'flags.text': JSON.stringify({ enabled: true }),
      'flags.good': { enabled: true },
    });
    const flags = createFlags({ source, logger });
    await flags.ready();
    expect(flags.evaluate('broken')).toMatchObject({
      enabled: false,
      reason: 'ERROR',
      errorCode: 'PARSE_ERROR',
    });
    expect(flags.isEnabled('text')).toBe(true);
    await source.set('flags.good', '{not json');
    expect(flags.isEnabled('good')).toBe(true);
    expect(errors.map((e) => (e.obj as { flag: string }).flag)).toEqual(['broken', 'good']);
    await flags.close();
  });

  it('reports a failing source through ready() as SOURCE_ERROR with the cause', async () => {
    const boom = new Error('connection refused');
    const flags = createFlags({
      source: {
        get: async () => {
          throw boom;
        },
        watch: () => () => {},
      },
    });
    const error = await flags.ready().catch((e: unknown) => e);
    expect(isAppError(error, '@app/flags', 'SOURCE_ERROR')).toBe(true);
    expect((error as Error).cause).toBe(boom);
  });

  it('loads an explicit list without an index and ignores other flags', async () => {
    const source = memoryConfigSource({ 'flags.a': { enabled: true }, 'flags.b': { enabled: true } });
    const flags = createFlags({ source, flags: ['a'] });
    await flags.ready();
    expect(flags.names()).toEqual(['a']);
    await source.set('flags.b', { enabled: false });
    await source.set('flags._index', ['b']);
    expect(flags.names()).toEqual(['a']);
    await flags.close();
  });

  it('without list, drops a flag removed from the index', async () => {
    const source = memoryConfigSource({}, { list: false });
    await setFlag(source, 'a', { enabled: true });
    await setFlag(source, 'b', { enabled: true });
    const flags = createFlags({ source });
    await flags.ready();
    await source.set('flags._index', ['b']);
    expect(flags.names()).toEqual(['b']);
    await flags.close();
  });

  it('supports a custom prefix, watched with "*" when it does not end in "."', async () => {
    const source = memoryConfigSource();
    const watch = vi.spyOn(source, 'watch');
    await setFlag(source, 'a', { enabled: true }, { keyPrefix: 'app:flags:' });
    const flags = createFlags({ source, keyPrefix: 'app:flags:' });
    await flags.ready();
    expect(watch).toHaveBeenCalledWith('app:flags:*', expect.any(Function));
    expect([...source.entries().keys()]).toEqual(['app:flags:a']);
    await setFlag(source, 'a', { enabled: false }, { keyPrefix: 'app:flags:' });
    expect(flags.isEnabled('a')).toBe(false);
    await flags.close();
  });

  it('throws on bad options before touching the source', () => {
    const source = { get: vi.fn(), watch: vi.fn(() => () => {}) };
    expect(() => createFlags({ source: {} as ConfigSource })).toThrow(/needs a `source`/);
    expect(() => createFlags({ source, keyPrefix: '' })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTIONS' }),
    );
    expect(() => createFlags({ source, flags: ['ok', 'not ok'] })).toThrow(
      expect.objectContaining({ code: 'INVALID_FLAG_NAME' }),
    );
    expect(source.get).not.toHaveBeenCalled();
    expect(source.watch).not.toHaveBeenCalled();
  });

  it('hands out frozen definitions', async () => {
    const source = memoryConfigSource();
    await setFlag(source, 'a', { enabled: true, variants: [{ name: 'v', weight: 1, payload: { n: 1 } }] });
    const flags = createFlags({ source });
    await flags.ready();
    const def = flags.definition('a')!;
    expect(Object.isFrozen(def) && Object.isFrozen(def.variants![0]!.payload)).toBe(true);
    await flags.close();
  });
});

describe('setFlag / deleteFlag', () => {
  it('rejects a bad definition with no write at all', async () => {
    const source = memoryConfigSource();
    const set = vi.spyOn(source, 'set');
    await expect(setFlag(source, 'x', { enabled: true, rollout: 101 })).rejects.toMatchObject({
      code: 'INVALID_DEFINITION',
    });
    await expect(setFlag(source, 'bad name', { enabled: true })).rejects.toMatchObject({
      code: 'INVALID_FLAG_NAME',
    });
    expect(set).not.toHaveBeenCalled();
    expect(source.entries().size).toBe(0);
  });

  it('writes the clean copy (unknown fields never reach the store)', async () => {
    const source = memoryConfigSource();
    const written = await setFlag(source, 'x', { enabled: true, rollout: 5, description: 'd' });
    expect(written).toEqual({ enabled: true, rollout: 5, description: 'd' });
    expect(source.entries().get('flags.x')).toEqual(written);
  });

  it('without list, keeps all 1,000 names in the index under 1,000 concurrent writers in one process', async () => {
    const source = memoryConfigSource({}, { list: false });
    const names = Array.from({ length: 1000 }, (_, i) => `f${String(i).padStart(4, '0')}`);
    await Promise.all(names.map((n) => setFlag(source, n, { enabled: true } as FlagDefinition)));
    expect(source.entries().get('flags._index')).toEqual(names);
    const flags = createFlags({ source });
    await flags.ready();
    expect(flags.names().length).toBe(1000);
    await flags.close();
  });

  it('deleteFlag needs a store with delete', async () => {
    const source = memoryConfigSource();
    await expect(deleteFlag({ get: source.get, set: source.set }, 'a')).rejects.toMatchObject({
      code: 'INVALID_OPTIONS',
    });
  });

  it('with a store that lists, 1,000 concurrent writers write no index and a fresh instance finds all', async () => {
    const source = memoryConfigSource();
    const names = Array.from({ length: 1000 }, (_, i) => `f${String(i).padStart(4, '0')}`);
    await Promise.all(names.map((n) => setFlag(source, n, { enabled: true })));
    expect(source.entries().has('flags._index')).toBe(false);
    const flags = createFlags({ source });
    await flags.ready();
    expect(flags.names()).toEqual(names);
    await flags.close();
  });

  it('writeIndex: true keeps the index for readers that cannot list, even on a store that lists', async () => {
    const source = memoryConfigSource();
    const plainReader = { get: source.get, watch: source.watch }; // a ConfigSource without list
    await setFlag(source, 'listed-only', { enabled: true });
    await setFlag(source, 'indexed', { enabled: true }, { writeIndex: true });
    expect(source.entries().get('flags._index')).toEqual(['indexed']);
    const flags = createFlags({ source: plainReader });
    await flags.ready();
    expect(flags.names()).toEqual(['indexed']);
    await deleteFlag(source, 'indexed', { writeIndex: true });
    expect(source.entries().get('flags._index')).toEqual([]);
    expect(flags.names()).toEqual([]);
    await flags.close();
    const set = vi.spyOn(source, 'set');
    await expect(
      setFlag(source, 'x', { enabled: true }, { writeIndex: 'yes' as unknown as boolean }),
    ).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
    expect(set).not.toHaveBeenCalled();
  });
});

describe('createFlags with a source that lists', () => {
  it('finds the flags with one list call: no index, no get, and new keys are followed live', async () => {
    const source = memoryConfigSource({
      'flags._index': ['ghost'], // stale: never read
      'flags.a': { enabled: true },
      'flags.b': JSON.stringify({ enabled: false }),
      'flags.bad name': { enabled: true }, // not a flag name: ignored
      'flagsx.c': { enabled: true }, // outside the prefix
    });
    const get = vi.spyOn(source, 'get');
    const list = vi.spyOn(source as Required<MemoryConfigSource>, 'list');
    const flags = createFlags({ source });
    await flags.ready();
    expect(flags.names()).toEqual(['a', 'b']);
    expect(list.mock.calls).toEqual([['flags.']]);
    expect(get).not.toHaveBeenCalled();

    await source.set('flags._index', []); // index events change nothing
    expect(flags.names()).toEqual(['a', 'b']);
    await source.set('flags.c', { enabled: true }); // written around setFlag, and not indexed
    expect(flags.names()).toEqual(['a', 'b', 'c']);
    await source.delete('flags.a');
    expect(flags.names()).toEqual(['b', 'c']);
    await flags.close();
  });

  it('changes pushed while the listing is read win over it', async () => {
    let release!: (listing: Map<string, { value: unknown }>) => void;
    const watchers: ConfigWatchCallback[] = [];
    const source = {
      get: vi.fn(async () => undefined),
      list: () =>
        new Promise<Map<string, { value: unknown }>>((r) => {
          release = r;
        }),
      watch(_key: string, cb: ConfigWatchCallback) {
        watchers.push(cb);
        return () => {};
      },
    };
    const flags = createFlags({ source });
    await vi.waitFor(() => expect(release).toBeTypeOf('function'));
    for (const w of watchers) {
      w({ enabled: true }, 'flags.updated');
      w(undefined, 'flags.deleted');
    }
    release(
      new Map([
        ['flags.updated', { value: { enabled: false } }],
        ['flags.deleted', { value: { enabled: true } }],
        ['flags.untouched', { value: { enabled: true } }],
      ]),
    );
    await flags.ready();
    expect(flags.names()).toEqual(['untouched', 'updated']);
    expect(flags.isEnabled('updated')).toBe(true);
    expect(source.get).not.toHaveBeenCalled();
  });

  it('reports a failing or malformed list() through ready() as SOURCE_ERROR', async () => {
    const boom = new Error('db down');
    const watch = () => () => {};
    const failing = createFlags({
      source: {
        get: async () => undefined,
        watch,
        list: async () => {
          throw boom;
        },
      },
    });
    await expect(failing.ready()).rejects.toMatchObject({ code: 'SOURCE_ERROR', cause: boom });
    for (const bad of [['flags.a'], new Map([['flags.a', { enabled: true }]]), null]) {
      const flags = createFlags({
        source: { get: async () => undefined, watch, list: async () => bad as never },
      });
      await expect(flags.ready()).rejects.toMatchObject({
        code: 'SOURCE_ERROR',
        message: expect.stringMatching(/list\(prefix\) must resolve to a Map/),
      });
    }
  });

  it('with an explicit `flags` list, reads those keys and does not list', async () => {
    const source = memoryConfigSource({ 'flags.a': { enabled: true }, 'flags.b': { enabled: true } });
    const list = vi.spyOn(source as Required<MemoryConfigSource>, 'list');
    const flags = createFlags({ source, flags: ['a'] });
    await flags.ready();
    expect(flags.names()).toEqual(['a']);
    expect(list).not.toHaveBeenCalled();
    await flags.close();
  });
});
