import { type Logger, retry } from '@app/core';
import type { ConfigRecord, ConfigStore, ConfigSync } from './types.js';

const MAX_PENDING = 10_000;
/** About 3 s in all, jittered. */
const PENDING_RETRY = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 1000 } as const;

/** What the shared layer needs from the service around it. */
export interface SharedLayerContext {
  readonly sync: ConfigSync;
  readonly store: ConfigStore;
  readonly instanceId: string;
  /** False when the store is as near as the shared cache (see `ConfigWriteThrough.replacesCache`). */
  readonly useCache: boolean;
  readonly logger: Logger;
  /** Aborted when the service closes. */
  readonly signal: AbortSignal;
  /** Runs background work the caller does not wait for. */
  track(promise: Promise<unknown>): void;
}

/**
 * The service's view of its {@link ConfigSync}: reads and fills of the shared cache, sharing of changes, and
 * what happens while it is down: reads fall back to the store, and changes that reached the store but not
 * the shared layer are remembered and replayed when it is back.
 */
export class SharedLayer {
  /** Keys whose change reached the store but not the shared layer: replayed when it is back. */
  private readonly pending = new Set<string>();
  private down = false;
  private replaying = false;

  constructor(private readonly ctx: SharedLayerContext) {}

  /** True when the sync has a shared cache to read, and reading it saves a store read. */
  get hasCache(): boolean {
    return this.ctx.useCache && this.ctx.sync.read !== undefined;
  }

  /** Changes not shared yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The shared cache's record of `key`, or `undefined` on a miss or when the shared layer is down. */
  async read(key: string): Promise<ConfigRecord | undefined> {
    if (!this.hasCache) return undefined;
    try {
      const cached = await this.ctx.sync.read?.(key);
      this.up();
      return cached;
    } catch (error) {
      this.failed(error, key);
      return undefined;
    }
  }

  /** Fills the shared cache for the other instances without making the caller wait for it. */
  fill(record: ConfigRecord): void {
    if (!this.hasCache || this.down) return;
    this.ctx.track(
      this.ctx.sync
        .write(record, { publish: false, origin: this.ctx.instanceId })
        .catch((error: unknown) => this.failed(error, record.key)),
    );
  }

  /** Hands a change to the shared layer; when it is down, the store has it and it is replayed later. */
  async share(record: ConfigRecord): Promise<void> {
    try {
      await this.ctx.sync.write(record, { publish: true, origin: this.ctx.instanceId });
      this.pending.delete(record.key);
      this.up();
    } catch (error) {
      if (this.pending.size < MAX_PENDING) this.pending.add(record.key);
      this.down = true;
      this.ctx.logger.warn(
        { err: error, key: record.key, version: record.version },
        '[@app/config] shared layer unreachable: the change is saved in the store and will be shared when it is back',
      );
    }
  }

  /** Marks the shared layer down (once per outage in the log). */
  failed(error: unknown, key: string): void {
    if (!this.down) {
      this.down = true;
      this.ctx.logger.warn(
        { err: error, key },
        '[@app/config] shared layer unreachable: reading from the store',
      );
    }
  }

  /** Marks the shared layer up; the first time after an outage, replays the pending changes. */
  up(): void {
    if (this.down) {
      this.down = false;
      this.ctx.logger.info({}, '[@app/config] shared layer reachable again');
      if (this.pending.size > 0 && !this.ctx.signal.aborted) this.ctx.track(this.replayPending());
    }
  }

  /** Shares the changes that reached the store while the shared layer was down. One replay at a time. */
  async replayPending(): Promise<void> {
    if (this.replaying || this.pending.size === 0) return;
    this.replaying = true;
    const { store, sync, instanceId, signal } = this.ctx;
    try {
      for (const key of [...this.pending]) {
        try {
          // The subscriber can be back a moment before the command connection: retry briefly.
          await retry(
            async () => {
              const record = (await store.get(key)) ?? { key, version: 0, deleted: true as const };
              await sync.write(record, { publish: true, origin: instanceId, force: true });
            },
            { ...PENDING_RETRY, signal },
          );
          this.pending.delete(key);
        } catch (error) {
          if (signal.aborted) return;
          this.ctx.logger.warn({ err: error, key }, '[@app/config] could not share a pending change yet');
        }
      }
    } finally {
      this.replaying = false;
    }
  }

  clear(): void {
    this.pending.clear();
  }
}
