import { isAppError } from '@app/core';
import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Container,
  createContainer,
  createToken,
  DiError,
  DiErrorCode,
  delay,
  inject,
  injectAll,
  injectable,
  isDiError,
  type Resolver,
} from './index.js';

interface Greeter {
  greet(name: string): string;
}
const GREETER = createToken<Greeter>('Greeter');
const PREFIX = createToken<string>('prefix');

async function caught(fn: () => unknown): Promise<DiError> {
  try {
    await fn();
  } catch (error) {
    if (error instanceof DiError) return error;
    throw error;
  }
  throw new Error('expected a DiError');
}

describe('typed tokens and providers', () => {
  it('resolves values, factories and classes with the token type inferred', () => {
    const c = createContainer();
    c.register(PREFIX, { useValue: 'Hello' });
    c.register(GREETER, { useFactory: (r) => ({ greet: (n) => `${r.resolve(PREFIX)}, ${n}` }) });
    const greeter = c.resolve(GREETER);
    expectTypeOf(greeter).toEqualTypeOf<Greeter>();
    expect(greeter.greet('Ada')).toBe('Hello, Ada');
    expectTypeOf(c.resolveAsync(PREFIX)).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error a string token cannot hold a number
    c.register(PREFIX, { useValue: 42 });
    // @ts-expect-error without a schema the config value is unknown, not whatever the factory claims
    c.register(PREFIX, { configKey: 'k', useConfigFactory: (value: number) => String(value) });
  });

  it('stops following config for a provider that was replaced', async () => {
    const watched: string[] = [];
    const config = {
      get: async () => 'v',
      watch: (key: string) => {
        watched.push(key);
        return () => watched.push(`unwatch ${key}`);
      },
    };
    const c = createContainer({ config });
    c.register(PREFIX, { configKey: 'k', useConfigFactory: (v) => String(v) });
    await c.resolveAsync(PREFIX);
    c.register(PREFIX, { useValue: 'fixed' });
    expect(watched).toEqual(['k', 'unwatch k']);
    expect(c.resolve(PREFIX)).toBe('fixed');
  });

  it('accepts string keys for ported code', () => {
    const c = createContainer();
    c.register('answer', { useValue: 42 });
    expect(c.resolve<number>('answer')).toBe(42);
  });

  it('applies lifetimes: transient by default, singleton cached', () => {
    const c = createContainer();
    let n = 0;
    c.register('t', { useFactory: () => ({ n: ++n }) });
    c.register('s', { useFactory: () => ({ n: ++n }), lifetime: 'singleton' });
    expect(c.resolve('t')).not.toBe(c.resolve('t'));
    expect(c.resolve('s')).toBe(c.resolve('s'));
    expect(n).toBe(3);
  });

  it('rejects malformed registrations before anything is stored', async () => {
    const c = createContainer();
    const bad = [
      () => c.register('x', {} as never),
      () => c.register('x', { useValue: 1, useFactory: () => 1 } as never),
      () => c.register('x', { useFactory: () => 1, lifetime: 'forever' as never }),
      () => c.register('x', { useFactory: 'nope' as never }),
      () => c.register('', { useValue: 1 }),
      () => c.register('x', { configKey: '', useConfigFactory: () => 1 }),
    ];
    for (const fn of bad) expect((await caught(fn)).code).toBe(DiErrorCode.INVALID_PROVIDER);
    expect(c.isRegistered('x')).toBe(false);
  });
});

