import { type ContractOptions, contractOptions } from '@app/core/testing';
import type {
  DeliveryEvent,
  EmailProvider,
  EmailStatusStore,
  NormalizedBulk,
  NormalizedEmail,
} from './types.js';

export type { IdempotencyStoreContractOptions } from '@app/delivery/testing';
/** The idempotency contract is `@app/delivery`'s: one suite for the store every channel shares. */
export { idempotencyStoreContract } from '@app/delivery/testing';

import { withSubject } from '@app/delivery/testing';

/** Options of {@link emailStatusStoreContract}. */
export interface EmailStatusStoreContractOptions extends ContractOptions<EmailStatusStore> {}

/** Options of {@link emailProviderContract}. */
export interface EmailProviderContractOptions extends ContractOptions<EmailProviderSubject> {}

const unique = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;

function event(
  messageId: string,
  status: DeliveryEvent['status'],
  id = unique(),
  at = Date.now(),
): DeliveryEvent {
  return {
    id,
    messageId,
    status,
    provider: 'contract',
    timestamp: new Date(Math.floor(at / 1000) * 1000),
    recipient: 'a@example.com',
  };
}

/**
 * The behaviour every {@link EmailStatusStore} must show: dedupe by event id, precedence of statuses,
 * atomicity under concurrent records.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { emailStatusStoreContract } from '@app/email/testing';
 * emailStatusStoreContract({ describe, it, expect, name: 'my store', create: () => myStatusStore() });
 * ```
 */
export function emailStatusStoreContract(options: EmailStatusStoreContractOptions): void {
  const o = contractOptions(options);
  const { describe, it, expect } = o;
  describe(`EmailStatusStore contract: ${options.name}`, () => {
    it(
      'answers undefined for a message it never saw',
      async () => {
        const store = await options.create();
        expect(await store.get(`never-${unique()}`)).toBeUndefined();
      },
      o.timeoutMs,
    );

    it(
      'records an event and returns it with the status',
      async () => {
        const store = await options.create();
        const id = `<${unique()}@example.com>:0`;
        const e = event(id, 'delivered');
        expect(await store.record(e)).toBe(true);
        expect(await store.get(id)).toEqual({
          messageId: id,
          status: 'delivered',
          provider: 'contract',
          updatedAt: e.timestamp,
          events: [e],
        });
      },
      o.timeoutMs,
    );

    it(
      'ignores a duplicate event id',
      async () => {
        const store = await options.create();
        const id = unique();
        const e = event(id, 'sent');
        expect(await store.record(e)).toBe(true);
        expect(await store.record({ ...e, status: 'bounced' })).toBe(false);
        const rec = await store.get(id);
        expect(rec?.status).toBe('sent');
        expect(rec?.events).toHaveLength(1);
      },
      o.timeoutMs,
    );

    it(
      'never lets a late, less significant status override a more significant one',
      async () => {
        const store = await options.create();
        const id = unique();
        await store.record(event(id, 'delivered'));
        await store.record(event(id, 'sent'));
        expect((await store.get(id))?.status).toBe('delivered');
        await store.record(event(id, 'bounced'));
        await store.record(event(id, 'deferred'));
        const rec = await store.get(id);
        expect(rec?.status).toBe('bounced');
        expect(rec?.events.map((e) => e.status)).toEqual(['delivered', 'sent', 'bounced', 'deferred']);
      },
      o.timeoutMs,
    );

    it(
      'stays consistent under 200 concurrent records (half of them duplicates)',
      async () => {
        const store = await options.create();
        const id = unique();
        const statuses: DeliveryEvent['status'][] = ['sent', 'deferred', 'delivered', 'opened', 'clicked'];
        const events = Array.from({ length: 100 }, (_, i) =>
          event(id, statuses[i % statuses.length] as DeliveryEvent['status'], `e${i}`),
        );
        const results = await Promise.all([...events, ...events].map((e) => store.record(e)));
        expect(results.filter(Boolean)).toHaveLength(100);
        const rec = await store.get(id);
        expect(rec?.status).toBe('clicked');
        expect(new Set(rec?.events.map((e) => e.id)).size).toBe(100);
      },
      o.timeoutMs,
    );
  });
}

/** A provider under test. */
export interface EmailProviderSubject {
  /** The provider, pointed at a sandbox or a local fake. */
  provider: EmailProvider;
  /** Frees the subject after its test (closes the provider, servers, clients). @default undefined */
  cleanup?(): Promise<void>;
}

/**
 * The behaviour every {@link EmailProvider} must show: ids for sends, one result per bulk recipient in
 * order. Point the provider at a sandbox or a local fake.
 *
 * @example
 * ```ts
 * emailProviderContract({
 *   describe, it, expect, name: 'memory', create: () => ({ provider: memoryEmailProvider() }),
 * });
 * ```
 */
export function emailProviderContract(options: EmailProviderContractOptions): void {
  const o = contractOptions(options);
  const { describe, it, expect } = o;
  const message: NormalizedEmail = {
    to: [{ email: 'ada@example.com', name: 'Ada' }],
    from: { email: 'app@example.com' },
    cc: [],
    bcc: [],
    replyTo: [],
    subject: 'Contract',
    text: 'Hello',
    attachments: [],
    headers: {},
    tags: {},
  };
  const run = (fn: (subject: EmailProviderSubject) => Promise<void>) => withSubject(options.create, fn);
  describe(`EmailProvider contract: ${options.name}`, () => {
    it(
      'has a name and sends a message, answering a fresh id',
      () =>
        run(async ({ provider }) => {
          expect(typeof provider.name).toBe('string');
          const a = await provider.send(message);
          const b = await provider.send(message);
          expect(a.id).toEqual(expect.any(String));
          expect(a.id).not.toBe(b.id);
          expect(['queued', 'sent']).toContain(a.status);
        }),
      o.timeoutMs,
    );

    it(
      'answers one result per bulk recipient, in order, with distinct ids',
      () =>
        run(async ({ provider }) => {
          if (!provider.sendBulk) return;
          expect(Number.isInteger(provider.maxBulkSize) && (provider.maxBulkSize ?? 0) > 0).toBe(true);
          const { to: _to, cc: _cc, bcc: _bcc, ...shared } = message;
          const batch: NormalizedBulk = {
            ...shared,
            recipients: [1, 2, 3].map((i) => ({ to: [{ email: `r${i}@example.com` }], data: { i } })),
          };
          const results = await provider.sendBulk(batch);
          expect(results).toHaveLength(3);
          expect(results.every((r) => r.ok)).toBe(true);
          expect(new Set(results.map((r) => (r.ok ? r.id : ''))).size).toBe(3);
        }),
      o.timeoutMs,
    );
  });
}
