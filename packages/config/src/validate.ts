import { ConfigError } from './errors.js';
import type { JsonValue } from './types.js';

/** Longest key accepted, in characters. */
export const MAX_KEY_LENGTH = 512;

/** Throws `INVALID_KEY` unless `key` is a usable configuration key. */
export function assertKey(key: unknown, what = 'key'): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new ConfigError('INVALID_KEY', `${what} must be a non-empty string`);
  }
  if (key.length > MAX_KEY_LENGTH) {
    throw new ConfigError('INVALID_KEY', `${what} is longer than ${MAX_KEY_LENGTH} characters`);
  }
  // Control characters (U+0000-U+001F, U+007F) would make keys ambiguous in logs, Redis channels and SQL
  // dumps. A loop, not a regex: this runs on every write, and a character scan is the cheaper of the two.
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new ConfigError('INVALID_KEY', `${what} contains a control character`);
  }
}

/**
 * Returns the path of the first part of `value` that is not plain JSON (undefined, functions, symbols,
 * bigints, non-finite numbers, class instances such as Date or Map, cycles), or `undefined` when it is JSON.
 */
export function findNonJson(value: unknown, path = '$', seen = new Set<object>()): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : path;
  if (typeof value !== 'object') return path;
  if (seen.has(value)) return path;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const bad = findNonJson(value[i], `${path}[${i}]`, seen);
        if (bad) return bad;
      }
      return undefined;
    }
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) return path;
    for (const [k, v] of Object.entries(value)) {
      const bad = findNonJson(v, `${path}.${k}`, seen);
      if (bad) return bad;
    }
    return undefined;
  } finally {
    seen.delete(value);
  }
}

/** Throws `INVALID_VALUE` unless `value` is plain JSON. */
export function assertJson(value: unknown, key: string): asserts value is JsonValue {
  // Strings, booleans, finite numbers and null need no walk (and no cycle set).
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  const bad = findNonJson(value);
  if (bad !== undefined) {
    throw new ConfigError('INVALID_VALUE', `value of '${key}' is not JSON at ${bad}`);
  }
}
