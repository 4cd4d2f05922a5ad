import { FlagsError, FlagsErrorCode } from './errors.js';
import { canList, type FlagListing, flagKeys, parseIndex } from './keys.js';
import type { FlagDefinition } from './types.js';
import { defineFlag, isValidFlagName, type ValidateOptions } from './validate.js';

/**
 * Where definitions are written: `@app/config`'s service fits, as does anything with these methods.
 * `delete` is only needed by {@link deleteFlag}. A store with `list` is taken to be read by sources that
 * list too, so no index is kept for it (see {@link FlagWriteOptions.writeIndex}).
 */
export interface FlagStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  delete?(key: string): Promise<unknown>;
  list?(prefix: string): Promise<FlagListing>;
}

/** Options of {@link setFlag} and {@link deleteFlag}. */
export interface FlagWriteOptions extends ValidateOptions {
  /** The key prefix the readers use. @default 'flags.' */
  keyPrefix?: string;
  /**
   * Keep the index key (`<keyPrefix>_index`) up to date, for readers whose source cannot `list`. Readers
   * that can list never read it. Set it to `true` if such readers share a store that can list.
   * @default true when the store has no `list` method, false when it has one
   */
  writeIndex?: boolean;
}

// Index updates from one process are queued per store, so concurrent setFlag calls never lose a name.
const queues = new WeakMap<object, Promise<unknown>>();

function serialized<T>(store: object, task: () => Promise<T>): Promise<T> {
  const previous = queues.get(store) ?? Promise.resolve();
  const next = previous.then(task, task);
  queues.set(
    store,
    next.catch(() => {}),
  );
  return next;
}

const MAX_INDEX_ATTEMPTS = 5;

/** Whether the write keeps the index; rejects a bad `writeIndex` before any I/O. */
function keepsIndex(store: FlagStore, options: FlagWriteOptions): boolean {
  const { writeIndex } = options;
  if (writeIndex !== undefined && typeof writeIndex !== 'boolean') {
    throw new FlagsError(FlagsErrorCode.INVALID_OPTIONS, 'writeIndex must be a boolean');
  }
  return writeIndex ?? !canList(store);
}

/**
 * Adds or removes a name in the index, then reads it back: if another process's write raced ours and the
 * name is not as wanted, the update is applied again (at most 5 times).
 */
async function updateIndex(
  store: FlagStore,
  indexKey: string,
  name: string,
  present: boolean,
): Promise<void> {
  for (let attempt = 1; attempt <= MAX_INDEX_ATTEMPTS; attempt++) {
    const names = new Set(parseIndex(await store.get(indexKey)));
    if (names.has(name) === present) return;
    if (present) names.add(name);
    else names.delete(name);
    await store.set(indexKey, [...names].sort());
  }
  const check = new Set(parseIndex(await store.get(indexKey)));
  if (check.has(name) !== present) {
    throw new FlagsError(
      FlagsErrorCode.SOURCE_ERROR,
      `could not update the flag index for "${name}" after ${MAX_INDEX_ATTEMPTS} attempts (concurrent writers?)`,
    );
  }
}

/**
 * Validates `definition` and writes it to `flags.<name>`, one value under one key, so readers never see
 * half a flag. A bad definition throws a {@link FlagsError} before anything is written. When the index is
 * kept (`writeIndex`), the name is added to it first: a reader that sees the name before the definition
 * treats the flag as unknown until the definition lands a moment later.
 *
 * @example
 * ```ts
 * await setFlag(config, 'new-checkout', { enabled: true, rollout: 25 });
 * ```
 */
export async function setFlag(
  store: FlagStore,
  name: string,
  definition: FlagDefinition,
  options: FlagWriteOptions = {},
): Promise<FlagDefinition> {
  const clean = defineFlag(name, definition, { contextFields: options.contextFields });
  const keys = flagKeys(options.keyPrefix);
  const index = keepsIndex(store, options);
  if (index) {
    await serialized(store, () => updateIndex(store, keys.index, name, true));
  }
  await store.set(keys.flag(name), clean);
  return clean;
}

/**
 * Deletes a flag: its definition first, then (when the index is kept) its name from the index. Needs a
 * store with `delete`.
 *
 * @example
 * ```ts
 * await deleteFlag(config, 'old-banner');
 * ```
 */
export async function deleteFlag(
  store: FlagStore,
  name: string,
  options: FlagWriteOptions = {},
): Promise<void> {
  if (!isValidFlagName(name)) {
    throw new FlagsError(FlagsErrorCode.INVALID_FLAG_NAME, `invalid flag name ${JSON.stringify(name)}`);
  }
  if (typeof store.delete !== 'function') {
    throw new FlagsError(FlagsErrorCode.INVALID_OPTIONS, 'deleteFlag needs a store with delete(key)');
  }
  const keys = flagKeys(options.keyPrefix);
  const index = keepsIndex(store, options);
  await store.delete(keys.flag(name));
  if (index) {
    await serialized(store, () => updateIndex(store, keys.index, name, false));
  }
}
