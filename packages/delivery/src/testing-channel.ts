import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';

/** A channel service under test (`createEmailService`, `createSmsService`...), on the store being proven. */
export interface ChannelSubject {
  /** Sends message `variant` (0 or 1: two different messages) with an idempotency key. */
  send(key: string, variant?: 0 | 1): Promise<{ id: string; duplicate?: boolean | undefined }>;
  /** Makes the next provider call fail (a failure the service does not retry here). */
  failNext(): void;
  /** How many messages the provider has accepted so far. */
  sent(): number;
  /** True for the service's "key reused for another message" error. */
  isConflict(error: unknown): boolean;
  /** Closes the service. */
  close(): Promise<void>;
}

/**
 * Options of {@link channelIdempotencyContract}: the one kit's options. `inspect` answers the keys the
 * idempotency store holds (read straight from its storage), so the suite checks a failed send left none.
 */
export interface ChannelIdempotencyContractOptions extends ContractOptions<ChannelSubject> {
  /** How the service namespaces keys in the store (`email:`, `sms:`). @default '' */
  namespace?: string;
}

type Resolved = ResolvedContractOptions<ChannelSubject, readonly string[], never> & { namespace: string };

let n = 0;
const freshKey = () => `ch-${Date.now().toString(36)}-${(n++).toString(36)}`;

function scenarios(o: Resolved): void {
  const { expect } = o;
  o.it(
    'a failed send frees its key; a retried send sends once; the key refuses another message',
    async () => {
      const service = await o.create();
      try {
        const key = freshKey();
        service.failNext();
        await expect(service.send(key)).rejects.toBeDefined();
        if (o.inspect)
          expect((await o.inspect()).some((k) => k.endsWith(`${o.namespace}${key}`))).toBe(false);
        const first = await service.send(key);
        expect(first.duplicate ?? false).toBe(false);
        const again = await Promise.all(Array.from({ length: 20 }, () => service.send(key)));
        expect(service.sent()).toBe(1);
        for (const r of again) expect(r).toMatchObject({ id: first.id, duplicate: true });
        if (o.inspect) expect((await o.inspect()).some((k) => k.endsWith(`${o.namespace}${key}`))).toBe(true);
        const reused = await service.send(key, 1).catch((e: unknown) => e);
        expect(service.isConflict(reused)).toBe(true);
      } finally {
        await service.close();
      }
    },
    o.timeoutMs,
  );
}

/**
 * What a channel service must do on an idempotency store, whatever the store: a failed send frees its key,
 * a retried send sends once (concurrent retries answer the first result), and a key reused for another
 * message is refused. `@app/email` and `@app/sms` run it on the memory, Redis and Prisma stores; a new
 * channel runs it on its own service.
 *
 * @example
 * ```ts
 * channelIdempotencyContract({ describe, it, expect, name: 'sms on redis', create: () => smsSubject(store) });
 * ```
 */
export function channelIdempotencyContract(options: ChannelIdempotencyContractOptions): void {
  const o = { ...contractOptions(options), namespace: options.namespace ?? '' };
  o.describe(`channel idempotency: ${o.name}`, () => scenarios(o));
}
