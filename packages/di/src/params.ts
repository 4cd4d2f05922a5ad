import { DiError, DiErrorCode } from './errors.js';

/** How one constructor parameter is resolved, read from tsyringe's decorator metadata. */
export type Param =
  | { kind: 'token'; token: unknown; optional: boolean }
  | { kind: 'all'; token: unknown }
  | { kind: 'transform'; token: unknown; multiple: boolean; transform: unknown; args: unknown[] }
  | { kind: 'delayed'; token: unknown };

// tsyringe's metadata key for @inject/@injectAll/@injectWithTransform descriptors (reflection-helpers.ts).
const INJECTION_TOKENS = 'injectionTokens';
// What interfaces, unions and primitives erase to in `design:paramtypes`: never a useful token.
const ERASED: ReadonlySet<unknown> = new Set([
  Object,
  String,
  Number,
  Boolean,
  Symbol,
  BigInt,
  Array,
  Function,
  Promise,
]);

function isDelayed(token: unknown): boolean {
  return (
    typeof token === 'object' &&
    token !== null &&
    typeof (token as { createProxy?: unknown }).createProxy === 'function'
  );
}

function describe(descriptor: unknown): Param {
  if (isDelayed(descriptor)) return { kind: 'delayed', token: descriptor };
  if (typeof descriptor === 'object' && descriptor !== null) {
    const d = descriptor as {
      token?: unknown;
      multiple?: boolean;
      isOptional?: boolean;
      transform?: unknown;
      transformArgs?: unknown[];
    };
    if ('token' in d) {
      if (isDelayed(d.token)) return { kind: 'delayed', token: d.token };
      if (d.transform !== undefined) {
        return {
          kind: 'transform',
          token: d.token,
          multiple: d.multiple === true,
          transform: d.transform,
          args: d.transformArgs ?? [],
        };
      }
      if (d.multiple === true) return { kind: 'all', token: d.token };
      return { kind: 'token', token: d.token, optional: d.isOptional === true };
    }
  }
  return { kind: 'token', token: descriptor, optional: false };
}

/**
 * Reads a class's constructor parameters the way tsyringe does: `design:paramtypes` (emitted for
 * decorated classes under `emitDecoratorMetadata`) overridden by `@inject()`-style descriptors.
 */
export function paramsOf(ctor: Function, name: string): Param[] {
  const types = Reflect.getMetadata('design:paramtypes', ctor) as unknown[] | undefined;
  const injected = (Reflect.getOwnMetadata(INJECTION_TOKENS, ctor) ?? {}) as Record<string, unknown>;
  const count = Math.max(types?.length ?? 0, ctor.length, ...Object.keys(injected).map((k) => Number(k) + 1));
  const params: Param[] = [];
  for (let i = 0; i < count; i++) {
    if (injected[i] !== undefined) {
      params.push(describe(injected[i]));
      continue;
    }
    const type = types?.[i];
    if (type === undefined) {
      throw new DiError(
        DiErrorCode.MISSING_METADATA,
        `cannot construct '${name}': the type of constructor parameter #${i} is unknown. Decorate the class with @injectable() (and compile with emitDecoratorMetadata), or name the dependency with @inject(token)`,
      );
    }
    if (ERASED.has(type)) {
      throw new DiError(
        DiErrorCode.MISSING_METADATA,
        `cannot construct '${name}': constructor parameter #${i} is typed as ${(type as Function).name} (what interfaces, unions and primitives compile to). Name the dependency with @inject(token)`,
      );
    }
    params.push({ kind: 'token', token: type, optional: false });
  }
  return params;
}
