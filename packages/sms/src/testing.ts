import { type ContractOptions, contractOptions } from '@app/core/testing';
import { isSmsError, SmsErrorCode } from './errors.js';
import { isFinalStatus, statusRank } from './status.js';
import { SMS_STATUSES, type SmsProvider, type SmsStatus, type SmsStatusStore } from './types.js';

export type { IdempotencyStoreContractOptions } from '@app/delivery/testing';
/** The idempotency contract is `@app/delivery`'s: one suite for the store every channel shares. */
export { idempotencyStoreContract } from '@app/delivery/testing';

import { withSubject } from '@app/delivery/testing';

/** One provider under test, created fresh for each test. */
export interface SmsProviderSubject {
  provider: SmsProvider;
  /** What the backend received so far (the fake server's requests, the memory outbox...). */
  received():
    | Promise<ReadonlyArray<{ to: string; body: string }>>
    | ReadonlyArray<{ to: string; body: string }>;
  /** Frees the subject (closes servers, clients). */
  cleanup?(): Promise<void>;
}

/** Options of {@link smsProviderContract}. */
export interface SmsProviderContractOptions extends ContractOptions<SmsProviderSubject> {
  /** A recipient the backend accepts. @default '+14155550123' */
  to?: string;
}

const INVALID_NUMBERS = [
  '',
  '14155550123',
  '+0123456789',
  '+1234567890123456',
  '+1 415 555 0123',
  'tel:+1415',
  '+1',
];

/**
 * The behaviour every {@link SmsProvider} must have. Run it over your adapter in three lines.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { smsProviderContract } from '@app/sms/testing';
 * smsProviderContract({
 *   describe,
 *   it,
 *   expect,
 *   name: 'memory',
 *   create: () => { const provider = memorySmsProvider(); return { provider, received: () => provider.messages() }; },
 * });
 * ```
 */
export function smsProviderContract(options: SmsProviderContractOptions): void {
  const o = contractOptions(options);
  const { describe, it, expect } = o;
  const to = options.to ?? '+14155550123';

  const run = (fn: (subject: SmsProviderSubject) => Promise<void>) => withSubject(options.create, fn);
  describe(`SmsProvider contract: ${options.name}`, () => {
    it(
      'has a name and answers { id, status, provider } for an accepted message',
      async () => {
        await run(async ({ provider }) => {
          expect(typeof provider.name).toBe('string');
          expect(provider.name.length).toBeGreaterThan(0);
          const result = await provider.send(to, 'hello');
          expect(typeof result.id).toBe('string');
          expect(result.id.length).toBeGreaterThan(0);
          expect(SMS_STATUSES).toContain(result.status);
          expect(result.provider).toBe(provider.name);
        });
      },
      o.timeoutMs,
    );

    it(
      'delivers exactly the recipient and body it was given, unicode included',
      async () => {
        await run(async ({ provider, received }) => {
          const body = 'Code 123456 — ünïcödé ✓ 🎉\nsecond line';
          await provider.send(to, body);
          expect(await received()).toEqual([expect.objectContaining({ to, body })]);
        });
      },
      o.timeoutMs,
    );

    it(
      'gives every message its own id under concurrency',
      async () => {
        await run(async ({ provider, received }) => {
          const results = await Promise.all(
            Array.from({ length: 50 }, (_, i) => provider.send(to, `message ${i}`)),
          );
          expect(new Set(results.map((r) => r.id)).size).toBe(50);
          expect((await received()).length).toBe(50);
        });
      },
      o.timeoutMs,
    );

    it(
      'rejects a recipient that is not E.164 before any I/O',
      async () => {
        await run(async ({ provider, received }) => {
          for (const bad of INVALID_NUMBERS) {
            const error = await provider.send(bad, 'hello').catch((e: unknown) => e);
            expect(isSmsError(error, SmsErrorCode.INVALID_PHONE_NUMBER), `'${bad}' must be rejected`).toBe(
              true,
            );
          }
          expect(await received()).toEqual([]);
        });
      },
      o.timeoutMs,
    );

    it(
      'rejects an empty or oversized body and a malformed sender before any I/O',
      async () => {
        await run(async ({ provider, received }) => {
          for (const body of ['', '   ', 'x'.repeat(1601)]) {
            const error = await provider.send(to, body).catch((e: unknown) => e);
            expect(isSmsError(error, SmsErrorCode.INVALID_BODY)).toBe(true);
          }
          const error = await provider.send(to, 'hi', { from: 'not a sender!' }).catch((e: unknown) => e);
          expect(isSmsError(error, SmsErrorCode.INVALID_PHONE_NUMBER)).toBe(true);
          expect(await received()).toEqual([]);
        });
      },
      o.timeoutMs,
    );
  });
}

