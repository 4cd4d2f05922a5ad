import { withDeadline } from '@app/core';
import { EventsError, EventsErrorCode } from '../../errors.js';
import type { RedisContext, RedisNodeLike } from './options.js';

/** Where a WAIT goes: the client (one node, Sentinel) or one node connection of a cluster. */
type Connection = Pick<RedisNodeLike, 'call'>;

/** One connection's WAITs: the one in flight, and the one that follows it, shared by every batch that joins. */
interface Rounds {
  inFlight: Promise<number> | undefined;
  next: Promise<number> | undefined;
}

/**
 * The opt-in replication wait: after a publish batch has been written, `WAIT replicas timeoutMs` on the
 * connection that wrote it (WAIT counts the writes of its own connection): the client itself on a single
 * node or behind Sentinel, the node connection of the stream's master on a cluster. Batches acknowledged
 * while a WAIT is in flight share the next one (issued when it answers, so it covers them): at most two
 * WAITs per connection at a time, however many batches a tick sends.
 */
export class ReplicationWait {
  /** Each stream's hash slot, asked once (`CLUSTER KEYSLOT`). */
  private readonly slots = new Map<string, number>();
  private readonly rounds = new WeakMap<object, Rounds>();

  constructor(
    private readonly ctx: RedisContext,
    private readonly replicas: number,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves once `replicas` replicas have everything written to `key` so far; else NOT_REPLICATED. */
  async after(key: string): Promise<void> {
    const { replicas, timeoutMs } = this;
    const node = this.ctx.cluster ? await this.masterOf(key) : this.ctx.client;
    const acked = await this.join(node);
    if (!(acked >= replicas)) {
      throw notReplicated(
        `${acked} of ${replicas} replica(s) acknowledged the publish within ${timeoutMs} ms`,
      );
    }
  }

  /** A WAIT on `node` issued after this call: the one in flight if none is, else the next one. */
  private join(node: Connection): Promise<number> {
    let rounds = this.rounds.get(node);
    if (!rounds) {
      rounds = { inFlight: undefined, next: undefined };
      this.rounds.set(node, rounds);
    }
    const r = rounds;
    if (!r.inFlight) {
      r.inFlight = this.wait(node).finally(() => {
        r.inFlight = undefined;
      });
      return r.inFlight;
    }
    r.next ??= r.inFlight
      .catch(() => 0)
      .then(() => {
        r.next = undefined;
        return this.join(node);
      });
    return r.next;
  }

  private async wait(node: Connection): Promise<number> {
    const { replicas, timeoutMs } = this;
    const ms = timeoutMs + this.ctx.publishTimeoutMs;
    return Number(
      await withDeadline(node.call('WAIT', replicas, timeoutMs), ms, () =>
        notReplicated(`Redis did not answer WAIT within ${ms} ms`),
      ),
    );
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