describe('tsyringe decorator classes', () => {
  @injectable()
  class Clock {
    now() {
      return 1000;
    }
  }
  @injectable()
  class Service {
    constructor(
      readonly clock: Clock,
      @inject(PREFIX) readonly prefix: string,
    ) {}
  }

  it('constructs @injectable classes from constructor types and @inject tokens', () => {
    const c = createContainer();
    c.register(PREFIX, { useValue: 'p' });
    c.register(Service, { useClass: Service, lifetime: 'singleton' });
    const s = c.resolve(Service);
    expect(s.clock.now()).toBe(1000);
    expect(s.prefix).toBe('p');
    expect(c.resolve(Service)).toBe(s);
    // An unregistered class is built as a transient, like tsyringe does.
    expect(c.resolve(Clock)).toBeInstanceOf(Clock);
    expect(c.resolve(Clock)).not.toBe(c.resolve(Clock));
  });

  it('feeds class dependencies from factories and registered overrides', () => {
    class FakeClock extends Clock {
      override now() {
        return 5;
      }
    }
    const c = createContainer();
    c.register(PREFIX, { useFactory: () => 'from-factory' });
    c.register(Clock, { useValue: new FakeClock() });
    const s = c.resolve(Service);
    expect(s.clock.now()).toBe(5);
    expect(s.prefix).toBe('from-factory');
  });

  it('resolves async dependencies of classes through resolveAsync, and says so from resolve', async () => {
    const c = createContainer();
    c.register(PREFIX, { useAsyncFactory: async () => 'async-prefix', lifetime: 'singleton' });
    const err = await caught(() => c.resolve(Service));
    expect(err.code).toBe(DiErrorCode.ASYNC_PROVIDER);
    expect(err.message).toContain('resolveAsync()');
    expect(err.message).toContain('Service -> prefix');
    const s = await c.resolveAsync(Service);
    expect(s.prefix).toBe('async-prefix');
  });

  it('explains an interface-typed parameter without @inject', async () => {
    @injectable()
    class NeedsGreeter {
      constructor(readonly greeter: Greeter) {}
    }
    const err = await caught(() => createContainer().resolve(NeedsGreeter));
    expect(err.code).toBe(DiErrorCode.MISSING_METADATA);
    expect(err.message).toContain('@inject(token)');
  });

  it('explains a class with parameters but no decorator metadata', async () => {
    class Plain {
      constructor(readonly x: unknown) {}
    }
    const err = await caught(() => createContainer().resolve(Plain));
    expect(err.code).toBe(DiErrorCode.MISSING_METADATA);
    expect(err.message).toContain('@injectable()');
  });

  it('hands @injectAll, delay() and tokens registered on the tsyringe container to tsyringe', () => {
    const PLUGIN = createToken<{ id: string }>('plugin');
    @injectable()
    class Host {
      constructor(@injectAll(PLUGIN) readonly plugins: { id: string }[]) {}
    }
    @injectable()
    class Lazy {
      constructor(@inject(delay(() => Clock)) readonly clock: Clock) {}
    }
    const c = createContainer();
    c.tsyringe.register(PLUGIN, { useValue: { id: 'a' } });
    c.tsyringe.register(PLUGIN, { useValue: { id: 'b' } });
    expect(c.resolve(Host).plugins.map((p) => p.id)).toEqual(['a', 'b']);
    expect(c.resolve(PLUGIN).id).toBe('b');
    expect(c.resolve(Lazy).clock.now()).toBe(1000);
  });

  it('lets classes that tsyringe builds reach tokens registered here', () => {
    @injectable()
    class ViaTsyringe {
      constructor(@inject(PREFIX) readonly prefix: string) {}
    }
    const c = createContainer();
    c.register(PREFIX, { useFactory: () => 'bridged' });
    expect(c.tsyringe.resolve(ViaTsyringe).prefix).toBe('bridged');
  });
});

describe('lifetimes across the tsyringe bridge', () => {
  const REQUEST = createToken<{ id: number }>('Request');
  const scopedRequests = () => {
    const c = createContainer();
    let n = 0;
    c.register(REQUEST, { useFactory: () => ({ id: ++n }), lifetime: 'scoped' });
    return c;
  };

  it('a tsyringe singleton cannot capture one scope’s instance and hand it to every other scope', () => {
    @injectable()
    class RequestCache {
      constructor(@inject(REQUEST) readonly request: { id: number }) {}
    }
    const c = scopedRequests();
    c.tsyringe.registerSingleton(RequestCache);
    const a = c.createScope();
    const b = c.createScope();
    const err = (() => {
      try {
        return { a: a.resolve(RequestCache).request.id, b: b.resolve(RequestCache).request.id };
      } catch (e) {
        return e;
      }
    })();
    expect(err).toMatchObject({ code: DiErrorCode.LIFETIME_MISMATCH });
    expect((err as DiError).message).toContain('RequestCache -> Request');
  });

  it('a singleton registered here cannot capture a scoped instance through a tsyringe-built class', () => {
    @injectable()
    class Helper {
      constructor(@inject(REQUEST) readonly request: { id: number }) {}
    }
    const c = scopedRequests();
    c.tsyringe.register(Helper, { useClass: Helper });
    c.register('service', { useFactory: (r) => ({ helper: r.resolve(Helper) }), lifetime: 'singleton' });
    expect(() => c.createScope().resolve('service')).toThrow(
      expect.objectContaining({ code: DiErrorCode.LIFETIME_MISMATCH }),
    );
    // A transient that tsyringe builds still gets each scope's own instance.
    const [a, b] = [c.createScope(), c.createScope()];
    expect(a.resolve(Helper).request).toBe(a.resolve(REQUEST));
    expect(b.resolve(Helper).request).toBe(b.resolve(REQUEST));
    expect(a.resolve(Helper).request).not.toBe(b.resolve(Helper).request);
  });
});

/** Registers GREETER as an async singleton whose factory counts its calls and runs `step(call)` first. */
function countedGreeter(c: Container, step: (call: number) => unknown) {
  const factory = { calls: 0 };
  c.register(GREETER, {
    lifetime: 'singleton',
    useAsyncFactory: async () => {
      await step(++factory.calls);
      return { greet: (n: string) => n };
    },
  });
  return factory;
}

