/** A call waiting for its answer. */
interface PendingCall {
  /** When it times out (epoch ms). */
  readonly at: number;
  readonly reject: (error: Error) => void;
  readonly onTimeout: () => Error;
}

/**
 * One bound for many calls that share a timeout: `run(work)` settles like `work`, or rejects with the
 * timeout error once the bound has passed: between `ms` and 1.25 x `ms` after the call started. One unref'd
 * timer sweeps the pending calls (every `ms / 4`, and only while a call is pending) instead of a timer per
 * call, so a call on a hot path pays a Set add and delete rather than creating and cancelling a timer. Use
 * {@link withDeadline} for a one-off bound.
 *
 * @example
 * ```ts
 * const bound = new Deadlines(1000, () => new ConfigError('UNAVAILABLE', 'Redis did not answer'));
 * const hash = await bound.run(client.hgetall(key));
 * ```
 */
export class Deadlines {
  private readonly pending = new Set<PendingCall>();
  private timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param ms the bound, in ms (`Infinity`: calls are not bounded)
   * @param onTimeout the error a call that timed out rejects with, unless `run` is given its own
   */
  constructor(
    readonly ms: number,
    private readonly onTimeout: () => Error,
  ) {}

  /**
   * Settles like `work`, its value passed through `map` and its error through `mapError` (both in the same
   * step, no extra promise), or rejects with `onTimeout()` when the bound passes first.
   *
   * @example
   * ```ts
   * const n = await bound.run(client.incr(key), Number, (error) => new MyError('UNAVAILABLE', { cause: error }));
   * ```
   */
  run<T, R = T>(
    work: Promise<T>,
    map?: (value: T) => R,
    mapError?: (error: unknown) => unknown,
    onTimeout: () => Error = this.onTimeout,
  ): Promise<R> {
    if (!Number.isFinite(this.ms)) {
      if (map === undefined && mapError === undefined) return work as unknown as Promise<R>;
      return work.then(map ?? ((value) => value as unknown as R), (error: unknown) => {
        throw mapError ? mapError(error) : error;
      });
    }
    return new Promise<R>((resolve, reject) => {
      const call: PendingCall = { at: Date.now() + this.ms, reject, onTimeout };
      this.pending.add(call);
      this.timer ??= this.arm();
      work.then(
        (value) => {
          this.pending.delete(call);
          if (map === undefined) {
            resolve(value as unknown as R);
            return;
          }
          try {
            resolve(map(value));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          this.pending.delete(call);
          reject(mapError ? mapError(error) : error);
        },
      );
    });
  }

  /** Calls waiting for their answer. */
  get size(): number {
    return this.pending.size;
  }

  private arm(): ReturnType<typeof setInterval> {
    const timer = setInterval(
      () => {
        const now = Date.now();
        for (const call of this.pending) {
          if (call.at <= now) {
            this.pending.delete(call);
            call.reject(call.onTimeout());
          }
        }
        if (this.pending.size === 0) {
          clearInterval(timer);
          this.timer = undefined;
        }
      },
      Math.max(5, this.ms / 4),
    );
    timer.unref?.();
    return timer;
  }
}
