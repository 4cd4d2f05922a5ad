import { randomUUID } from 'node:crypto';
import { type Closeable, closeable, type Unsubscribe } from '@app/core';
import { memoryIdempotencyStore, memoryStatusStore } from '@app/delivery/memory';
import type { SmsProvider, SmsSendOptions, SmsSendResult, SmsStatus } from '../types.js';
import { DEFAULT_MAX_BODY_LENGTH, validateSms } from '../validation.js';

export type { MemoryIdempotencyStoreOptions, MemoryStatusStoreOptions } from '@app/delivery/memory';
export { memoryIdempotencyStore, memoryStatusStore } from '@app/delivery/memory';

/** Options of {@link memorySmsStatusStore}: `@app/delivery`'s `memoryStatusStore` options. */
export type MemorySmsStatusStoreOptions = import('@app/delivery/memory').MemoryStatusStoreOptions;

/**
 * `@app/delivery`'s in-memory status store, under its former `@app/sms` name (the service's default).
 *
 * @deprecated Use `memoryStatusStore` (the same function).
 * @example
 * ```ts
 * const sms = createSmsService({ providers, statusStore: memorySmsStatusStore({ maxEntries: 1000 }) });
 * ```
 */
export const memorySmsStatusStore = memoryStatusStore;

/**
 * The shared in-memory idempotency store of `@app/delivery/memory`, under its former `@app/sms` name.
 *
 * @deprecated Use `memoryIdempotencyStore` (the same function).
 * @example
 * ```ts
 * const sms = createSmsService({ providers, idempotency: { store: memorySmsIdempotencyStore() } });
 * ```
 */
export const memorySmsIdempotencyStore = memoryIdempotencyStore;

/** A message kept by {@link memorySmsProvider}. */
export interface MemorySms {
  id: string;
  to: string;
  body: string;
  /** The sender given in the send options, or the provider's default. */
  from?: string;
  statusCallbackUrl?: string;
  status: SmsStatus;
  provider: string;
  sentAt: Date;
}

/** Options of {@link memorySmsProvider}. */
export interface MemorySmsProviderOptions {
  /** The provider's name in results and logs. @default 'memory' */
  name?: string;
  /** The default sender. @default undefined */
  from?: string;
  /** The status reported for an accepted message. @default 'queued' */
  status?: SmsStatus;
  /** Messages kept at most; the oldest are dropped first. @default 1000 */
  maxMessages?: number;
  /** Longest body accepted, in characters. @default 1600 */
  maxBodyLength?: number;
  /**
   * Called before a message is kept; throw from it to simulate a provider failure (throw an `SmsError` with
   * `PROVIDER_UNAVAILABLE` for a transient one, `PROVIDER_AUTH_FAILED` to fail over...). @default undefined
   */
  beforeSend?: (message: Readonly<MemorySms>) => void | Promise<void>;
}

/** An {@link SmsProvider} that keeps messages in memory: for tests, demos and a dev outbox. */
export interface MemorySmsProvider extends SmsProvider {
  /** Every kept message, oldest first. */
  messages(): readonly MemorySms[];
  /** The latest message, optionally the latest sent to `to`. */
  last(to?: string): MemorySms | undefined;
  /** Calls `listener` with each message as it is sent. Returns the function that stops listening. */
  subscribe(listener: (message: MemorySms) => void): Unsubscribe;
  /** Forgets every kept message. */
  clear(): void;
}

/**
 * Creates a provider that sends nothing and keeps every message, with the same validation as a real one.
 *
 * @example
 * ```ts
 * const outbox = memorySmsProvider();
 * const sms = createSmsService({ providers: { memory: outbox } });
 * await sms.send('+14155550123', 'Your code is 123456');
 * outbox.last('+14155550123')?.body; // 'Your code is 123456'
 * ```
 */
export function memorySmsProvider(options: MemorySmsProviderOptions = {}): MemorySmsProvider {
  const name = options.name ?? 'memory';
  const maxMessages = options.maxMessages ?? 1000;
  const maxBodyLength = options.maxBodyLength ?? DEFAULT_MAX_BODY_LENGTH;
  const kept: MemorySms[] = [];
  const listeners = new Set<(message: MemorySms) => void>();

  return closeable<Omit<MemorySmsProvider, keyof Closeable>>(
    {
      name,
      async send(to: string, body: string, sendOptions?: SmsSendOptions): Promise<SmsSendResult> {
        validateSms(to, body, sendOptions, { maxBodyLength });
        const message: MemorySms = {
          id: `MM${randomUUID().replaceAll('-', '')}`,
          to,
          body,
          status: options.status ?? 'queued',
          provider: name,
          sentAt: new Date(),
        };
        const from = sendOptions?.from ?? options.from;
        if (from !== undefined) message.from = from;
        if (sendOptions?.statusCallbackUrl !== undefined)
          message.statusCallbackUrl = sendOptions.statusCallbackUrl;
        await options.beforeSend?.(message);
        kept.push(message);
        if (kept.length > maxMessages) kept.splice(0, kept.length - maxMessages);
        for (const listener of listeners) {
          try {
            listener({ ...message });
          } catch {
            // A faulty listener must not fail the send.
          }
        }
        return { id: message.id, status: message.status, provider: name };
      },
      messages: () => kept.map((m) => ({ ...m })),
      last(to) {
        for (let i = kept.length - 1; i >= 0; i--) {
          const m = kept[i] as MemorySms;
          if (to === undefined || m.to === to) return { ...m };
        }
        return undefined;
      },
      subscribe(listener) {
        listeners.add(listener);
        return () => {
          listeners.delete(listener);
        };
      },
      clear() {
        kept.length = 0;
      },
    },
    async () => {
      listeners.clear();
    },
  );
}
