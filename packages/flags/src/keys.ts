import { FlagsError, FlagsErrorCode } from './errors.js';

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
      FlagsErrorCode.INVALID_OPTIONS,
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

/**
 * What a source's `list(prefix)` resolves to: every live key under the prefix and its value. `@app/config`'s
 * service returns exactly this (its entries also carry a version and an expiry, which flags ignore).
 */
export type FlagListing = ReadonlyMap<string, { readonly value: unknown }>;

/** The part of a source that can list keys by prefix (optional on sources and stores). */
export interface ListsKeys {
  /** Every live key starting with `prefix` (taken literally) and its value. */
  list(prefix: string): Promise<FlagListing>;
}

/** Whether `source` offers `list(prefix)`. */
export function canList<T extends object>(source: T): source is T & ListsKeys {
  return typeof (source as Partial<ListsKeys>).list === 'function';
}

/** Checks the shape of a listing, so a foreign `list` that returns something else fails loudly. */
export function readListing(listing: unknown, prefix: string): [name: string, value: unknown][] {
  if (
    typeof listing !== 'object' ||
    listing === null ||
    typeof (listing as Partial<Iterable<unknown>>)[Symbol.iterator] !== 'function'
  ) {
    throw new FlagsError(
      FlagsErrorCode.SOURCE_ERROR,
      'source.list(prefix) must resolve to a Map of key -> { value }',
    );
  }
  const out: [string, unknown][] = [];
  for (const item of listing as Iterable<unknown>) {
    const [key, entry] = Array.isArray(item) ? item : [];
    if (typeof key !== 'string' || typeof entry !== 'object' || entry === null || !('value' in entry)) {
      throw new FlagsError(
        FlagsErrorCode.SOURCE_ERROR,
        'source.list(prefix) must resolve to a Map of key -> { value }',
      );
    }
    if (key.startsWith(prefix)) out.push([key.slice(prefix.length), entry.value]);
  }
  return out;
}
