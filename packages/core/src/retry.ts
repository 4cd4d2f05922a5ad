/** How an operation is retried. Every field has a default in {@link DEFAULT_RETRY_POLICY}. */
export interface RetryPolicy {
  /** Attempts in all, the first included. @default 3 */
  maxAttempts: number;
  /** Delay before the first retry, in ms; it doubles each time. @default 100 */
  baseDelayMs: number;
  /** Upper bound of one delay, in ms. @default 5000 */
  maxDelayMs: number;
  /** `full` jitter draws each delay uniformly from [0, computed]; `none` uses it as is. @default 'full' */
  jitter: 'full' | 'none';
}

/** The default retry policy: 3 attempts, 100 ms doubling to at most 5 s, full jitter. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 5000,
  jitter: 'full',
});

/** What `shouldRetry` answers: retry (optionally after a server-given delay), or stop. */
export type RetryDecision = boolean | { retry: boolean; afterMs?: number };

/** Options of {@link retry}. */
export interface RetryOptions extends Partial<RetryPolicy> {
  /** Decides whether an error is worth another attempt. @default () => true */
  shouldRetry?: (error: unknown, attempt: number) => RetryDecision;
  /** Called before each retry, e.g. to log it. @default undefined */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Aborts waiting between attempts (the wait rejects with the signal's reason). @default undefined */
  signal?: AbortSignal;
}

/**
 * The delay before retry number `attempt` (1 = first retry): exponential, capped, with optional jitter.
 *
 * @example
 * ```ts
 * computeBackoff(3, { ...DEFAULT_RETRY_POLICY, jitter: 'none' }); // 400
 * ```
 */
export function computeBackoff(
  attempt: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return policy.jitter === 'full' ? Math.floor(random() * exp) : exp;
}

/**
 * Resolves after `ms` milliseconds, or rejects when `signal` aborts.
 *
 * @example
 * ```ts
 * await sleep(50);
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` until it succeeds, `shouldRetry` says stop, or the attempts run out; then throws the last error.
 *
 * @example
 * ```ts
 * const res = await retry(() => fetch(url), {
 *   maxAttempts: 5,
 *   shouldRetry: (err) => isTransient(err),
 * });
 * ```
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { shouldRetry = () => true, onRetry, signal, ...overrides } = options;
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= policy.maxAttempts) throw error;
      const decision = shouldRetry(error, attempt);
      const again = typeof decision === 'boolean' ? decision : decision.retry;
      if (!again) throw error;
      const serverDelay = typeof decision === 'object' ? decision.afterMs : undefined;
      const delay = serverDelay ?? computeBackoff(attempt, policy);
      onRetry?.(error, attempt, delay);
      await sleep(delay, signal);
    }
  }
}
