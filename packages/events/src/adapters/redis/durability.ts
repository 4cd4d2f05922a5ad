import { withDeadline } from '@app/core';
import { EventsError, EventsErrorCode } from '../../errors.js';
import type { RedisContext, RedisNodeLike } from './options.js';

/**
 * The opt-in replication wait: after a publish batch has been written, `WAIT replicas timeoutMs` on the
 * connection that wrote it (WAIT counts the writes of its own connection): the client itself on a single
 * node or behind Sentinel, the node connection of the stream's master on a cluster.
 */
export class ReplicationWait {
  /** Each stream's hash slot, asked once (`CLUSTER KEYSLOT`). */
  private readonly slots = new Map<string, number>();

  constructor(
    private readonly ctx: RedisContext,
    private readonly replicas: number,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves once `replicas` replicas have everything written to `key` so far; else NOT_REPLICATED. */
  async after(key: string): Promise<void> {
    const { replicas, timeoutMs } = this;
    const node = this.ctx.cluster ? await this.masterOf(key) : this.ctx.client;
    const ms = timeoutMs + this.ctx.publishTimeoutMs;
    const acked = Number(
      await withDeadline(node.call('WAIT', replicas, timeoutMs), ms, () =>
        notReplicated(`Redis did not answer WAIT within ${ms} ms`),
      ),
    );
    if (!(acked >= replicas)) {
      throw notReplicated(
        `${acked} of ${replicas} replica(s) acknowledged the publish within ${timeoutMs} ms`,
      );
    }
  }

  /** The connection to the master serving `key` now (the one that took the write just acknowledged). */
  private async masterOf(key: string): Promise<RedisNodeLike> {
    const { client } = this.ctx;
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = Number(await client.call('CLUSTER', 'KEYSLOT', key));
      this.slots.set(key, slot);
    }
    const address = client.slots?.[slot]?.[0];
    const node = client.nodes?.('master').find((n) => `${n.options.host}:${n.options.port}` === address);
    if (!node) throw notReplicated(`no known master for slot ${slot}`);
    return node;
  }
}

function notReplicated(message: string): EventsError {
  return new EventsError(EventsErrorCode.NOT_REPLICATED, message);
}
