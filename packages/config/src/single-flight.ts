/**
 * Runs one task per key at a time: callers asking for a key that is already being fetched share the running
 * promise (1,000 concurrent cold reads of one key make one read below).
 */
export class SingleFlight<V> {
  private readonly running = new Map<string, Promise<V>>();

  /** The running task for `key`, or a new one from `start`. The key is free again once it settles. */
  run(key: string, start: () => Promise<V>): Promise<V> {
    const running = this.running.get(key);
    if (running) return running;
    const promise = start().finally(() => {
      if (this.running.get(key) === promise) this.running.delete(key);
    });
    this.running.set(key, promise);
    return promise;
  }

  /** True while a task for `key` runs. */
  has(key: string): boolean {
    return this.running.has(key);
  }

  /** Every running task, e.g. to wait for them on close. */
  all(): Promise<V>[] {
    return [...this.running.values()];
  }
}

/** Background work the caller does not wait for: errors are reported, and `close` can wait for what runs. */
export class TaskTracker {
  private readonly tasks = new Set<Promise<unknown>>();

  constructor(private readonly onError: (error: unknown) => void) {}

  track(promise: Promise<unknown>): void {
    const tracked = promise.catch(this.onError);
    this.tasks.add(tracked);
    void tracked.finally(() => this.tasks.delete(tracked));
  }

  all(): Promise<unknown>[] {
    return [...this.tasks];
  }
}
