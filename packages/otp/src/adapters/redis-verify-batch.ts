/**
 * Verifies per script call. A full batch leaves at once, so Redis runs it while the client is still hashing
 * the next verifies of the tick (one call for a whole burst would make each side wait for the other); it
 * also bounds how long one call holds Redis and how many keys it names.
 */
export const MAX_VERIFY_BATCH = 16;

/** One queued verify: its two keys, its three arguments, and where its reply goes. */
interface Queued {
  /** Calls with the same group may share a script call (on a cluster: the same hash tag, so the same slot). */
  group: string;
  keys: [challenge: string, decoy: string];
  args: [now: number, codeHash: string, challengeId: string];
  resolve: (reply: unknown) => void;
  reject: (error: unknown) => void;
}

/** Sends one script call: `batch` false for a lone verify (the one-call script), true for several. */
export type VerifySend = (batch: boolean, keys: string[], args: (string | number)[]) => Promise<unknown>;

/**
 * Verify batching. The verifies made in one tick (a burst of logins, a request that checks several codes)
 * go to Redis as one script call per group instead of one each: the per-command client and server overhead
 * (a socket write, a Lua invocation) is paid once per batch. Inside the script the verifies run in turn,
 * each exactly as the one-call script runs it (compare, consume or count; the decoy write of a failed one),
 * so two verifies of one code in one batch still give one success. Every call settles on its own reply: a
 * call whose command failed rejects alone. A lone verify in a tick is the one-call script, as before.
 */
export class VerifyBatcher {
  private queue: Queued[] = [];
  private scheduled = false;

  constructor(private readonly send: VerifySend) {}

  /** Queues one verify for this tick's batch; resolves with its raw script reply. */
  add(group: string, keys: Queued['keys'], args: Queued['args']): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.queue.push({ group, keys, args, resolve, reject });
      if (this.queue.length >= MAX_VERIFY_BATCH) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => {
          this.scheduled = false;
          if (this.queue.length > 0) this.flush();
        });
      }
    });
  }

  private flush(): void {
    const queued = this.queue;
    this.queue = [];
    const groups = new Map<string, Queued[]>();
    for (const q of queued) {
      const list = groups.get(q.group);
      if (list) list.push(q);
      else groups.set(q.group, [q]);
    }
    for (const list of groups.values()) this.write(list);
  }

  private write(items: Queued[]): void {
    if (items.length === 1) {
      const only = items[0]!;
      this.send(false, only.keys, only.args).then(only.resolve, only.reject);
      return;
    }
    const keys: string[] = [];
    const args: (string | number)[] = [];
    for (const q of items) {
      keys.push(q.keys[0], q.keys[1]);
      args.push(q.args[0], q.args[1], q.args[2]);
    }
    this.send(true, keys, args).then(
      (replies) => {
        const list = replies as unknown[];
        for (let i = 0; i < items.length; i++) {
          const reply = list?.[i] as [string, string?] | undefined;
          if (reply === undefined)
            items[i]!.reject(new Error('the batch script gave no reply for this call'));
          else if (reply[0] === 'error') items[i]!.reject(new Error(String(reply[1])));
          else items[i]!.resolve(reply);
        }
      },
      (error: unknown) => {
        for (const q of items) q.reject(error);
      },
    );
  }
}
