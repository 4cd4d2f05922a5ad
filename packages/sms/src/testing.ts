import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
import { closeableProviderTest, statusStoreContract, withSubject } from '@app/delivery/testing';
import { isSmsError, SmsErrorCode } from './errors.js';
import { SMS_STATUSES, type SmsProvider } from './types.js';

export type {
  IdempotencyStoreContractOptions,
  StatusStoreContractOptions,
} from '@app/delivery/testing';
/** The store contracts are `@app/delivery`'s: one suite per store every channel shares. */
export { idempotencyStoreContract, statusStoreContract } from '@app/delivery/testing';

/**
 * The status-store contract of `@app/delivery`, under its former `@app/sms` name.
 *
 * @deprecated Use `statusStoreContract` (the same function).
 * @example
 * ```ts
 * smsStatusStoreContract({ describe, it, expect, name: 'memory', create: () => memoryStatusStore() });
 * ```
 */
export const smsStatusStoreContract = statusStoreContract;

/** One provider under test, created fresh for each test. */
export interface SmsProviderSubject {
  provider: SmsProvider;
  /** Frees the subject (closes servers, clients). @default undefined */
  cleanup?(): Promise<void>;
}

/** One message as the backend received it: what the raw probe (`inspect`) answers. */
export interface ReceivedSms {
  to: string;
  body: string;
}

/** Parts of the provider contract an adapter may switch off. */
export type SmsProviderCapability = 'unicode' | 'concurrency';

/**
 * Options of {@link smsProviderContract}: the one kit's options. `inspect` answers what the backend received
 * in the current test (the fake server's requests, the memory outbox...): the checks that the right
 * message, and nothing for invalid input, reached it.
 */
export interface SmsProviderContractOptions
  extends ContractOptions<SmsProviderSubject, readonly ReceivedSms[], SmsProviderCapability> {
  /** A recipient the backend accepts. @default '+14155550123' */
  to?: string;
}

type Resolved = ResolvedContractOptions<SmsProviderSubject, readonly ReceivedSms[], SmsProviderCapability> & {
  to: string;
};

const INVALID_NUMBERS = [
  '',
  '14155550123',
  '+0123456789',
  '+1234567890123456',
  '+1 415 555 0123',
  'tel:+1415',
  '+1',
];

function test(o: Resolved, title: string, fn: (s: SmsProviderSubject) => Promise<void>, run = true) {
  o.it.skipIf(!run)(title, () => withSubject(o.create, fn), o.timeoutMs);
}

function sending(o: Resolved): void {
  const { expect, to } = o;
  test(o, 'has a name and answers { id, status, provider } for an accepted message', async ({ provider }) => {
    expect(typeof provider.name).toBe('string');
    expect(provider.name.length).toBeGreaterThan(0);
    const result = await provider.send(to, 'hello');
    expect(typeof result.id).toBe('string');
    expect(result.id.length).toBeGreaterThan(0);
    expect(SMS_STATUSES).toContain(result.status);
    expect(result.provider).toBe(provider.name);
  });
  closeableProviderTest(o, (subject) => subject.provider);
  test(
    o,
    'delivers exactly the recipient and body it was given, unicode included (raw probe)',
    async ({ provider }) => {
      const body = 'Code 123456 — ünïcödé ✓ 🎉\nsecond line';
      await provider.send(to, body);
      expect(await o.inspect?.()).toEqual([expect.objectContaining({ to, body })]);
    },
    o.inspect !== undefined && o.has('unicode'),
  );
}

function validation(o: Resolved): void {
  const { expect, to } = o;
  const nothingSent = async () => {
    if (o.inspect) expect(await o.inspect()).toEqual([]);
  };
  test(o, 'rejects a recipient that is not E.164 before any I/O', async ({ provider }) => {
    for (const bad of INVALID_NUMBERS) {
      const error = await provider.send(bad, 'hello').catch((e: unknown) => e);
      expect(isSmsError(error, SmsErrorCode.INVALID_PHONE_NUMBER), `'${bad}' must be rejected`).toBe(true);
    }
    await nothingSent();
  });
  test(
    o,
    'rejects an empty or oversized body and a malformed sender before any I/O',
    async ({ provider }) => {
      for (const body of ['', '   ', 'x'.repeat(1601)]) {
        const error = await provider.send(to, body).catch((e: unknown) => e);
        expect(isSmsError(error, SmsErrorCode.INVALID_BODY)).toBe(true);
      }
      const error = await provider.send(to, 'hi', { from: 'not a sender!' }).catch((e: unknown) => e);
      expect(isSmsError(error, SmsErrorCode.INVALID_PHONE_NUMBER)).toBe(true);
      await nothingSent();
    },
  );
}

function concurrency(o: Resolved): void {
  const { expect, to } = o;
  const count = Math.min(o.concurrency, 50);
  test(
    o,
    `gives every message its own id under concurrency (${count} at once)`,
    async ({ provider }) => {
      const results = await Promise.all(
        Array.from({ length: count }, (_, i) => provider.send(to, `message ${i}`)),
      );
      expect(new Set(results.map((r) => r.id)).size).toBe(count);
      if (o.inspect) expect((await o.inspect()).length).toBe(count);
    },
    o.has('concurrency'),
  );
}

/**
 * The behaviour every {@link SmsProvider} must have, split by capability (keyv's test suite is the model):
 * sending (with `inspect`, exactly the recipient and body reach the backend; `unicode` can be switched off
 * for a GSM-7-only backend), validation before any I/O, and `concurrency`.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { smsProviderContract } from '@app/sms/testing';
 * let provider = memorySmsProvider();
 * smsProviderContract({
 *   describe, it, expect, name: 'memory',
 *   create: () => {
 *     provider = memorySmsProvider();
 *     return { provider };
 *   },
 *   inspect: async () => provider.messages(),
 * });
 * ```
 */
export function smsProviderContract(options: SmsProviderContractOptions): void {
  const o = { ...contractOptions(options), to: options.to ?? '+14155550123' };
  o.describe(`SmsProvider contract: ${o.name}`, () => {
    o.describe('sending', () => sending(o));
    o.describe('validation', () => validation(o));
    o.describe('concurrency', () => concurrency(o));
  });
}
