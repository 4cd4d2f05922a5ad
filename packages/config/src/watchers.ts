import type { Logger, Unsubscribe } from '@app/core';
import { assertKey } from './validate.js';

/** A watch callback as the registry stores it. */
export type WatchCallback = (value: unknown, key: string) => void;

/** The prefix a watch pattern stands for, or `undefined` for an exact key. */
export function patternPrefix(key: string): string | undefined {
  if (key.endsWith('*')) return key.slice(0, -1);
  if (key.endsWith('.')) return key;
  return undefined;
}

/**
 * Who watches what: exact keys and prefixes (`'email.*'`, `'email.'`), and calling them on a change. Each
 * slot holds its callbacks in an array that is replaced, never changed, when a watch is added or removed: a
 * notification walks the array it found, so a callback that adds or removes watches meanwhile cannot upset
 * it, and nothing is copied per notification.
 */
export class Watchers {
  private readonly exact = new Map<string, readonly WatchCallback[]>();
  private readonly prefixed = new Map<string, readonly WatchCallback[]>();

  constructor(private readonly logger: Logger) {}

  /** Adds a watch on a key or a pattern; returns the function that removes it. */
  add(key: string, callback: WatchCallback): Unsubscribe {
    const prefix = patternPrefix(key);
    if (prefix === undefined) assertKey(key);
    const map = prefix === undefined ? this.exact : this.prefixed;
    const slot = prefix ?? key;
    // A wrapper per call, so watching twice with one function makes two watches that stop separately.
    const cb: WatchCallback = (value, changed) => callback(value, changed);
    map.set(slot, [...(map.get(slot) ?? []), cb]);
    return () => {
      const current = map.get(slot);
      if (current === undefined || !current.includes(cb)) return;
      if (current.length === 1) map.delete(slot);
      else
        map.set(
          slot,
          current.filter((other) => other !== cb),
        );
    };
  }

  /** True when an exact watch or a prefix watch covers `key`. */
  covers(key: string): boolean {
    if (this.exact.has(key)) return true;
    for (const prefix of this.prefixed.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /** The watched prefixes. */
  prefixes(): string[] {
    return [...this.prefixed.keys()];
  }

  /** Calls every watcher of `key` with `value`; a callback that throws is logged and the others still run. */
  notify(key: string, value: unknown): void {
    const exact = this.exact.get(key);
    // The prefix watches as they were before any callback ran (one may add or remove some).
    const prefixed = this.prefixed.size === 0 ? undefined : [...this.prefixed];
    if (exact !== undefined) this.call(exact, key, value);
    if (prefixed === undefined) return;
    for (const [prefix, callbacks] of prefixed) if (key.startsWith(prefix)) this.call(callbacks, key, value);
  }

  clear(): void {
    this.exact.clear();
    this.prefixed.clear();
  }

  private call(callbacks: readonly WatchCallback[], key: string, value: unknown): void {
    for (let i = 0; i < callbacks.length; i++) {
      try {
        (callbacks[i] as WatchCallback)(value, key);
      } catch (error) {
        this.logger.error({ err: error, key }, '[@app/config] a watch callback threw');
      }
    }
  }
}
