import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
import { closeableProviderTest, statusStoreContract, withSubject } from '@app/delivery/testing';
import type { EmailProvider, NormalizedBulk, NormalizedEmail } from './types.js';

export type {
  IdempotencyStoreContractOptions,
  StatusStoreContractOptions,
} from '@app/delivery/testing';
/** The store contracts are `@app/delivery`'s: one suite per store every channel shares. */
export { idempotencyStoreContract, statusStoreContract } from '@app/delivery/testing';

/**
 * The status-store contract of `@app/delivery`, under its former `@app/email` name.
 *
 * @deprecated Use `statusStoreContract` (the same function).
 * @example
 * ```ts
 * emailStatusStoreContract({ describe, it, expect, name: 'my store', create: () => myStatusStore() });
 * ```
 */
export const emailStatusStoreContract = statusStoreContract;

/** Parts of the provider contract an adapter may switch off. */
export type EmailProviderCapability = 'bulk' | 'concurrency';

/** A provider under test. */
export interface EmailProviderSubject {
  /** The provider, pointed at a sandbox or a local fake. */
  provider: EmailProvider;
  /** Frees the subject after its test (closes the provider, servers, clients). @default undefined */
  cleanup?(): Promise<void>;
}

/**
 * Options of {@link emailProviderContract}: the one kit's options. `inspect` answers what the backend
 * received so far, as raw text (request bodies): the at-rest checks look for the recipients there.
 */
export interface EmailProviderContractOptions
  extends ContractOptions<EmailProviderSubject, readonly string[], EmailProviderCapability> {}

type Resolved = ResolvedContractOptions<EmailProviderSubject, readonly string[], EmailProviderCapability>;

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

function test(o: Resolved, title: string, fn: (s: EmailProviderSubject) => Promise<void>, run = true) {
  o.it.skipIf(!run)(title, () => withSubject(o.create, fn), o.timeoutMs);
}

/** Whether the backend received a request naming `address` (only with `inspect`). */
async function received(o: Resolved, address: string): Promise<boolean> {
  return (await o.inspect?.())?.some((raw) => raw.includes(address)) ?? false;
}

function sending(o: Resolved): void {
  const { expect } = o;
  test(o, 'has a name and sends a message, answering a fresh id', async ({ provider }) => {
    expect(typeof provider.name).toBe('string');
    const a = await provider.send(message);
    const b = await provider.send(message);
    expect(a.id).toEqual(expect.any(String));
    expect(a.id).not.toBe(b.id);
    expect(['queued', 'sent']).toContain(a.status);
  });
  closeableProviderTest(o, (subject) => subject.provider);
  test(
    o,
    'hands the backend the recipient it was given (raw probe)',
    async ({ provider }) => {
      const to = `probe-${Date.now().toString(36)}@example.com`;
      expect(await received(o, to)).toBe(false);
      await provider.send({ ...message, to: [{ email: to }] });
      expect(await received(o, to)).toBe(true);
    },
    o.inspect !== undefined,
  );
}

function bulk(o: Resolved): void {
  const { expect } = o;
  test(
    o,
    'answers one result per bulk recipient, in order, with distinct ids',
    async ({ provider }) => {
      expect(provider.sendBulk, 'a provider without sendBulk switches off `bulk`').toBeTypeOf('function');
      expect(Number.isInteger(provider.maxBulkSize) && (provider.maxBulkSize ?? 0) > 0).toBe(true);
      const { to: _to, cc: _cc, bcc: _bcc, ...shared } = message;
      const tag = Date.now().toString(36);
      const batch: NormalizedBulk = {
        ...shared,
        recipients: [1, 2, 3].map((i) => ({ to: [{ email: `r${i}-${tag}@example.com` }], data: { i } })),
      };
      const results = (await provider.sendBulk?.(batch)) ?? [];
      expect(results).toHaveLength(3);
      expect(results.every((r) => r.ok)).toBe(true);
      expect(new Set(results.map((r) => (r.ok ? r.id : ''))).size).toBe(3);
      if (o.inspect)
        for (const i of [1, 2, 3]) expect(await received(o, `r${i}-${tag}@example.com`)).toBe(true);
    },
    o.has('bulk'),
  );
}

function concurrency(o: Resolved): void {
  const { expect } = o;
  const count = Math.min(o.concurrency, 50);
  test(
    o,
    `gives each of ${count} concurrent sends its own id`,
    async ({ provider }) => {
      const results = await Promise.all(Array.from({ length: count }, () => provider.send(message)));
      expect(new Set(results.map((r) => r.id)).size).toBe(count);
    },
    o.has('concurrency'),
  );
}

/**
 * The behaviour every {@link EmailProvider} must show, split by capability (keyv's test suite is the
 * model): sending (fresh ids; with `inspect`, the recipient reaches the backend), `bulk` (one result per
 * recipient, in order; switch off with `features: { bulk: false }` for a provider without `sendBulk`) and
 * `concurrency`. Point the provider at a sandbox or a local fake.
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
  o.describe(`EmailProvider contract: ${o.name}`, () => {
    o.describe('sending', () => sending(o));
    o.describe('bulk', () => bulk(o));
    o.describe('concurrency', () => concurrency(o));
  });
}
