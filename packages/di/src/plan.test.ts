import { describe, expect, it } from 'vitest';
import { createContainer, createToken, DiError, DiErrorCode, inject, injectable } from './index.js';

// Transient class graphs run as compiled plans (plan.ts). These check that a plan builds what the
// frame-by-frame resolution builds, follows registration changes, and never hides a cycle or a disposal.

function caught(fn: () => unknown): DiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof DiError) return error;
    throw error;
  }
  throw new Error('expected a DiError');
}

/** A transient class named `name` whose one constructor parameter is `dep`. */
function needing(name: string, dep: Parameters<typeof inject>[0]) {
  const cls = class {
    constructor(readonly dep: unknown) {}
  };
  Object.defineProperty(cls, 'name', { value: name });
  inject(dep)(cls, undefined, 0);
  injectable()(cls);
  return cls;
}

const LEAF = createToken<{ kind: string }>('leaf');

@injectable()
class Pair {
  constructor(
    @inject(LEAF) readonly a: { kind: string },
    @inject(LEAF) readonly b: { kind: string },
  ) {}
}

@injectable()
class Root {
  constructor(
    @inject(Pair) readonly left: Pair,
    @inject(Pair) readonly right: Pair,
  ) {}
}

class RealLeaf {
  readonly kind = 'real';
}
class FakeLeaf {
  readonly kind = 'fake';
}

describe('compiled transient graphs', () => {
  it('builds a fresh tree on every resolve, values shared', () => {
    const c = createContainer();
    const shared = { kind: 'value' };
    c.register(LEAF, { useValue: shared });
    c.register(Pair, { useClass: Pair });
    c.register(Root, { useClass: Root });
    const one = c.resolve(Root);
    const two = c.resolve(Root);
    expect(one).not.toBe(two);
    expect(one.left).not.toBe(one.right);
    expect(one.left).toBeInstanceOf(Pair);
    expect(one.left.a).toBe(shared);
    expect(two.right.b).toBe(shared);
  });

  it('follows a re-registration made after the first resolve, in the container and in a scope', () => {
    const c = createContainer();
    c.register(LEAF, { useClass: RealLeaf });
    c.register(Pair, { useClass: Pair });
    c.register(Root, { useClass: Root });
    expect(c.resolve(Root).left.a.kind).toBe('real');
    const scope = c.createScope();
    scope.register(LEAF, { useClass: FakeLeaf });
    expect(scope.resolve(Root).right.b.kind).toBe('fake');
    expect(c.resolve(Root).right.b.kind).toBe('real');
    c.register(LEAF, { useValue: { kind: 'value' } });
    expect(c.resolve(Root).left.b.kind).toBe('value');
    expect(scope.resolve(Root).left.b.kind).toBe('fake');
  });

  it('reports a cycle of transient classes with its path, also one closed after a plan was built', () => {
    const A = createToken<unknown>('A');
    const B = createToken<unknown>('B');
    const NeedsB = needing('NeedsB', B);
    const NeedsA = needing('NeedsA', A);
    const c = createContainer();
    c.register(A, { useClass: NeedsB });
    c.register(B, { useClass: NeedsA });
    const err = caught(() => c.resolve(A));
    expect(err.code).toBe(DiErrorCode.CIRCULAR_DEPENDENCY);
    expect(err.message).toBe('[@app/di] circular dependency: A -> B -> A');
    expect(err.path).toEqual(['A', 'B', 'A']);

    const d = createContainer();
    d.register(A, { useClass: NeedsB });
    d.register(B, { useValue: 'b' });
    expect(d.resolve(A)).toBeInstanceOf(NeedsB);
    d.register(B, { useClass: NeedsA }); // closes the cycle A -> B -> A
    expect(caught(() => d.resolve(B)).path).toEqual(['B', 'A', 'B']);
  });

  it('keeps the path of an error raised below a transient subtree', () => {
    const MISSING = createToken<unknown>('missing');
    const Needs = needing('Needs', MISSING);
    const Top = needing('Top', Needs);
    const c = createContainer();
    c.register(Needs, { useClass: Needs });
    c.register(Top, { useClass: Top });
    const err = caught(() => c.resolve(Top));
    expect(err.code).toBe(DiErrorCode.NOT_REGISTERED);
    expect(err.path).toEqual(['Top', 'Needs', 'missing']);
  });

  it('throws DISPOSED with the path when a constructor disposes the container mid-build', () => {
    const c = createContainer();
    class Disposer {
      constructor() {
        void c.dispose();
      }
    }
    @injectable()
    class Mid {
      constructor(
        @inject(Disposer) readonly d: Disposer,
        @inject(LEAF) readonly leaf: unknown,
      ) {}
    }
    @injectable()
    class Outer {
      constructor(@inject(Mid) readonly mid: Mid) {}
    }
    c.register(LEAF, { useClass: RealLeaf });
    c.register(Disposer, { useClass: Disposer });
    c.register(Mid, { useClass: Mid });
    c.register(Outer, { useClass: Outer });
    const err = caught(() => c.resolve(Outer));
    expect(err.code).toBe(DiErrorCode.DISPOSED);
    expect(err.path).toEqual(['Outer', 'Mid']);
  });

  it('disposes transients with a dispose hook inside a compiled-looking graph', async () => {
    const disposed: string[] = [];
    const c = createContainer();
    c.register(LEAF, { useClass: RealLeaf, dispose: (leaf) => void disposed.push(leaf.kind) });
    c.register(Pair, { useClass: Pair });
    c.resolve(Pair);
    await c.dispose();
    expect(disposed).toEqual(['real', 'real']);
  });
});
