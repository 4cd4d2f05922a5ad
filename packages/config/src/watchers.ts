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

/** Who watches what: exact keys and prefixes (`'email.*'`, `'email.'`), and calling them on a change. */
export class Watchers {
  private readonly exact = new Map<string, Set<WatchCallback>>();
  private readonly prefixed = new Map<string, Set<WatchCallback>>();

  constructor(private readonly logger: Logger) {}

  /** Adds a watch on a key or a pattern; returns the function that removes it. */
  add(key: string, callback: WatchCallback): Unsubscribe {
    const prefix = patternPrefix(key);
    if (prefix === undefined) assertKey(key);
    const map = prefix === undefined ? this.exact : this.prefixed;
    const slot = prefix ?? key;
    let set = map.get(slot);
    if (!set) {
      set = new Set();
      map.set(slot, set);
    }
    // A wrapper per call, so watching twice with one function makes two watches that stop separately.
    const cb: WatchCallback = (value, changed) => callback(value, changed);
    set.add(cb);
    return () => {
      const current = map.get(slot);
      if (!current) return;
      current.delete(cb);
      if (current.size === 0) map.delete(slot);
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
    if (exact === undefined && this.prefixed.size === 0) return;
    const callbacks: WatchCallback[] = exact ? [...exact] : [];
    for (const [prefix, set] of this.prefixed) if (key.startsWith(prefix)) callbacks.push(...set);
    for (const cb of callbacks) {
      try {
        cb(value, key);
      } catch (error) {
        this.logger.error({ err: error, key }, '[@app/config] a watch callback threw');
      }
    }
  }

  clear(): void {
    this.exact.clear();
    this.prefixed.clear();
  }
}
