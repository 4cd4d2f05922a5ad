/** Runs async work with at most `concurrency` calls in flight; the rest wait in order. */
export type Limiter = <T>(fn: () => Promise<T>) => Promise<T>;

/**
 * A concurrency limiter: at most `concurrency` of the functions passed to it run at once, the others start
 * in the order they were passed as slots free up. The one limiter every package uses.
 *
 * @example
 * ```ts
 * const limit = createLimiter(8);
 * await Promise.all(recipients.map((to) => limit(() => send(to))));
 * ```
 */
export function createLimiter(concurrency: number): Limiter {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`[@app/core] concurrency must be a positive integer, got ${String(concurrency)}`);
  }
  let active = 0;
  const queue: Array<() => void> = [];
  const next = () => {
    active--;
    queue.shift()?.();
  };
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const run = (): Promise<T> => {
      active++;
      let result: Promise<T>;
      try {
        result = Promise.resolve(fn());
      } catch (error) {
        result = Promise.reject(error);
      }
      return result.finally(next);
    };
    if (active < concurrency) return run();
    return new Promise<T>((resolve, reject) => {
      queue.push(() => run().then(resolve, reject));
    });
  };
}

/**
 * Maps `items` through `fn` with at most `concurrency` calls in flight; results keep the input order.
 *
 * @example
 * ```ts
 * const results = await mapLimit(messages, 4, (m) => provider.send(m));
 * ```
 */
export function mapLimit<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const limit = createLimiter(concurrency);
  return Promise.all(items.map((item, index) => limit(() => fn(item, index))));
}
