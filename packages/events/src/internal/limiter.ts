/**
 * Runs tasks with at most `concurrency` at once; the others wait in order. Tracks everything accepted and
 * not yet finished, so a subscription can wait for its handlers on close and apply backpressure.
 */
export class Limiter {
  private running = 0;
  private readonly queue: Array<() => Promise<void>> = [];
  private waiters: Array<{ below: number; resolve: () => void }> = [];

  /** `onSettled` runs after each task finishes and its slot is free again. */
  constructor(
    readonly concurrency: number,
    private readonly onSettled?: () => void,
  ) {}

  /** Tasks accepted and not finished: running plus queued. */
  get size(): number {
    return this.running + this.queue.length;
  }

  /** How many more tasks would start at once. */
  get free(): number {
    return Math.max(0, this.concurrency - this.size);
  }

  /** Accepts a task. `task` must not reject. */
  push(task: () => Promise<void>): void {
    this.queue.push(task);
    this.drain();
  }

  /** Resolves once fewer than `below` tasks are pending (`0`: none). */
  whenBelow(below: number): Promise<void> {
    if (this.size < below || (below === 0 && this.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ below, resolve }));
  }

  /** Resolves when every accepted task has finished. */
  idle(): Promise<void> {
    return this.whenBelow(0);
  }

  private drain(): void {
    while (this.running < this.concurrency && this.queue.length > 0) {
      const task = this.queue.shift()!;
      this.running++;
      void task().finally(() => {
        this.running--;
        this.drain();
        this.notify();
        this.onSettled?.();
      });
    }
  }

  private notify(): void {
    if (this.waiters.length === 0) return;
    const size = this.size;
    const ready = this.waiters.filter((w) => size < w.below || (w.below === 0 && size === 0));
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }
}
