import { FLAGS_ERROR_CODES, FlagsError } from './errors.js';

/** Where flags live in config when no `keyPrefix` is given: `flags.<name>`, and the index at `flags._index`. */
export const DEFAULT_KEY_PREFIX = 'flags.';

/** The config keys of one flag layout. */
export interface FlagKeys {
  prefix: string;
  index: string;
  /** What to pass to `ConfigSource.watch` to hear every key under the prefix. */
  watch: string;
  flag(name: string): string;
}

/** Builds the key layout for a prefix, rejecting an empty one before any I/O. */
export function flagKeys(prefix: string = DEFAULT_KEY_PREFIX): FlagKeys {
  if (typeof prefix !== 'string' || prefix === '' || prefix.endsWith('*')) {
    throw new FlagsError(
      FLAGS_ERROR_CODES.INVALID_OPTIONS,
      `keyPrefix must be a non-empty string not ending in "*", e.g. "flags." (got ${JSON.stringify(prefix)})`,
    );
  }
  return {
    prefix,
    index: `${prefix}_index`,
    watch: prefix.endsWith('.') ? prefix : `${prefix}*`,
    flag: (name) => `${prefix}${name}`,
  };
}

/** Reads an index value (an array of names, or its JSON text), keeping only strings. */
export function parseIndex(value: unknown): string[] {
  let v = value;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return [];
    }
  }
  return Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : [];
}
