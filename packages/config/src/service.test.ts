import type { ConfigSource } from '@app/core';
import { closeable, isAppError } from '@app/core';
import * as v from 'valibot';
import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import { z } from 'zod';
import { memoryConfigStore } from './adapters/memory.js';
import {
  ConfigError,
  ConfigErrorCode,
  type ConfigRecord,
  type ConfigStore,
  type ConfigSyncListener,
  createConfigService,
  inProcessConfigSync,
} from './index.js';

/** A store that counts calls and can be slowed down or broken. */
function instrumented(inner: ConfigStore = memoryConfigStore()) {
  const calls = { get: 0, set: 0, delete: 0, list: 0 };
  let gate: Promise<void> | undefined;
  let failure: Error | undefined;
  const store: ConfigStore = {
    async get(key) {
      calls.get++;
      if (gate) await gate;
      if (failure) throw failure;
      return inner.get(key);
    },
    async set(key, value, options) {
      calls.set++;
      if (failure) throw failure;
      return inner.set(key, value, options);
    },
    async delete(key) {
      calls.delete++;
      if (failure) throw failure;
      return inner.delete(key);
    },
    async list(prefix) {
      calls.list++;
      if (failure) throw failure;
      return inner.list(prefix);
    },
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
  return {
    store,
    inner,
    calls,
    hold() {
      let release!: () => void;
      gate = new Promise((r) => {
        release = r;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
    fail(error: Error | undefined) {
      failure = error;
    },
  };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

/** One macrotask turn, for the checks that something did not happen (a wait needs a thing to wait on). */
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('createConfigService: reads and writes', () => {
  it('sets, gets, defaults and deletes', async () => {
    const config = createConfigService({ store: memoryConfigStore() });
    expect(await config.get('a')).toBeUndefined();
    expect(await config.get('a', 'fallback')).toBe('fallback');
    expect(await config.set('a', { n: 1 })).toBe(1);
    expect(await config.get('a')).toEqual({ n: 1 });
    expect(await config.set('a', { n: 2 })).toBe(2);
    expect(await config.get('a', { n: 0 })).toEqual({ n: 2 });
    expect(await config.delete('a')).toBe(true);
    expect(await config.get('a', 'gone')).toBe('gone');
    expect(await config.delete('a')).toBe(false);
    // Falsy values are values, not misses.
    await config.set('zero', 0);
    await config.set('nil', null);
    expect(await config.get('zero', 5)).toBe(0);
    expect(await config.get('nil', 5)).toBeNull();
    await config.close();
  });

  it('never shares objects with the caller: values are copied in and frozen out', async () => {
    const config = createConfigService({ store: memoryConfigStore() });
    const value = { list: [1] };
    await config.set('k', value);
    value.list.push(2);
    expect(Object.isFrozen(value)).toBe(false);
    const got = (await config.get('k')) as { list: number[] };
    expect(got).toEqual({ list: [1] });
    expect(Object.isFrozen(got.list)).toBe(true);
    expect(() => got.list.push(3)).toThrow();
  });

  it('rejects bad input with a typed error before any I/O', async () => {
    const s = instrumented();
    const config = createConfigService({ store: s.store });
    const bad: [() => Promise<unknown>, string][] = [
      [() => config.get(''), ConfigErrorCode.INVALID_KEY],
      [() => config.get('a\nb'), ConfigErrorCode.INVALID_KEY],
      [() => config.get('x'.repeat(513)), ConfigErrorCode.INVALID_KEY],
      [() => config.get(42 as unknown as string), ConfigErrorCode.INVALID_KEY],
      [() => config.set('', 1), ConfigErrorCode.INVALID_KEY],
      [() => config.set('k', undefined as unknown as null), ConfigErrorCode.INVALID_VALUE],
      [() => config.set('k', Number.NaN), ConfigErrorCode.INVALID_VALUE],
      [() => config.set('k', new Date() as unknown as string), ConfigErrorCode.INVALID_VALUE],
      [() => config.set('k', { f: () => 1 } as unknown as null), ConfigErrorCode.INVALID_VALUE],
      [() => config.set('k', 1, { ttlMs: 0 }), ConfigErrorCode.INVALID_OPTIONS],
      [() => config.set('k', 1, { ttlMs: 1.5 }), ConfigErrorCode.INVALID_OPTIONS],
      [() => config.delete(''), ConfigErrorCode.INVALID_KEY],
      [() => config.list(''), ConfigErrorCode.INVALID_KEY],
      [() => config.list('a\u0000'), ConfigErrorCode.INVALID_KEY],
      [() => config.list('p'.repeat(513)), ConfigErrorCode.INVALID_KEY],
      [() => config.list(undefined as unknown as string), ConfigErrorCode.INVALID_KEY],
    ];
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    bad.push([() => config.set('k', cyclic as unknown as null), ConfigErrorCode.INVALID_VALUE]);
    for (const [call, code] of bad) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe(code);
      expect(isAppError(error, '@app/config', code)).toBe(true);
      expect((error as Error).message).toMatch(/^\[@app\/config\] /);
    }
    expect(s.calls).toEqual({ get: 0, set: 0, delete: 0, list: 0 });
    expect(() => config.watch('', () => {})).toThrow(ConfigError);
    expect(() => createConfigService({ store: s.store, cache: { maxEntries: 0 } })).toThrow(ConfigError);
    expect(() => createConfigService({ store: undefined as unknown as ConfigStore })).toThrow(
      /store is required/,
    );
  });

  it('wraps store failures in STORE_ERROR and changes no cache', async () => {
    const s = instrumented();
    const config = createConfigService({ store: s.store });
    await config.set('k', 'before');
    s.fail(new Error('db down'));
    const error = await config.set('k', 'after').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_ERROR' });
    expect((error as Error).cause).toMatchObject({ message: 'db down' });
    expect(config.peek('k')).toBe('before');
    await expect(config.delete('k')).rejects.toMatchObject({ code: 'STORE_ERROR' });
    await expect(config.get('cold')).rejects.toMatchObject({ code: 'STORE_ERROR' });
    const listError = await config.list('k').catch((e: unknown) => e);
    expect(listError).toMatchObject({ code: 'STORE_ERROR', cause: { message: 'db down' } });
  });
});

describe('createConfigService: list', () => {
  it('reads the store every time (the source of truth), not the caches', async () => {
    const s = instrumented();
    const config = createConfigService({ store: s.store });
    await config.set('p.a', 1);
    expect(await config.list('p.')).toEqual(new Map([['p.a', { value: 1, version: 1, expiresAt: null }]]));
    await s.inner.set('p.b', 2); // behind the service's back: no notification, nothing cached
    expect([...(await config.list('p.')).keys()]).toEqual(['p.a', 'p.b']);
    expect(s.calls.list).toBe(2);
    expect(s.calls.get).toBe(0);
  });

  it('returns frozen values and a new Map per call', async () => {
    const config = createConfigService({ store: memoryConfigStore() });
    await config.set('p.obj', { list: [1] });
    const first = await config.list('p.');
    const entry = first.get('p.obj')!;
    expect(Object.isFrozen(entry) && Object.isFrozen((entry.value as { list: number[] }).list)).toBe(true);
    first.delete('p.obj');
    expect((await config.list('p.')).has('p.obj')).toBe(true);
  });

  it('refreshes cached keys that changed behind its back and tells their watchers', async () => {
    const s = instrumented();
    const config = createConfigService({ store: s.store, cache: { ttlMs: 600_000 } });
    await config.set('p.cached', 'v1');
    const seen = vi.fn();
    config.watch('p.cached', seen);
    await s.inner.set('p.cached', 'v2'); // a change whose notification was lost
    await s.inner.set('p.uncached', 'x');
    expect(config.peek('p.cached')).toBe('v1');
    await config.list('p.');
    expect(config.peek('p.cached')).toBe('v2');
    expect(seen).toHaveBeenCalledWith('v2', 'p.cached');
    expect(config.peek('p.uncached')).toBeUndefined(); // listing does not fill the cache
  });

  it('gives typed keys their schema output, and rejects a stored value that fails its schema', async () => {
    const store = memoryConfigStore();
    const config = createConfigService({
      store,
      schemas: {
        'launch.date': z.string().transform((s) => new Date(s)),
        'launch.retries': z.number().int(),
      },
    });
    await config.set('launch.date', '2030-01-02T00:00:00.000Z');
    await config.set('launch.note', 'untyped');
    const listed = await config.list('launch.');
    expect(listed.get('launch.date')?.value).toBeInstanceOf(Date);
    expect(listed.get('launch.note')?.value).toBe('untyped');
    expectTypeOf(listed.get('launch.note')!.value).toEqualTypeOf<
      import('./types.js').JsonValue | Date | number
    >();
    await store.set('launch.retries', 'many'); // written around the schema
    await expect(config.list('launch.')).rejects.toMatchObject({ code: 'INVALID_VALUE' });
  });

  it('throws CLOSED after close', async () => {
    const config = createConfigService({ store: memoryConfigStore() });
    await config.close();
    await expect(config.list('p.')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});

describe('createConfigService: typed keys with Standard Schema', () => {
  const schemas = {
    'email.provider': z.enum(['ses', 'sendgrid']),
    'http.timeout': z.number().int().positive(),
    'launch.date': z.string().transform((s) => new Date(s)),
    'limits.burst': v.pipe(v.number(), v.minValue(1)),
  };

  it('validates on set with zod and valibot; a failing value is written nowhere', async () => {
    const s = instrumented();
    const sync = inProcessConfigSync();
    const config = createConfigService({ store: s.store, schemas, sync });
    const other = createConfigService({ store: s.store, sync });
    const seen = vi.fn();
    other.watch('email.', seen);
    config.watch('email.provider', seen);

    await config.set('email.provider', 'ses');
    const bad = await config.set('email.provider', 'smtp' as 'ses').catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ConfigError);
    expect(bad).toMatchObject({ code: 'INVALID_VALUE' });
    expect((bad as ConfigError).issues.length).toBeGreaterThan(0);
    await expect(config.set('limits.burst', 0)).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    await expect(config.set('http.timeout', 1.5)).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    await flush();

    expect(s.calls.set).toBe(1);
    expect(await s.inner.get('email.provider')).toMatchObject({ value: 'ses', version: 1 });
    expect(await s.inner.get('limits.burst')).toBeUndefined();
    expect(seen).toHaveBeenCalledTimes(2); // the one valid set, once per service
    expect(await config.get('email.provider')).toBe('ses');
  });

  it('returns the schema output, stores the input, and types follow the schemas', async () => {
    const store = memoryConfigStore();
    const config = createConfigService({ store, schemas });
    await config.set('launch.date', '2030-01-02T00:00:00.000Z');
    const date = await config.get('launch.date');
    expect(date).toBeInstanceOf(Date);
    expect(date?.toISOString()).toBe('2030-01-02T00:00:00.000Z');
    expect(await store.get('launch.date')).toMatchObject({ value: '2030-01-02T00:00:00.000Z' });

    expectTypeOf(config.get('email.provider')).resolves.toEqualTypeOf<'ses' | 'sendgrid' | undefined>();
    expectTypeOf(config.get('http.timeout', 1000)).resolves.toEqualTypeOf<number>();
    expectTypeOf(config.get('launch.date')).resolves.toEqualTypeOf<Date | undefined>();
    expectTypeOf(config.peek('limits.burst')).toEqualTypeOf<number | undefined>();
    expectTypeOf(config.get('untyped.key')).resolves.toEqualTypeOf<
      import('./types.js').JsonValue | undefined
    >();
    // @ts-expect-error 'smtp' is not an email provider
    config.set('email.provider', 'smtp').catch(() => {});
    // @ts-expect-error the timeout is a number
    config.set('http.timeout', '10').catch(() => {});
    // The service is a ConfigSource, so @app/di and @app/flags can take it.
    const source: ConfigSource = config;
    expect(await source.get('email.provider')).toBeUndefined();
  });

  it('a stored value that fails its schema is a typed error on read, never a wrong type', async () => {
    const store = memoryConfigStore();
    await store.set('http.timeout', 'slow');
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const config = createConfigService({ store, schemas, logger });
    await expect(config.get('http.timeout')).rejects.toMatchObject({ code: 'INVALID_VALUE' });
    expect(() => config.peek('http.timeout')).toThrow(ConfigError);
    expect(logger.error).toHaveBeenCalled();
  });
});

describe('createConfigService: caching', () => {
  it('1,000 concurrent gets of a cold key make one store read', async () => {
    const s = instrumented();
    await s.inner.set('cold', 'value');
    const config = createConfigService({ store: s.store });
    const release = s.hold();
    const reads = Array.from({ length: 1000 }, () => config.get('cold'));
    await vi.waitFor(() => expect(s.calls.get).toBe(1)); // the one store read is under way
    release();
    const values = await Promise.all(reads);
    expect(new Set(values)).toEqual(new Set(['value']));
    expect(s.calls.get).toBe(1);
    // And the next read is a cache hit.
    expect(await config.get('cold')).toBe('value');
    expect(s.calls.get).toBe(1);
  });

  it('a failed cold read is shared by its waiters and not cached', async () => {
    const s = instrumented();
    const config = createConfigService({ store: s.store });
    s.fail(new Error('db down'));
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => config.get('k')));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    expect(s.calls.get).toBe(1);
    s.fail(undefined);
    expect(await config.get('k', 'd')).toBe('d');
    expect(s.calls.get).toBe(2);
  });

  it('serves an entry for the cache TTL, then reads the store again', async () => {
    const s = instrumented();
    const c = clock();
    const config = createConfigService({ store: s.store, now: c.now, cache: { ttlMs: 1000 } });
    await s.inner.set('k', 'v1');
    expect(await config.get('k')).toBe('v1');
    await s.inner.set('k', 'v2'); // behind the service's back: no notification
    c.advance(999);
    expect(await config.get('k')).toBe('v1');
    expect(config.peek('k')).toBe('v1');
    c.advance(1);
    expect(config.peek('k')).toBeUndefined();
    expect(await config.get('k')).toBe('v2');
    expect(s.calls.get).toBe(2);
  });

  it('caches misses too, and keeps at most maxEntries (least recently used evicted)', async () => {
    const s = instrumented();
    const config = createConfigService({ store: s.store, cache: { maxEntries: 3 } });
    for (const key of ['a', 'b', 'c']) await config.get(key);
    expect(s.calls.get).toBe(3);
    await config.get('a'); // a is now the most recent; b the eldest
    await config.get('d'); // evicts b
    expect(s.calls.get).toBe(4);
    await config.get('a');
    await config.get('c');
    await config.get('d');
    expect(s.calls.get).toBe(4);
    await config.get('b');
    expect(s.calls.get).toBe(5);
  });

  it('serves the stale entry when the store fails after the TTL, and logs it', async () => {
    const s = instrumented();
    const c = clock();
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const config = createConfigService({ store: s.store, now: c.now, logger, cache: { ttlMs: 100 } });
    await config.set('k', 'kept');
    c.advance(500);
    s.fail(new Error('db down'));
    expect(await config.get('k')).toBe('kept');
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ key: 'k' }),
      expect.stringMatching(/stale/),
    );
  });

  it('a value set with a ttl expires (and the cache does not outlive it)', async () => {
    const c = clock();
    const store = memoryConfigStore();
    const config = createConfigService({ store, now: c.now });
    await config.set('promo', 'on', { ttlMs: 5000 });
    expect(await store.get('promo')).toMatchObject({ expiresAt: c.now() + 5000 });
    expect(await config.get('promo', 'off')).toBe('on');
    c.advance(5000);
    expect(await config.get('promo', 'off')).toBe('off');
    expect(config.peek('promo')).toBeUndefined();
    // A second service reading the store later also sees it expired.
    const later = createConfigService({ store, now: c.now });
    expect(await later.get('promo', 'off')).toBe('off');
  });

  it('peek reads only the in-process cache', async () => {
    const store = memoryConfigStore();
    await store.set('k', 'v');
    const config = createConfigService({ store });
    expect(config.peek('k')).toBeUndefined();
    await config.get('k');
    expect(config.peek('k')).toBe('v');
    await config.delete('k');
    expect(config.peek('k')).toBeUndefined();
  });
});

describe('createConfigService: versions and notifications', () => {
  /** A sync whose deliveries the test controls. */
  function manualSync() {
    let listener: ConfigSyncListener | undefined;
    return {
      sync: closeable({
        async write() {},
        subscribe(l: ConfigSyncListener) {
          listener = l;
          return () => {
            listener = undefined;
          };
        },
      }),
      deliver: (record: ConfigRecord, origin = 'elsewhere') => listener?.change(record, origin),
      reset: () => listener?.reset(),
    };
  }

  it('ignores a change older than the cached version', async () => {
    const m = manualSync();
    const store = memoryConfigStore();
    const config = createConfigService({ store, sync: m.sync });
    await config.set('k', 'v1');
    await config.set('k', 'v2');
    const seen = vi.fn();
    config.watch('k', seen);
    m.deliver({ key: 'k', value: 'old', version: 1, expiresAt: null, deleted: false });
    m.deliver({ key: 'k', version: 2, deleted: true });
    await flush();
    expect(config.peek('k')).toBe('v2');
    expect(seen).not.toHaveBeenCalled();
    m.deliver({ key: 'k', value: 'v3', version: 3, expiresAt: null, deleted: false });
    await vi.waitFor(() => expect(config.peek('k')).toBe('v3'));
    expect(config.peek('k')).toBe('v3');
    expect(seen).toHaveBeenCalledWith('v3', 'k');
  });

  it('a change arriving during a cold read wins over the older value that read returns', async () => {
    const m = manualSync();
    const s = instrumented();
    await s.inner.set('k', 'old');
    const config = createConfigService({ store: s.store, sync: m.sync });
    const release = s.hold();
    const pending = config.get('k');
    await vi.waitFor(() => expect(s.calls.get).toBe(1)); // the cold read is under way
    m.deliver({ key: 'k', value: 'new', version: 2, expiresAt: null, deleted: false });
    await vi.waitFor(() => expect(config.peek('k')).toBe('new'));
    release();
    expect(await pending).toBe('new');
    expect(config.peek('k')).toBe('new');
  });

  it('a delete (tombstone) newer than the cached entry removes it', async () => {
    const m = manualSync();
    const config = createConfigService({ store: memoryConfigStore(), sync: m.sync });
    await config.set('k', 'v1');
    m.deliver({ key: 'k', version: 2, deleted: true });
    await vi.waitFor(() => expect(config.peek('k')).toBeUndefined());
    expect(config.peek('k')).toBeUndefined();
    expect(await config.get('k', 'default')).toBe('default');
  });

  it('on reset, flushes the cache and tells watchers about changes they missed', async () => {
    const m = manualSync();
    const s = instrumented();
    const config = createConfigService({ store: s.store, sync: m.sync });
    await config.set('watched', 'v1');
    await config.set('other', 'x');
    const seen = vi.fn();
    config.watch('watched', seen);
    await s.inner.set('watched', 'v2'); // a change whose notification was lost
    const readsBefore = s.calls.get;
    m.reset();
    await vi.waitFor(() => expect(seen).toHaveBeenCalledWith('v2', 'watched'));
    expect(config.peek('other')).toBeUndefined();
    expect(s.calls.get).toBe(readsBefore + 1); // only the watched key was re-read
  });

  it('on reset, lists what prefix watchers cover: keys created while notifications were lost reach them', async () => {
    const m = manualSync();
    const s = instrumented();
    const config = createConfigService({ store: s.store, sync: m.sync });
    const seen = vi.fn();
    config.watch('flags.', seen);
    await s.inner.set('flags.a', 'v1');
    expect((await config.list('flags.')).size).toBe(1); // caches flags.a: it is watched
    expect(config.peek('flags.a')).toBe('v1');
    // Lost notifications: one key changed, one created, one created outside the watched prefix.
    await s.inner.set('flags.a', 'v2');
    await s.inner.set('flags.new', 'hello');
    await s.inner.set('other.new', 'x');
    m.reset();
    await vi.waitFor(() => expect(seen).toHaveBeenCalledTimes(2));
    expect(seen.mock.calls).toEqual([
      ['v2', 'flags.a'],
      ['hello', 'flags.new'],
    ]);
    expect(config.peek('flags.new')).toBe('hello');
    expect(s.calls.list).toBe(2);
    await config.close();
  });

  it('a change the shared layer missed is re-shared once it answers again', async () => {
    let down = true;
    const writes: { record: ConfigRecord; force: boolean | undefined; publish: boolean }[] = [];
    const unavailable = () => new ConfigError('UNAVAILABLE', 'down');
    const sync = {
      async read() {
        if (down) throw unavailable();
        return undefined;
      },
      async write(record: ConfigRecord, o: { publish: boolean; origin: string; force?: boolean }) {
        if (down) throw unavailable();
        writes.push({ record, force: o.force, publish: o.publish });
      },
      subscribe: () => () => {},
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const store = memoryConfigStore();
    const config = createConfigService({ store, sync, logger });
    expect(await config.set('k', 'saved')).toBe(1);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.objectContaining({ key: 'k' }),
      expect.stringMatching(/unreachable/),
    );
    expect(await store.get('k')).toMatchObject({ value: 'saved' });
    expect(writes).toEqual([]);
    down = false;
    await config.get('other'); // the first successful call to the shared layer
    await vi.waitFor(() =>
      expect(writes).toContainEqual({
        record: { key: 'k', value: 'saved', version: 1, expiresAt: null, deleted: false },
        force: true,
        publish: true,
      }),
    );
    await config.close();
  });

  it('watch: exact keys, patterns, unsubscribe, and a throwing callback does not stop the others', async () => {
    const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() };
    const config = createConfigService({ store: memoryConfigStore(), logger });
    const exact = vi.fn();
    const star = vi.fn();
    const dot = vi.fn();
    const thrower = vi.fn(() => {
      throw new Error('bad watcher');
    });
    config.watch('email.provider', thrower);
    const stopExact = config.watch('email.provider', exact);
    config.watch('email.*', star);
    config.watch('email.', dot);
    await config.set('email.provider', 'ses');
    await config.set('email.from', 'a@b.c');
    await config.set('emailx', 'no');
    await config.delete('email.provider');
    expect(exact.mock.calls).toEqual([
      ['ses', 'email.provider'],
      [undefined, 'email.provider'],
    ]);
    expect(star.mock.calls.map((c) => c[1])).toEqual(['email.provider', 'email.from', 'email.provider']);
    expect(dot).toHaveBeenCalledTimes(3);
    expect(logger.error).toHaveBeenCalledTimes(2);
    stopExact();
    stopExact();
    await config.set('email.provider', 'sendgrid');
    expect(exact).toHaveBeenCalledTimes(2);
    expect(thrower).toHaveBeenCalledTimes(3);
  });

  it('watch: callbacks that add or remove watches while a change is delivered change the next delivery, not this one', async () => {
    const config = createConfigService({ store: memoryConfigStore() });
    const order: string[] = [];
    const later = vi.fn(() => order.push('later'));
    const added = vi.fn(() => order.push('added'));
    let stopLater = () => {};
    let stopFirst = () => {};
    stopFirst = config.watch('k', () => {
      order.push('first');
      stopFirst(); // removes itself
      stopLater(); // and the one after it
      config.watch('k', added); // and adds one, exact
      config.watch('k.', added); // and a prefix (does not cover 'k')
      config.watch('k*', added); // and a pattern that does
    });
    stopLater = config.watch('k', later);
    await config.set('k', 1);
    // This delivery went to the watches as they were when it started.
    expect(order).toEqual(['first', 'later']);
    await config.set('k', 2);
    expect(order).toEqual(['first', 'later', 'added', 'added']);
    expect(later).toHaveBeenCalledTimes(1);
  });

  it("two services sharing a store and an in-process sync see each other's sets and deletes", async () => {
    const store = memoryConfigStore();
    const sync = inProcessConfigSync();
    const a = createConfigService({ store, sync });
    const b = createConfigService({ store, sync });
    expect(await b.get('k')).toBeUndefined(); // b caches the miss
    const seen = vi.fn();
    b.watch('k', seen);
    await a.set('k', 'from a');
    await vi.waitFor(() => expect(b.peek('k')).toBe('from a'));
    expect(b.peek('k')).toBe('from a');
    expect(await b.get('k')).toBe('from a');
    await a.delete('k');
    await vi.waitFor(() => expect(b.peek('k')).toBeUndefined());
    expect(await b.get('k')).toBeUndefined();
    expect(seen.mock.calls).toEqual([
      ['from a', 'k'],
      [undefined, 'k'],
    ]);
  });
});

describe('createConfigService: lifecycle', () => {
  it('close stops notifications and later calls throw CLOSED; asyncDispose closes', async () => {
    const store = memoryConfigStore();
    const sync = inProcessConfigSync();
    const a = createConfigService({ store, sync });
    const seen = vi.fn();
    {
      await using b = createConfigService({ store, sync });
      b.watch('k', seen);
      await a.set('k', 1);
      await vi.waitFor(() => expect(seen).toHaveBeenCalledTimes(1));
    }
    await a.set('k', 2);
    await flush();
    expect(seen).toHaveBeenCalledTimes(1);
    await a.close();
    await a.close();
    await expect(a.get('k')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(a.set('k', 3)).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => a.watch('k', () => {})).toThrow(/closed/);
    expect(a.peek('k')).toBeUndefined();
  });
});