/** Options of {@link smsStatusStoreContract}. */
export interface SmsStatusStoreContractOptions extends ContractOptions<SmsStatusStore> {}

/**
 * The behaviour every {@link SmsStatusStore} must have: statuses only move forward, duplicates are not
 * applied, and concurrent updates of one message stay consistent.
 *
 * @example
 * ```ts
 * smsStatusStoreContract({ describe, it, expect, name: 'memory', create: () => memorySmsStatusStore() });
 * ```
 */
export function smsStatusStoreContract(options: SmsStatusStoreContractOptions): void {
  const o = contractOptions(options);
  const { describe, it, expect } = o;
  let n = 0;
  const id = () =>
    `SM${Date.now().toString(36)}${(n++).toString(36)}${Math.random().toString(36).slice(2, 8)}`;

  async function withStore(fn: (store: SmsStatusStore) => Promise<void>): Promise<void> {
    const store = await options.create();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  }

  describe(`SmsStatusStore contract: ${options.name}`, () => {
    it(
      'answers undefined for an id it never saw',
      async () => {
        await withStore(async (store) => {
          expect(await store.get(id())).toBeUndefined();
        });
      },
      o.timeoutMs,
    );

    it(
      'keeps every field of an update and merges later ones',
      async () => {
        await withStore(async (store) => {
          const sid = id();
          const first = await store.record({
            id: sid,
            status: 'queued',
            provider: 'twilio',
            to: '+14155550123',
            at: 1000,
          });
          expect(first).toEqual({
            applied: true,
            record: { id: sid, status: 'queued', provider: 'twilio', to: '+14155550123', updatedAt: 1000 },
          });
          await store.record({ id: sid, status: 'undelivered', errorCode: '30003', at: 2000 });
          expect(await store.get(sid)).toEqual({
            id: sid,
            status: 'undelivered',
            provider: 'twilio',
            to: '+14155550123',
            errorCode: '30003',
            updatedAt: 2000,
          });
        });
      },
      o.timeoutMs,
    );

    it(
      'never moves a status back and does not apply duplicates',
      async () => {
        await withStore(async (store) => {
          const sid = id();
          expect((await store.record({ id: sid, status: 'delivered', at: 3000 })).applied).toBe(true);
          const late = await store.record({ id: sid, status: 'sent', at: 4000 });
          expect(late).toEqual({ applied: false, record: { id: sid, status: 'delivered', updatedAt: 3000 } });
          expect((await store.record({ id: sid, status: 'delivered', at: 5000 })).applied).toBe(false);
          expect((await store.record({ id: sid, status: 'failed', at: 6000 })).applied).toBe(false);
          expect(await store.get(sid)).toEqual({ id: sid, status: 'delivered', updatedAt: 3000 });
        });
      },
      o.timeoutMs,
    );

    it(
      'stays consistent under 500 concurrent updates of one message',
      async () => {
        await withStore(async (store) => {
          const sid = id();
          const order: SmsStatus[] = ['queued', 'sending', 'sent', 'delivered'];
          const updates = Array.from({ length: 500 }, (_, i) => order[i % order.length] as SmsStatus);
          const results = await Promise.all(updates.map((status) => store.record({ id: sid, status })));
          const applied = results.filter((r) => r.applied).map((r) => r.record.status);
          // Each rank can be applied at most once, and the final status is applied exactly once.
          expect(new Set(applied.map(statusRank)).size).toBe(applied.length);
          expect(applied.filter(isFinalStatus)).toEqual(['delivered']);
          expect((await store.get(sid))?.status).toBe('delivered');
        });
      },
      o.timeoutMs,
    );

    it(
      'rejects a malformed update',
      async () => {
        await withStore(async (store) => {
          for (const bad of [
            { id: '', status: 'sent' },
            { id: id(), status: 'lost' },
          ]) {
            const error = await store.record(bad as never).catch((e: unknown) => e);
            expect(isSmsError(error, SmsErrorCode.INVALID_CALLBACK)).toBe(true);
          }
        });
      },
      o.timeoutMs,
    );
  });
}
