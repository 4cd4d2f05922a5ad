import { describe, expect, it } from 'vitest';
import {
  type Container,
  createContainer,
  createToken,
  DiError,
  DiErrorCode,
  type InjectionToken,
  type Resolver,
} from './index.js';
import { deferred, flush } from './test/helpers.js';

// Cycles that only exist between concurrent resolves: each resolve's own path is acyclic, but the creations
// wait on each other's in-flight promises. Gates (deferred promises) force the interleaving; "settled" is
// checked after the microtask queue drains, so a hang fails the assertion instead of timing out.

/** Each instance is `{ <its name>: true }`. */
type Instance = Readonly<Record<string, boolean>>;
const A = createToken<Instance>('a');
const B = createToken<Instance>('b');
const C = createToken<Instance>('c');
type Name = 'a' | 'b' | 'c';
const TOKENS: Record<Name, InjectionToken<Instance>> = { a: A, b: B, c: C };
type Gate = ReturnType<typeof deferred<void>>;

interface Outcome {
  settled: boolean;
  value?: unknown;
  error?: unknown;
}

function observe(promise: Promise<unknown>): Outcome {
  const outcome: Outcome = { settled: false };
  promise.then(
    (value) => Object.assign(outcome, { settled: true, value }),
    (error: unknown) => Object.assign(outcome, { settled: true, error }),
  );
  return outcome;
}

/** Lets the microtask queue and a few macrotask turns drain: every step of these tests is promise-driven. */
async function drain(): Promise<void> {
  for (let i = 0; i < 5; i++) await flush();
}

function asCycle(outcome: Outcome): DiError {
  expect(outcome.settled).toBe(true);
  expect(outcome.error).toBeInstanceOf(DiError);
  const err = outcome.error as DiError;
  expect(err.code).toBe(DiErrorCode.CIRCULAR_DEPENDENCY);
  expect(err.message).toBe(`[@app/di] circular dependency: ${err.path.join(' -> ')}`);
  return err;
}

/** The cycle `path` closes (the part from the first occurrence of its last name), as a set of edges. */
function cycleEdges(path: readonly string[]): string[] {
  const last = path.at(-1)!;
  const loop = path.slice(path.indexOf(last));
  return loop
    .slice(1)
    .map((to, i) => `${loop[i]}->${to}`)
    .sort();
}

interface Ring {
  container: Container;
  calls: Record<Name, number>;
  gates: Record<Name, Gate>;
  /** While true, the last node of the ring depends on the first (the cycle); false breaks it. */
  closed: { value: boolean };
}

/**
 * Async singletons where each depends on the next (`a -> b`, `b -> c`, ..., last -> first while closed).
 * Each factory waits for its gate before resolving its dependency, unless listed in `eager`.
 */
function ring(names: Name[], eager: Name[] = []): Ring {
  const container = createContainer();
  const calls = { a: 0, b: 0, c: 0 };
  const gates: Record<Name, Gate> = { a: deferred(), b: deferred(), c: deferred() };
  const closed = { value: true };
  names.forEach((name, i) => {
    const next = names[(i + 1) % names.length]!;
    const isLast = i === names.length - 1;
    container.register(TOKENS[name], {
      lifetime: 'singleton',
      useAsyncFactory: async (r) => {
        calls[name]++;
        if (!eager.includes(name)) await gates[name].promise;
        if (!isLast || closed.value) await r.resolveAsync(TOKENS[next]);
        return { [name]: true };
      },
    });
  });
  return { container, calls, gates, closed };
}

