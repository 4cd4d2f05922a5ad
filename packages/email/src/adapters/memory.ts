import { randomUUID } from 'node:crypto';
import { type Closeable, closeable, type FailureKind } from '@app/core';
import { memoryIdempotencyStore, memoryStatusStore } from '@app/delivery/memory';
import { EmailProviderError } from '../errors.js';
import { renderContent } from '../placeholders.js';
import type {
  BulkItemResult,
  DeliveryStatus,
  EmailProvider,
  EmailStatusStore,
  NormalizedBulk,
  NormalizedEmail,
  ProviderSendResult,
} from '../types.js';

/** A message kept by {@link memoryEmailProvider}. */
export interface MemoryEmail extends NormalizedEmail {
  id: string;
  sentAt: Date;
}

/** Options of {@link memoryEmailProvider}. */
export interface MemoryEmailProviderOptions {
  /** The provider name used in results. @default 'memory' */
  name?: string;
  /** Most recipients per `sendBulk` batch. @default 1000 */
  maxBulkSize?: number;
  /** Most messages kept; the oldest are dropped beyond it. @default 10000 */
  maxMessages?: number;
}

/** An in-memory provider: keeps what it "sends", and can be told to fail. For tests, demos and development. */
export interface MemoryEmailProvider extends EmailProvider {
  /** A copy of every message kept, oldest first (bulk recipients appear as one message each). */
  messages(): readonly MemoryEmail[];
  /** Copies of the messages sent to `email` (in to, cc or bcc), oldest first. */
  sentTo(email: string): MemoryEmail[];
  /** Makes the next `times` calls fail with an error of this kind. @example provider.failNext('transient') */
  failNext(kind: FailureKind, times?: number, options?: { retryAfterMs?: number; statusCode?: number }): void;
  /** Forgets every message and pending failure. */
  clear(): void;
}

/**
 * Creates an in-memory email provider. Nothing leaves the process.
 *
 * @example
 * ```ts
 * const memory = memoryEmailProvider();
 * const email = createEmailService({ providers: { memory }, defaultFrom: 'app@example.com' });
 * await email.send({ to: 'ada@example.com', subject: 'Hi', text: 'Hello' });
 * memory.sentTo('ada@example.com'); // [{ id, subject: 'Hi', ... }]
 * ```
 */
export function memoryEmailProvider(options: MemoryEmailProviderOptions = {}): MemoryEmailProvider {
  const name = options.name ?? 'memory';
  const maxMessages = options.maxMessages ?? 10_000;
  const messages: MemoryEmail[] = [];
  const failures: EmailProviderError[] = [];

  function failIfTold(): void {
    const failure = failures.shift();
    if (failure) throw failure;
  }
  function keep(message: NormalizedEmail): MemoryEmail {
    const kept: MemoryEmail = { ...message, id: `mem-${randomUUID()}`, sentAt: new Date() };
    messages.push(kept);
    if (messages.length > maxMessages) messages.splice(0, messages.length - maxMessages);
    return kept;
  }

  return closeable<Omit<MemoryEmailProvider, keyof Closeable>>({
    name,
    maxBulkSize: options.maxBulkSize ?? 1000,
    messages: () => messages.map(copy),
    async send(message: NormalizedEmail): Promise<ProviderSendResult> {
      failIfTold();
      return { id: keep(message).id, status: 'sent' };
    },
    async sendBulk(batch: NormalizedBulk): Promise<BulkItemResult[]> {
      failIfTold();
      const { recipients, ...shared } = batch;
      return recipients.map((r) => {
        const template = shared.template && {
          id: shared.template.id,
          data: { ...shared.template.data, ...r.data },
        };
        const content = template ? {} : renderContent(shared, r.data);
        const kept = keep({
          ...shared,
          ...content,
          ...(template ? { template } : {}),
          to: r.to,
          cc: [],
          bcc: [],
        });
        return { ok: true as const, id: kept.id, status: 'sent' as const };
      });
    },
    async getStatus(messageId: string): Promise<DeliveryStatus> {
      return messages.some((m) => m.id === messageId) ? 'sent' : 'unknown';
    },
    sentTo(email: string): MemoryEmail[] {
      const needle = email.toLowerCase();
      return messages
        .filter((m) => [...m.to, ...m.cc, ...m.bcc].some((a) => a.email.toLowerCase() === needle))
        .map(copy);
    },
    failNext(kind, times = 1, opts = {}) {
      for (let i = 0; i < times; i++) {
        failures.push(new EmailProviderError(name, kind, `injected ${kind} failure`, opts));
      }
    },
    clear() {
      messages.length = 0;
      failures.length = 0;
    },
  });
}

/** A copy of a kept message, so callers cannot change the outbox. */
function copy(message: MemoryEmail): MemoryEmail {
  return { ...message, sentAt: new Date(message.sentAt) };
}

/** Options of {@link memoryEmailStatusStore}. */
export interface MemoryEmailStatusStoreOptions {
  /** Most messages tracked; the least recently updated are forgotten beyond it. @default 100000 */
  maxMessages?: number;
}

export type { MemoryStatusStoreOptions } from '@app/delivery/memory';
export { memoryStatusStore } from '@app/delivery/memory';

/**
 * `@app/delivery`'s in-memory status store (`memoryStatusStore`) under its former `@app/email` name: the
 * default of `createEmailService`; use Redis or Prisma when webhooks and `getStatus` run in different
 * processes.
 *
 * @deprecated Use `memoryStatusStore({ maxEntries })` (`maxMessages` is `maxEntries` there).
 * @example
 * ```ts
 * const statusStore = memoryEmailStatusStore();
 * ```
 */
export function memoryEmailStatusStore(options: MemoryEmailStatusStoreOptions = {}): EmailStatusStore {
  return memoryStatusStore({ maxEntries: options.maxMessages ?? 100_000 });
}

export type { MemoryIdempotencyStoreOptions } from '@app/delivery/memory';
export { memoryIdempotencyStore } from '@app/delivery/memory';

/**
 * The shared in-memory idempotency store of `@app/delivery/memory`, under its former `@app/email` name.
 *
 * @deprecated Use `memoryIdempotencyStore` (the same function).
 * @example
 * ```ts
 * const email = createEmailService({ providers, idempotency: { store: memoryEmailIdempotencyStore() } });
 * ```
 */
export const memoryEmailIdempotencyStore = memoryIdempotencyStore;
