import { describe, expect, it } from 'vitest';
import {
  type Container,
  createContainer,
  createToken,
  currentScope,
  type DiError,
  DiErrorCode,
  injectable,
  runInScope,
} from './index.js';

const REQUEST = createToken<{ id: number }>('Request');
const DB = createToken<{ name: string }>('Db');

/** Registers `name` as a singleton whose value is its own name, disposed by `dispose`. */
function singleton(c: Container, name: string, dispose: (value: string) => void | Promise<void>): void {
  c.register(name, { useFactory: () => name, lifetime: 'singleton', dispose });
}

describe('scopes', () => {
  it('gives each scope its own scoped instance and shares singletons', () => {
    const c = createContainer();
    let n = 0;
    c.register(REQUEST, { useFactory: () => ({ id: ++n }), lifetime: 'scoped' });
    c.register(DB, { useFactory: () => ({ name: 'db' }), lifetime: 'singleton' });
    const a = c.createScope();
    const b = c.createScope();
    expect(a.resolve(REQUEST)).toBe(a.resolve(REQUEST));
    expect(a.resolve(REQUEST)).not.toBe(b.resolve(REQUEST));
    expect(a.resolve(DB)).toBe(b.resolve(DB));
    expect(a.resolve(DB)).toBe(c.resolve(DB));
  });

  it('lets a scope register its own providers without affecting the parent or siblings', () => {
    const c = createContainer();
    c.register(REQUEST, { useValue: { id: 0 } });
    const a = c.createScope().register(REQUEST, { useValue: { id: 1 } });
    const b = c.createScope();
    expect(a.resolve(REQUEST).id).toBe(1);
    expect(b.resolve(REQUEST).id).toBe(0);
    expect(c.resolve(REQUEST).id).toBe(0);
    expect(a.isRegistered(REQUEST, false)).toBe(true);
    expect(b.isRegistered(REQUEST, false)).toBe(false);
  });

  it('refuses a singleton that would capture a scoped instance', () => {
    const c = createContainer();
    c.register(REQUEST, { useFactory: () => ({ id: 1 }), lifetime: 'scoped' });
    c.register('cache', { useFactory: (r) => ({ req: r.resolve(REQUEST) }), lifetime: 'singleton' });
    let err: unknown;
    try {
      c.createScope().resolve('cache');
    } catch (e) {
      err = e;
    }
    expect((err as DiError).code).toBe(DiErrorCode.LIFETIME_MISMATCH);
    expect((err as DiError).message).toContain('cache -> Request');
  });

  it('builds scoped class instances with the scope’s own dependencies', () => {
    class ScopeInfo {
      constructor(readonly label = 'default') {}
    }
    @injectable()
    class Handler {
      constructor(readonly scope: ScopeInfo) {}
    }
    const c = createContainer();
    c.register(Handler, { useClass: Handler, lifetime: 'scoped' });
    const s = c.createScope().register(ScopeInfo, { useValue: new ScopeInfo('request-7') });
    expect(s.resolve(Handler).scope.label).toBe('request-7');
  });

  it('runInScope makes the scope current across awaits, isolates concurrent runs and disposes it', async () => {
    const c = createContainer();
    let n = 0;
    const disposed: number[] = [];
    c.register(REQUEST, {
      useFactory: () => ({ id: ++n }),
      lifetime: 'scoped',
      dispose: (r) => disposed.push(r.id),
    });
    const deep = async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentScope().resolve(REQUEST).id;
    };
    const run = () =>
      runInScope(c, async (scope) => {
        const mine = scope.resolve(REQUEST).id;
        const fromDeep = await deep();
        return [mine, fromDeep];
      });
    const results = await Promise.all(Array.from({ length: 20 }, run));
    for (const [mine, fromDeep] of results) expect(fromDeep).toBe(mine);
    expect(new Set(results.map(([m]) => m)).size).toBe(20);
    expect(disposed.sort((a, b) => a - b)).toEqual(
      results.map(([m]) => m).sort((a, b) => (a ?? 0) - (b ?? 0)),
    );
  });

  it('disposes the scope when the function throws, and currentScope() outside one explains itself', async () => {
    const c = createContainer();
    let scope: Container | undefined;
    await expect(
      runInScope(c, (s) => {
        scope = s;
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    expect(scope?.disposed).toBe(true);
    expect(() => currentScope()).toThrow(/outside runInScope/);
    expect(currentScope(c)).toBe(c);
  });
});

describe('disposal', () => {
  it('disposes every created instance in reverse creation order, scopes included', async () => {
    const order: string[] = [];
    const c = createContainer();
    const hook = (name: string) => () => {
      order.push(name);
    };
    c.register('config', { useValue: {}, dispose: hook('config') });
    c.register('db', { useAsyncFactory: async () => ({}), lifetime: 'singleton', dispose: hook('db') });
    c.register('repo', {
      useAsyncFactory: async (r) => ({ db: await r.resolveAsync('db') }),
      lifetime: 'singleton',
      dispose: hook('repo'),
    });
    c.register('req', { useFactory: () => ({}), lifetime: 'scoped', dispose: hook('req') });
    c.register('unused', { useFactory: () => ({}), lifetime: 'singleton', dispose: hook('unused') });
    const scope = c.createScope();
    scope.resolve('req'); // created before db and repo
    await c.resolveAsync('repo');
    await c[Symbol.asyncDispose]();
    expect(order).toEqual(['repo', 'db', 'req', 'config']);
    expect(scope.disposed).toBe(true);
  });

  it('is Closeable: close() disposes once, like dispose() and Symbol.asyncDispose', async () => {
    const disposed: string[] = [];
    const c = createContainer();
    singleton(c, 'conn', (v) => void disposed.push(v));
    c.resolve('conn');
    const closing = c.close();
    expect(c.dispose()).toBe(closing);
    expect(c[Symbol.asyncDispose]()).toBe(closing);
    await closing;
    await c.close();
    expect(disposed).toEqual(['conn']);
    expect(c.disposed).toBe(true);
  });

  it('runs every hook and throws their errors together as an AggregateError', async () => {
    const ran: string[] = [];
    const c = createContainer();
    singleton(c, 'a', () => {
      ran.push('a');
      throw new Error('a failed');
    });
    singleton(c, 'b', () => void ran.push('b'));
    singleton(c, 'c', async () => {
      ran.push('c');
      throw new Error('c failed');
    });
    c.resolve('a');
    c.resolve('b');
    c.resolve('c');
    const err = (await c.dispose().catch((e: unknown) => e)) as AggregateError;
    expect(err).toBeInstanceOf(AggregateError);
    expect(ran).toEqual(['c', 'b', 'a']);
    expect(err.errors.map((e: DiError) => [e.code, (e.cause as Error).message])).toEqual([
      ['DISPOSE_FAILED', 'c failed'],
      ['DISPOSE_FAILED', 'a failed'],
    ]);
    expect(err.errors[0].message).toBe("[@app/di] disposing 'c' failed");
  });

  it('uses Symbol.asyncDispose of created instances, never of values it was handed', async () => {
    const calls: string[] = [];
    const resource = (name: string) => ({ [Symbol.asyncDispose]: async () => void calls.push(name) });
    const c = createContainer();
    c.register('created', { useFactory: () => resource('created'), lifetime: 'singleton' });
    c.register('given', { useValue: resource('given') });
    c.register('transient', { useFactory: () => resource('transient') });
    c.resolve('created');
    c.resolve('given');
    c.resolve('transient');
    await c.dispose();
    expect(calls).toEqual(['created']);
  });

  it('tracks transients that declare a dispose hook in the container that resolved them', async () => {
    const disposed: number[] = [];
    let n = 0;
    const c = createContainer();
    c.register('conn', { useFactory: () => ++n, dispose: (v) => void disposed.push(v) });
    const scope = c.createScope();
    scope.resolve('conn');
    scope.resolve('conn');
    c.resolve('conn');
    await scope.dispose();
    expect(disposed).toEqual([2, 1]);
    await c.dispose();
    expect(disposed).toEqual([2, 1, 3]);
  });

  it('refuses to resolve after dispose, and dispose twice is one disposal', async () => {
    const c = createContainer();
    let count = 0;
    c.register('v', { useValue: 1, dispose: () => void count++ });
    const first = c.dispose();
    expect(c.dispose()).toBe(first);
    await first;
    expect(count).toBe(1);
    expect(() => c.resolve('v')).toThrow(expect.objectContaining({ code: DiErrorCode.DISPOSED }));
    await expect(c.resolveAsync('v')).rejects.toMatchObject({ code: DiErrorCode.DISPOSED });
    expect(() => c.createScope()).toThrow(/disposed/);
  });

  it('a disposed scope refuses to resolve, cached singletons of its parent included', async () => {
    const c = createContainer();
    c.register(DB, { useFactory: () => ({ name: 'db' }), lifetime: 'singleton' });
    c.register('async', { useAsyncFactory: async () => 1, lifetime: 'singleton' });
    const scope = c.createScope();
    scope.resolve(DB);
    await scope.resolveAsync('async');
    await scope.dispose();
    expect(() => scope.resolve(DB)).toThrow(expect.objectContaining({ code: DiErrorCode.DISPOSED }));
    await expect(scope.resolveAsync(DB)).rejects.toMatchObject({ code: DiErrorCode.DISPOSED });
    await expect(scope.resolveAsync('async')).rejects.toMatchObject({ code: DiErrorCode.DISPOSED });
    expect(c.resolve(DB).name).toBe('db'); // the parent is still open
  });

  it('disposes a transient whose async creation finishes after the container was disposed', async () => {
    const c = createContainer();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const disposed: string[] = [];
    c.register('conn', {
      useAsyncFactory: async () => {
        await gate;
        return 'conn';
      },
      dispose: (v: string) => void disposed.push(v),
    });
    const pending = c.resolveAsync('conn');
    await c.dispose();
    release();
    await expect(pending).rejects.toMatchObject({ code: DiErrorCode.DISPOSED });
    expect(disposed).toEqual(['conn']);
  });

  it('disposes the transients a cached instance was built with when it is replaced', async () => {
    const disposed: string[] = [];
    const c = createContainer();
    let n = 0;
    c.register('agent', { useFactory: () => `agent${++n}`, dispose: (a: string) => void disposed.push(a) });
    c.register('client', {
      useFactory: (r) => ({ agent: r.resolve<string>('agent') }),
      lifetime: 'singleton',
      dispose: (x: { agent: string }) => void disposed.push(`client(${x.agent})`),
    });
    c.resolve('client');
    await c.invalidate('client');
    await c.invalidate('client');
    // Each replaced client took its own agent with it, instead of leaving it open until the container goes.
    expect(disposed).toEqual(['client(agent1)', 'agent1', 'client(agent2)', 'agent2']);
    expect(c.resolve<{ agent: string }>('client').agent).toBe('agent3');
    await c.clear();
    expect(disposed.slice(4)).toEqual(['client(agent3)', 'agent3']);
    await c.dispose();
    expect(disposed).toHaveLength(6);
  });

  it('disposes an instance whose async creation finishes after the container was disposed', async () => {
    const c = createContainer();
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let disposed = false;
    c.register('slow', {
      useAsyncFactory: async () => {
        await gate;
        return {};
      },
      lifetime: 'singleton',
      dispose: () => {
        disposed = true;
      },
    });
    const pending = c.resolveAsync('slow');
    await c.dispose();
    release();
    await expect(pending).rejects.toMatchObject({ code: DiErrorCode.DISPOSED });
    expect(disposed).toBe(true);
  });

  it('clear() disposes cached instances and the next resolve builds new ones; values stay', async () => {
    const c = createContainer();
    const disposed: string[] = [];
    c.register('s', {
      useFactory: () => ({}),
      lifetime: 'singleton',
      dispose: () => void disposed.push('s'),
    });
    c.register('v', { useValue: { v: 1 }, dispose: () => void disposed.push('v') });
    const s = c.resolve('s');
    await c.clear();
    expect(disposed).toEqual(['s']);
    expect(c.resolve('s')).not.toBe(s);
    expect(c.resolve<{ v: number }>('v').v).toBe(1);
  });

  it('disposes a replaced singleton after invalidate() and its dependents before it', async () => {
    const order: string[] = [];
    const c = createContainer();
    let n = 0;
    c.register(DB, {
      useFactory: () => ({ name: `db${++n}` }),
      lifetime: 'singleton',
      dispose: (d) => void order.push(d.name),
    });
    c.register('repo', {
      useFactory: (r) => ({ db: r.resolve(DB) }),
      lifetime: 'singleton',
      dispose: (x: { db: { name: string } }) => void order.push(`repo(${x.db.name})`),
    });
    const repo = c.resolve<{ db: { name: string } }>('repo');
    await c.invalidate(DB);
    expect(order).toEqual(['repo(db1)', 'db1']);
    const repo2 = c.resolve<{ db: { name: string } }>('repo');
    expect(repo2).not.toBe(repo);
    expect(repo2.db.name).toBe('db2');
  });
});