function permutations<T>(items: T[]): T[][] {
  if (items.length <= 1) return [items];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

/** Registers `token` as an async singleton that waits for `gate`, then resolves `next`, then is `{ [key]: true }`. */
function gatedSingleton(
  c: Container,
  token: InjectionToken<unknown>,
  gate: Promise<void>,
  next: InjectionToken<unknown>,
  key: string,
) {
  c.register(token, {
    lifetime: 'singleton',
    useAsyncFactory: async (r) => {
      await gate;
      await r.resolveAsync(next);
      return { [key]: true };
    },
  });
}

describe('cycles between concurrent resolves', () => {
  it('rejects the two-way cycle instead of hanging (A waits on B, then B on A)', async () => {
    const { container, gates } = ring(['a', 'b']);
    const a = observe(container.resolveAsync(A));
    const b = observe(container.resolveAsync(B));
    gates.a.resolve(); // a joins b's in-flight creation
    await drain();
    expect(a.settled || b.settled).toBe(false);
    gates.b.resolve(); // b would join a's: a is waiting on b
    await drain();
    const err = asCycle(b);
    expect(err.path).toEqual(['b', 'a', 'b']);
    expect(asCycle(a)).toBe(err); // a was waiting on b's creation, which failed with the cycle
  });

  // Every order of starting the two top-level resolves and of releasing the factories, with each factory
  // either gated or resolving its dependency straight away.
  const orders = permutations<Name>(['a', 'b']);
  const eagerness: Name[][] = [[], ['a'], ['b']];
  for (const starts of orders) {
    for (const releases of orders) {
      for (const eager of eagerness) {
        it(`two-way: start ${starts.join(',')}, release ${releases.join(',')}, eager [${eager.join(',')}]`, async () => {
          const { container, gates, calls, closed } = ring(['a', 'b'], eager);
          const outcomes = starts.map((name) => observe(container.resolveAsync(TOKENS[name])));
          for (const name of releases) {
            gates[name].resolve();
            await drain();
          }
          for (const outcome of outcomes) {
            expect(cycleEdges(asCycle(outcome).path)).toEqual(['a->b', 'b->a']);
          }
          // Nothing was cached: with the cycle broken, both resolve, each factory running once more.
          const before = { ...calls };
          closed.value = false;
          const [a, b] = await Promise.all([container.resolveAsync(A), container.resolveAsync(B)]);
          expect(a).toEqual({ a: true });
          expect(b).toEqual({ b: true });
          expect(calls).toEqual({ a: before.a + 1, b: before.b + 1, c: 0 });
          expect(await container.resolveAsync(A)).toBe(a);
        });
      }
    }
  }

  for (const releases of permutations<Name>(['a', 'b', 'c'])) {
    for (const starts of [
      ['a', 'b', 'c'],
      ['c', 'b', 'a'],
    ] as Name[][]) {
      it(`three-way: start ${starts.join(',')}, release ${releases.join(',')}`, async () => {
        const { container, gates, calls, closed } = ring(['a', 'b', 'c']);
        const outcomes = starts.map((name) => observe(container.resolveAsync(TOKENS[name])));
        for (const name of releases) {
          gates[name].resolve();
          await drain();
        }
        const errors = outcomes.map(asCycle);
        for (const err of errors) expect(cycleEdges(err.path)).toEqual(['a->b', 'b->c', 'c->a']);
        // The resolve that closed the cycle names it from its own request: the last gate released.
        const closer = releases.at(-1)!;
        const next = { a: 'b', b: 'c', c: 'a' } as const;
        expect(errors.some((e) => e.path[0] === closer && e.path[1] === next[closer])).toBe(true);

        closed.value = false;
        const before = { ...calls };
        const values = await Promise.all(starts.map((name) => container.resolveAsync(TOKENS[name])));
        expect(values).toEqual(starts.map((name) => ({ [name]: true })));
        expect(calls).toEqual({ a: before.a + 1, b: before.b + 1, c: before.c + 1 });
      });
    }
  }

  it('follows creations started inside others (a starts b; b joins c; c joins a, which waits on b)', async () => {
    const c = createContainer();
    const gates = { b: deferred(), c: deferred() };
    c.register(A, {
      lifetime: 'singleton',
      useAsyncFactory: async (r) => {
        await r.resolveAsync(B);
        return { a: true };
      },
    });
    gatedSingleton(c, B, gates.b.promise, C, 'b');
    gatedSingleton(c, C, gates.c.promise, A, 'c');
    const a = observe(c.resolveAsync(A)); // a starts b inside its own creation
    const cc = observe(c.resolveAsync(C));
    gates.b.resolve(); // b joins c's in-flight creation
    await drain();
    expect(a.settled || cc.settled).toBe(false);
    gates.c.resolve(); // c would join a's: a waits on b (which it started), b on c
    await drain();
    const err = asCycle(cc);
    expect(err.path).toEqual(['c', 'a', 'b', 'c']);
    expect(asCycle(a)).toBe(err);
  });

  it('ends a wait when the awaited creation settles (no stale cycle)', async () => {
    const c = createContainer();
    const gates = { a: deferred(), b: deferred() };
    let bNeedsA = false;
    c.register(A, {
      lifetime: 'singleton',
      useAsyncFactory: async (r) => {
        await r.resolveAsync(B);
        await gates.a.promise;
        return { a: true };
      },
    });
    c.register(B, {
      lifetime: 'singleton',
      useAsyncFactory: async (r) => {
        await gates.b.promise;
        if (bNeedsA) await r.resolveAsync(A);
        return { b: true };
      },
    });
    const firstB = observe(c.resolveAsync(B));
    const a = observe(c.resolveAsync(A)); // a joins b's creation
    gates.b.resolve(); // b is built: a no longer waits on it (a now waits on its gate)
    await drain();
    expect(firstB.settled).toBe(true);
    bNeedsA = true;
    const rebuild = observe(c.invalidate(B)); // b's rebuild waits on a's creation: not a cycle
    await drain();
    expect(rebuild.settled).toBe(false);
    gates.a.resolve();
    await drain();
    expect(a).toEqual({ settled: true, value: { a: true } });
    expect(rebuild).toEqual({ settled: true, value: undefined });
  });

  it('names transients between the creations in the path', async () => {
    const T = createToken<unknown>('t');
    const c = createContainer();
    const gates = { a: deferred(), b: deferred() };
    c.register(T, { useAsyncFactory: (r) => r.resolveAsync(B) }); // transient
    gatedSingleton(c, A, gates.a.promise, T, 'a');
    gatedSingleton(c, B, gates.b.promise, A, 'b');
    const a = observe(c.resolveAsync(A));
    const b = observe(c.resolveAsync(B));
    gates.a.resolve();
    await drain();
    gates.b.resolve();
    await drain();
    expect(asCycle(b).path).toEqual(['b', 'a', 't', 'b']);
    expect(asCycle(a).path).toEqual(['b', 'a', 't', 'b']);
  });

  it('fails a rebuild that would wait on a rebuild waiting on it, keeping the old instance', async () => {
    const c = createContainer();
    const gates = { a: deferred(), b: deferred() };
    const closed = { value: false };
    let builds = 0;
    c.register(A, {
      lifetime: 'singleton',
      useAsyncFactory: async (r) => {
        builds++;
        if (builds > 1) await gates.a.promise;
        await r.resolveAsync(B);
        return { a: true };
      },
    });
    c.register(B, {
      lifetime: 'singleton',
      useAsyncFactory: async (r) => {
        if (closed.value) {
          await gates.b.promise;
          await r.resolveAsync(A);
        }
        return { b: true };
      },
    });
    await c.resolveAsync(A);
    const oldB = await c.resolveAsync(B);
    closed.value = true;
    const a = observe(c.invalidate(A));
    const b = observe(c.invalidate(B));
    gates.a.resolve(); // a's rebuild waits on b's
    await drain();
    gates.b.resolve(); // b's rebuild would wait on a's
    await drain();
    expect(b.settled).toBe(true);
    const err = b.error as DiError;
    expect(err.code).toBe(DiErrorCode.REBUILD_FAILED);
    expect((err.cause as DiError).code).toBe(DiErrorCode.CIRCULAR_DEPENDENCY);
    expect((err.cause as DiError).path).toEqual(['b', 'a', 'b']);
    // a's rebuild got the instance b kept serving.
    expect(a).toEqual({ settled: true, value: undefined });
    expect(oldB).toEqual({ b: true });
  });

  it('runs each factory of a diamond once under 1,000 concurrent resolves of all its nodes', async () => {
    const D = createToken<Instance>('d');
    const c = createContainer();
    const calls = { a: 0, b: 0, c: 0, d: 0 };
    const gate = deferred();
    const node = (name: keyof typeof calls, deps: InjectionToken<Instance>[], value: Instance) => ({
      lifetime: 'singleton' as const,
      useAsyncFactory: async (r: Resolver) => {
        calls[name]++;
        await gate.promise;
        await Promise.all(deps.map((dep) => r.resolveAsync(dep)));
        return value;
      },
    });
    // d -> b, c; b -> a; c -> a
    c.register(A, node('a', [], { a: true }));
    c.register(B, node('b', [A], { b: true }));
    c.register(C, node('c', [A], { c: true }));
    c.register(D, node('d', [B, C], { d: true }));
    const tokens = [D, C, B, A];
    const all = Promise.all(Array.from({ length: 1000 }, (_, i) => c.resolveAsync(tokens[i % 4]!)));
    gate.resolve();
    const values = await all;
    expect(calls).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    for (let i = 0; i < 4; i++) expect(new Set(values.filter((_, j) => j % 4 === i)).size).toBe(1);
    expect(values[0]).toEqual({ d: true });
  });
});
