/**
 * Whatever holds a connection, a timer or a subscription: stores, transports, providers, caches. `close()`
 * releases it (idempotent: a second call resolves at once), and `await using` calls it for you.
 *
 * @example
 * ```ts
 * await using store = redisOtpStore({ client });
 * // store.close() runs when the block ends
 * ```
 */
export interface Closeable {
  /** Releases what the object holds. Safe to call more than once; after it, nothing keeps the process alive. */
  close(): Promise<void>;
  /** The same as {@link Closeable.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Adds `close()` (run once, however often called) and `[Symbol.asyncDispose]` to an object, so every
 * store and transport gets the {@link Closeable} contract from one place.
 *
 * @example
 * ```ts
 * return closeable({ get, set }, async () => { clearInterval(timer); });
 * ```
 */
export function closeable<T extends object>(
  target: T,
  release: () => void | Promise<void> = () => {},
): T & Closeable {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.resolve().then(release);
    return closing;
  };
  return Object.assign(target, { close, [Symbol.asyncDispose]: close });
}
