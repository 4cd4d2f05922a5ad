/** Stops a watch or a subscription. Calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * Called when a watched key changes. `value` is `undefined` when the key was deleted.
 * `key` is the key that changed (useful when watching a prefix).
 */
export type ConfigWatchCallback = (value: unknown, key: string) => void;

/**
 * The read side of a configuration system, typed structurally so that any implementation fits:
 * `@app/config`'s service does, and so does a hand-written object over environment variables.
 *
 * @example
 * ```ts
 * const env: ConfigSource = {
 *   async get(key) { return process.env[key]; },
 *   watch() { return () => {}; },
 * };
 * ```
 */
export interface ConfigSource {
  /** Reads the current value of `key`, or `undefined` when it is not set. */
  get(key: string): Promise<unknown>;
  /**
   * Calls `callback` after `key` changes (or any key under it when it ends with `.` or `*`), on this
   * instance or, for a shared source, on any instance. Returns the function that stops watching.
   */
  watch(key: string, callback: ConfigWatchCallback): Unsubscribe;
}
