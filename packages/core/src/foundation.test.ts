import { describe, expect, it } from 'vitest';
import { closeable } from './closeable.js';
import { Deadlines } from './deadlines.js';
import { AppError, defineErrors, isAppError } from './errors.js';
import { createLimiter, mapLimit } from './limiter.js';
import { defineScript, runScript, withDeadline } from './redis-script.js';
import { contractOptions } from './testing.js';
import { optionChecks } from './validate.js';

describe('closeable', () => {
  it('runs the release once however often close is called, and backs asyncDispose', async () => {
    let released = 0;
    const thing = closeable({ value: 1 }, () => {
      released++;
    });
    await Promise.all([thing.close(), thing.close(), thing[Symbol.asyncDispose]()]);
    expect(released).toBe(1);
    expect(thing.value).toBe(1);
  });
});

describe('defineErrors', () => {
  const errors = defineErrors('@app/x', ['BAD', 'WORSE'] as const);
  class XError extends errors.Base {}
  it('makes a named, prefixed AppError with a code map and a guard', () => {
    const err = new XError('BAD', 'nope', { cause: 1 });
    expect(err).toBeInstanceOf(AppError);
    expect(err.name).toBe('XError');
    expect(err.message).toBe('[@app/x] nope');
    expect(err.cause).toBe(1);
    expect(errors.codes.WORSE).toBe('WORSE');
    expect(Object.isFrozen(errors.codes)).toBe(true);
    expect(errors.is(err)).toBe(true);
    expect(errors.is(err, 'WORSE')).toBe(false);
    expect(errors.is(new AppError('@app/y', 'BAD', 'other'))).toBe(false);
    expect(isAppError(err, '@app/x', 'BAD')).toBe(true);
  });

  it('carries issues (empty by default) and narrows with isOf', () => {
    const isXError = errors.isOf(XError);
    const err: unknown = new XError('BAD', 'invalid', { issues: ['a: must be a number'] });
    expect(new XError('WORSE', 'x').issues).toEqual([]);
    expect(isXError(err, 'BAD')).toBe(true);
    expect(isXError(err, 'WORSE')).toBe(false);
    expect(isXError(new Error('x'))).toBe(false);
    if (isXError(err)) expect(err.issues).toEqual(['a: must be a number']);
    else throw new Error('not narrowed');
  });
});

describe('createLimiter', () => {
  it('never runs more than the limit at once and runs everything', async () => {
    const limit = createLimiter(3);
    let active = 0;
    let peak = 0;
    const out = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        limit(async () => {
          active++;
          peak = Math.max(peak, active);
          await new Promise((r) => setImmediate(r));
          active--;
          return i;
        }),
      ),
    );
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
  });
  it('frees the slot when a function throws synchronously or rejects', async () => {
    const limit = createLimiter(1);
    await expect(
      limit(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(limit(() => Promise.reject(new Error('async')))).rejects.toThrow('async');
    await expect(limit(async () => 'ok')).resolves.toBe('ok');
  });
  it('refuses a bad concurrency', () => {
    expect(() => createLimiter(0)).toThrow(RangeError);
  });
  it('mapLimit keeps the input order', async () => {
    const out = await mapLimit([30, 10, 20], 2, async (n) => {
      await new Promise((r) => setTimeout(r, n / 10));
      return n * 2;
    });
    expect(out).toEqual([60, 20, 40]);
  });
});

describe('runScript', () => {
  const script = defineScript('return 1', 1);
  it('uses EVALSHA and falls back to EVAL once on NOSCRIPT', async () => {
    const calls: string[] = [];
    const client = {
      evalsha: async (sha: string) => {
        calls.push(`evalsha ${sha === script.sha}`);
        throw new Error('NOSCRIPT No matching script.');
      },
      eval: async (src: string, n: number, ...rest: (string | number)[]) => {
        calls.push(`eval ${src} ${n} ${rest.join(',')}`);
        return 7;
      },
    };
    await expect(runScript(client, script, ['k'], ['a'])).resolves.toBe(7);
    expect(calls).toEqual(['evalsha true', 'eval return 1 1 k,a']);
  });
  it('passes other errors through and checks the key count before any call', async () => {
    const client = {
      evalsha: async () => {
        throw new Error('WRONGTYPE');
      },
      eval: async () => 1,
    };
    await expect(runScript(client, script, ['k'])).rejects.toThrow('WRONGTYPE');
    await expect(runScript(client, script, ['a', 'b'])).rejects.toThrow(RangeError);
  });
  it('turns a synchronous throw into a rejection', async () => {
    const client = {
      evalsha: () => {
        throw new Error('closed');
      },
      eval: async () => 1,
    };
    await expect(runScript(client as never, script, ['k'])).rejects.toThrow('closed');
  });
});

