import { createHash } from 'node:crypto';

/**
 * The two commands the script runner uses, typed structurally so that any ioredis 5/6 `Redis` or `Cluster`
 * (or a compatible client) fits. On a Cluster, both go to the node that owns the keys' slot.
 */
export interface ScriptClient {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** A Lua script with its SHA-1, made once by {@link defineScript}. */
export interface RedisScript {
  /** The Lua source. */
  readonly source: string;
  /** Its SHA-1 (hex), as EVALSHA wants it. */
  readonly sha: string;
  /** Number of KEYS the script takes, when fixed (checked before the call). @default undefined (any) */
  readonly numKeys?: number | undefined;
}

/**
 * Declares a Lua script once, at module load: its source and SHA-1.
 *
 * @example
 * ```ts
 * const INCR_IF = defineScript(`return redis.call('INCR', KEYS[1])`, 1);
 * ```
 */
export function defineScript(source: string, numKeys?: number): RedisScript {
  return Object.freeze({ source, sha: createHash('sha1').update(source).digest('hex'), numKeys });
}

/**
 * True when `error` is Redis' NOSCRIPT reply (the script is not in that node's cache).
 *
 * @example
 * ```ts
 * isNoScriptError(new Error('NOSCRIPT No matching script.')); // true
 * ```
 */
export function isNoScriptError(error: unknown): boolean {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message.startsWith('NOSCRIPT');
}

/**
 * Runs a script by EVALSHA and, when the node answers NOSCRIPT (first use, a restart, SCRIPT FLUSH, a
 * failover to a replica, a new cluster node), once by EVAL, which also caches it on that node. The one place
 * in the project that handles NOSCRIPT.
 *
 * @example
 * ```ts
 * const n = await runScript(client, INCR_IF, ['{user:1}:count'], []);
 * ```
 */
export function runScript(
  client: ScriptClient,
  script: RedisScript,
  keys: readonly string[],
  args: readonly (string | number)[] = [],
): Promise<unknown> {
  if (script.numKeys !== undefined && keys.length !== script.numKeys) {
    return Promise.reject(
      new RangeError(`[@app/core] script expects ${script.numKeys} keys, got ${keys.length}`),
    );
  }
  try {
    // Inline arrows: no named closure (and no bundler name helper) is built on this hot path.
    return client
      .evalsha(script.sha, keys.length, ...keys, ...args)
      .catch((error: unknown) => evalOnNoScript(client, script, keys, args, error));
  } catch (error) {
    // A client may throw synchronously (a closed connection); keep the promise contract.
    return Promise.resolve().then(() => evalOnNoScript(client, script, keys, args, error));
  }
}

function evalOnNoScript(
  client: ScriptClient,
  script: RedisScript,
  keys: readonly string[],
  args: readonly (string | number)[],
  error: unknown,
): Promise<unknown> {
  if (!isNoScriptError(error)) throw error;
  return client.eval(script.source, keys.length, ...keys, ...args);
}

/**
 * Settles like `work`, or rejects with `onTimeout()` after `ms` milliseconds, whichever is first: the
 * bound every request-path call to Redis or a database gets, so nothing waits behind a reconnect.
 *
 * @example
 * ```ts
 * await withDeadline(client.get(key), 1000, () => new ConfigError('UNAVAILABLE', 'Redis did not answer'));
 * ```
 */
export function withDeadline<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  if (!Number.isFinite(ms)) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref?.();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
