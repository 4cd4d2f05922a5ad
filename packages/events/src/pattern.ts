import { EventsError, EventsErrorCode } from './errors.js';

/**
 * The template-literal type a pattern stands for: every `*` becomes `${string}`, so `'user.*'` is
 * `` `user.${string}` ``.
 */
export type PatternTemplate<P extends string> = P extends `${infer Head}*${infer Tail}`
  ? `${Head}${string}${PatternTemplate<Tail>}`
  : P;

/** The names of `Events` that `P` matches (every name when `Events` is keyed by `string`). */
export type MatchingNames<Events, P extends string> = string extends keyof Events
  ? keyof Events & string
  : Extract<keyof Events & string, PatternTemplate<P>>;

/** Throws unless `name` can be published: non-empty, at most 200 characters, no `*`, no whitespace. */
export function assertEventName(name: unknown, what = 'event name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || /[*\s]/.test(name)) {
    throw new EventsError(
      EventsErrorCode.INVALID_ARGUMENT,
      `invalid ${what} ${JSON.stringify(name)}: expected 1-200 characters without '*' or whitespace`,
    );
  }
}

/** Throws unless `pattern` is a usable pattern: like a name, but `*` is allowed. */
export function assertPattern(pattern: unknown): asserts pattern is string {
  if (typeof pattern !== 'string' || pattern.length === 0 || pattern.length > 200 || /\s/.test(pattern)) {
    throw new EventsError(
      EventsErrorCode.INVALID_ARGUMENT,
      `invalid pattern ${JSON.stringify(pattern)}: expected 1-200 characters without whitespace`,
    );
  }
}

/**
 * Compiles a pattern into a matcher. `*` matches any run of characters, dots included (as in Redis
 * PSUBSCRIBE): `user.*` matches `user.registered` and `user.email.changed`.
 *
 * @example
 * ```ts
 * compilePattern('user.*')('user.registered'); // true
 * ```
 */
export function compilePattern(pattern: string): (name: string) => boolean {
  if (!pattern.includes('*')) return (name) => name === pattern;
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  const re = new RegExp(`^${source}$`);
  return (name) => re.test(name);
}