describe('async providers', () => {
  it('creates an async singleton once for 1,000 concurrent resolves', async () => {
    const c = createContainer();
    const factory = countedGreeter(c, () => new Promise((r) => setTimeout(r, 5)));
    const all = await Promise.all(Array.from({ length: 1000 }, () => c.resolveAsync(GREETER)));
    expect(factory.calls).toBe(1);
    expect(new Set(all).size).toBe(1);
  });

  it('does not cache a rejected factory: the next resolve tries again', async () => {
    const c = createContainer();
    const factory = countedGreeter(c, (call) => {
      if (call === 1) throw new Error('db down');
    });
    const first = await Promise.allSettled(Array.from({ length: 100 }, () => c.resolveAsync(GREETER)));
    expect(first.every((r) => r.status === 'rejected' && (r.reason as Error).message === 'db down')).toBe(
      true,
    );
    expect(factory.calls).toBe(1);
    const g = await c.resolveAsync(GREETER);
    expect(g.greet('ok')).toBe('ok');
    expect(await c.resolveAsync(GREETER)).toBe(g);
    expect(factory.calls).toBe(2);
  });

  it('tells resolve() callers to use resolveAsync(), even once the instance exists', async () => {
    const c = createContainer();
    c.register(PREFIX, { useAsyncFactory: async () => 'x', lifetime: 'singleton' });
    await c.resolveAsync(PREFIX);
    const err = await caught(() => c.resolve(PREFIX));
    expect(err.code).toBe(DiErrorCode.ASYNC_PROVIDER);
    expect(err.message).toBe("[@app/di] 'prefix' has an async provider: resolve it with resolveAsync()");
  });

  it('gives factories a resolver that keeps the path', async () => {
    const c = createContainer();
    const seen: Resolver[] = [];
    c.register(PREFIX, { useAsyncFactory: async () => 'p' });
    c.register(GREETER, {
      useAsyncFactory: async (r) => {
        seen.push(r);
        const prefix = await r.resolveAsync(PREFIX);
        return { greet: (n: string) => `${prefix}${n}` };
      },
    });
    expect((await c.resolveAsync(GREETER)).greet('!')).toBe('p!');
    expect(seen[0]?.container).toBe(c);
  });
});

describe('errors that help', () => {
  it('reports a cycle with its path, for tokens and for classes', async () => {
    const A = createToken<unknown>('a');
    const B = createToken<unknown>('b');
    const c = createContainer();
    c.register(A, { useFactory: (r) => r.resolve(B) });
    c.register(B, { useFactory: (r) => r.resolve(A) });
    const err = await caught(() => c.resolve(A));
    expect(err.code).toBe(DiErrorCode.CIRCULAR_DEPENDENCY);
    expect(err.message).toBe('[@app/di] circular dependency: a -> b -> a');
    expect(err.path).toEqual(['a', 'b', 'a']);

    c.register(A, { useAsyncFactory: (r) => r.resolveAsync(B), lifetime: 'singleton' });
    c.register(B, { useAsyncFactory: (r) => r.resolveAsync(A), lifetime: 'singleton' });
    const asyncErr = await caught(() => c.resolveAsync(A));
    expect(asyncErr.message).toBe('[@app/di] circular dependency: a -> b -> a');
  });

  it('names the missing token and the chain that asked for it', async () => {
    const MAILER = createToken<unknown>('Mailer');
    @injectable()
    class Signup {
      constructor(@inject(MAILER) readonly mailer: unknown) {}
    }
    const c = createContainer();
    c.register('app', { useFactory: (r) => r.resolve(Signup) });
    const err = await caught(() => c.resolve('app'));
    expect(err.code).toBe(DiErrorCode.NOT_REGISTERED);
    expect(err.message).toBe(
      "[@app/di] nothing is registered for 'Mailer' (requested by Signup; path: app -> Signup -> Mailer)",
    );
    expect(isAppError(err, '@app/di', 'NOT_REGISTERED')).toBe(true);
    expect(isDiError(err)).toBe(true);
    expect(isDiError(err, 'NOT_REGISTERED')).toBe(true);
    expect(isDiError(err, 'DISPOSED')).toBe(false);
    expect(isDiError(new Error('nothing is registered'))).toBe(false);
    expect(err.name).toBe('DiError');
    expect((await caught(() => c.resolve(MAILER))).message).toBe(
      "[@app/di] nothing is registered for 'Mailer'",
    );
  });

  it('treats @inject(token, { isOptional: true }) as undefined when nothing provides it', () => {
    const MISSING = createToken<string>('missing');
    @injectable()
    class Opt {
      constructor(@inject(MISSING, { isOptional: true }) readonly value?: string) {}
    }
    expect(createContainer().resolve(Opt).value).toBeUndefined();
  });
});
