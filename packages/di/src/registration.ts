// What `register()` accepts: provider validation, and the constructor parameters of class providers.
import { DiError, DiErrorCode } from './errors.js';
import type { Kind, Registration } from './model.js';
import { type Param, paramsOf } from './params.js';
import { tokenName } from './token.js';
import type { ClassProvider, Lifetime } from './types.js';

const LIFETIMES: ReadonlySet<string> = new Set(['singleton', 'scoped', 'transient']);

/** Checks a token and its provider before anything is registered; returns the provider's kind and lifetime. */
export function validateProvider(
  token: unknown,
  provider: unknown,
): { kind: Kind; lifetime: Lifetime | 'value' } {
  const tokenOk =
    typeof token === 'symbol' ||
    typeof token === 'function' ||
    (typeof token === 'string' && token.length > 0);
  if (!tokenOk) {
    throw new DiError(
      DiErrorCode.INVALID_PROVIDER,
      'a token must be a createToken() symbol, a class or a string',
    );
  }
  const name = tokenName(token);
  if (typeof provider !== 'object' || provider === null) {
    throw new DiError(DiErrorCode.INVALID_PROVIDER, `the provider of '${name}' must be an object`);
  }
  const p = provider as Record<string, unknown>;
  const keys = ['useValue', 'useClass', 'useFactory', 'useAsyncFactory', 'useConfigFactory'].filter(
    (k) => k in p,
  );
  if (keys.length !== 1) {
    throw new DiError(
      DiErrorCode.INVALID_PROVIDER,
      `the provider of '${name}' needs exactly one of useValue, useClass, useFactory, useAsyncFactory, useConfigFactory (got ${keys.length === 0 ? 'none' : keys.join(', ')})`,
    );
  }
  if (p.dispose !== undefined && typeof p.dispose !== 'function') {
    throw new DiError(DiErrorCode.INVALID_PROVIDER, `the dispose hook of '${name}' must be a function`);
  }
  const key = keys[0];
  if (key === 'useValue') return { kind: 'value', lifetime: 'value' };
  if (key === 'useConfigFactory') {
    if (typeof p.useConfigFactory !== 'function') {
      throw new DiError(DiErrorCode.INVALID_PROVIDER, `useConfigFactory of '${name}' must be a function`);
    }
    if (typeof p.configKey !== 'string' || p.configKey.length === 0) {
      throw new DiError(
        DiErrorCode.INVALID_PROVIDER,
        `the config-bound provider '${name}' needs a configKey`,
      );
    }
    if (p.lifetime !== undefined && p.lifetime !== 'singleton') {
      throw new DiError(
        DiErrorCode.INVALID_PROVIDER,
        `config-bound provider '${name}' is always a singleton`,
      );
    }
    return { kind: 'config', lifetime: 'singleton' };
  }
  if (typeof p[key as string] !== 'function') {
    throw new DiError(DiErrorCode.INVALID_PROVIDER, `${key} of '${name}' must be a function`);
  }
  const lifetime = p.lifetime ?? 'transient';
  if (typeof lifetime !== 'string' || !LIFETIMES.has(lifetime)) {
    throw new DiError(
      DiErrorCode.INVALID_PROVIDER,
      `the lifetime of '${name}' must be 'singleton', 'scoped' or 'transient' (got ${String(lifetime)})`,
    );
  }
  const kind: Kind = key === 'useClass' ? 'class' : key === 'useFactory' ? 'factory' : 'async';
  return { kind, lifetime: lifetime as Lifetime };
}

/** A class provider's constructor parameters, read once. */
export function paramsFor(reg: Registration): Param[] {
  if (reg.params === undefined)
    reg.params = paramsOf((reg.provider as ClassProvider<unknown>).useClass, reg.name);
  return reg.params;
}
