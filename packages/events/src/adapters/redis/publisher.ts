import { EventsError, EventsErrorCode } from '../../errors.js';
import type { EventRecord } from '../../types.js';
import { recordFields } from './entries.js';
import type { NameRegistry } from './names.js';
import type { RedisContext } from './options.js';

interface Pending {
  records: readonly EventRecord[];
  resolve: (ids: string[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Publish batching: the publishes made in one tick are written to the socket together (one pipeline), and
 * each publish settles on its own entries' replies.
 */
export class Publisher {
  private queued: Pending[] = [];

  constructor(
    private readonly ctx: RedisContext,
    private readonly names: NameRegistry,
  ) {}

  /** Queues the records for this tick's batch; resolves with their stream ids, in order. */
  publish(records: readonly EventRecord[]): Promise<string[]> {
    if (records.length === 0) return Promise.resolve([]);
    return new Promise<string[]>((resolve, reject) => {
      this.queued.push({ records, resolve, reject });
      if (this.queued.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private flush(): void {
    const { client, eventKey } = this.ctx;
    const items = this.queued;
    this.queued = [];
    const trim = this.ctx.trimArgs();
    const first = items[0]!.records[0]!;
    if (items.length === 1 && items[0]!.records.length === 1 && this.names.has(first.name)) {
      client
        .call('XADD', eventKey(first.name), ...trim, '*', ...recordFields(first))
        .then((id) => items[0]!.resolve([id as string]), items[0]!.reject);
      return;
    }
    const fresh = new Set<string>();
    for (const item of items) for (const r of item.records) if (!this.names.has(r.name)) fresh.add(r.name);
    for (const name of fresh) void this.names.register(name);
    const batch = client.pipeline();
    for (const item of items) {
      for (const r of item.records) batch.call('XADD', eventKey(r.name), ...trim, '*', ...recordFields(r));
    }
    batch
      .exec()
      .then((results) => {
        if (!results) throw new EventsError(EventsErrorCode.CLOSED, 'redis pipeline aborted');
        let i = 0;
        for (const item of items) {
          const slice = results.slice(i, i + item.records.length);
          i += item.records.length;
          const failed = slice.find(([error]) => error);
          if (failed) item.reject(failed[0]);
          else item.resolve(slice.map(([, id]) => id as string));
        }
      })
      .catch((error: unknown) => {
        for (const item of items) item.reject(error);
      });
  }
}
