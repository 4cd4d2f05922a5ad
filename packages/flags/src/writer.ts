import { FLAGS_ERROR_CODES, FlagsError } from './errors.js';
import { flagKeys, parseIndex } from './keys.js';
import type { FlagDefinition } from './types.js';
import { defineFlag, isValidFlagName } from './validate.js';

/**
 * Where definitions are written: `@app/config`'s service fits, as does anything with these methods.
 * `delete` is only needed by {@link deleteFlag}.
 */
export interface FlagStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  delete?(key: string): Promise<unknown>;
}

/** Options of {@link setFlag} and {@link deleteFlag}. */
export interface FlagWriteOptions {
  /** The key prefix the readers use. @default 'flags.' */
  keyPrefix?: string;
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
      FLAGS_ERROR_CODES.SOURCE_ERROR,
      `could not update the flag index for "${name}" after ${MAX_INDEX_ATTEMPTS} attempts (concurrent writers?)`,
    );
  }
}

/**
 * Validates `definition` and writes it to `flags.<name>`. A bad definition throws a {@link FlagsError}
 * before anything is written. The name is added to the index first and the definition (one value, one
 * key) second, so readers never see half a flag: a reader that sees the name before the definition treats
 * the flag as unknown until the definition lands a moment later.
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
  const clean = defineFlag(name, definition);
  const keys = flagKeys(options.keyPrefix);
  await serialized(store, () => updateIndex(store, keys.index, name, true));
  await store.set(keys.flag(name), clean);
  return clean;
}

/**
 * Deletes a flag: its definition first, then its name from the index. Needs a store with `delete`.
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
    throw new FlagsError(FLAGS_ERROR_CODES.INVALID_FLAG_NAME, `invalid flag name ${JSON.stringify(name)}`);
  }
  if (typeof store.delete !== 'function') {
    throw new FlagsError(FLAGS_ERROR_CODES.INVALID_OPTIONS, 'deleteFlag needs a store with delete(key)');
  }
  const keys = flagKeys(options.keyPrefix);
  await store.delete(keys.flag(name));
  await serialized(store, () => updateIndex(store, keys.index, name, false));
}