describe('withDeadline', () => {
  it('rejects with the given error when the work does not settle in time', async () => {
    const never = new Promise<never>(() => {});
    await expect(withDeadline(never, 5, () => new Error('late'))).rejects.toThrow('late');
  });
  it('passes a result or an error through', async () => {
    await expect(withDeadline(Promise.resolve(3), 1000, () => new Error('late'))).resolves.toBe(3);
    await expect(withDeadline(Promise.reject(new Error('x')), 1000, () => new Error('late'))).rejects.toThrow(
      'x',
    );
  });
});

describe('Deadlines', () => {
  it('rejects a call that does not settle within the bound (and not before), with its own error when given', async () => {
    const bound = new Deadlines(40, () => new Error('late'));
    const never = new Promise<never>(() => {});
    const t0 = Date.now();
    await expect(bound.run(never)).rejects.toThrow('late');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(39);
    await expect(bound.run(never, undefined, undefined, () => new Error('own'))).rejects.toThrow('own');
    expect(bound.size).toBe(0);
  });
  it('passes a result or an error through, mapped in the same step, and forgets settled calls', async () => {
    const bound = new Deadlines(1000, () => new Error('late'));
    await expect(bound.run(Promise.resolve(3))).resolves.toBe(3);
    await expect(bound.run(Promise.resolve('4'), Number)).resolves.toBe(4);
    await expect(
      bound.run(
        Promise.reject(new Error('x')),
        undefined,
        (e) => new Error(`mapped ${(e as Error).message}`),
      ),
    ).rejects.toThrow('mapped x');
    await expect(
      bound.run(Promise.resolve(1), () => {
        throw new Error('map threw');
      }),
    ).rejects.toThrow('map threw');
    expect(bound.size).toBe(0);
  });
  it('keeps every call to its own bound among many concurrent ones; unbounded when Infinity', async () => {
    const bound = new Deadlines(30, () => new Error('late'));
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        bound.run(i % 2 === 0 ? Promise.resolve(i) : new Promise<number>(() => {})),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(50);
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(50);
    const unbounded = new Deadlines(Number.POSITIVE_INFINITY, () => new Error('late'));
    await expect(unbounded.run(Promise.resolve('2'), Number)).resolves.toBe(2);
    expect(unbounded.size).toBe(0);
  });
});

describe('optionChecks', () => {
  const check = optionChecks((m) => new TypeError(m));
  it('returns valid values and throws the package error otherwise', () => {
    expect(check.positiveInt('n', 3)).toBe(3);
    expect(() => check.positiveInt('n', 0)).toThrow('n must be a positive integer, got 0');
    expect(check.nonNegativeInt('n', 0)).toBe(0);
    expect(check.intInRange('codeLength', 6, 4, 10)).toBe(6);
    expect(() => check.intInRange('codeLength', 11, 4, 10)).toThrow(
      'codeLength must be an integer from 4 to 10, got 11',
    );
    expect(() => check.nonNegativeInt('n', 1.5)).toThrow(TypeError);
    expect(check.durationMs('ttlMs', 10, 1)).toBe(10);
    expect(() => check.durationMs('ttlMs', Number.NaN)).toThrow('ttlMs must be a number of milliseconds');
    expect(check.nonEmptyString('s', 'a')).toBe('a');
    expect(() => check.nonEmptyString('s', '  ')).toThrow(TypeError);
    expect(check.oneOf('mode', 'a', ['a', 'b'] as const)).toBe('a');
    expect(() => check.oneOf('mode', 'c', ['a', 'b'] as const)).toThrow(
      'mode must be one of "a", "b", got "c"',
    );
  });
});

describe('contractOptions', () => {
  it('applies the shared defaults and the capability switches', () => {
    const o = contractOptions<object, string[], 'ttl' | 'race'>({
      describe,
      it,
      expect,
      name: 'x',
      create: () => ({}),
      features: { ttl: false },
    });
    expect(o.timeoutMs).toBe(60_000);
    expect(o.concurrency).toBe(1000);
    expect(o.has('ttl')).toBe(false);
    expect(o.has('race')).toBe(true);
  });
});
