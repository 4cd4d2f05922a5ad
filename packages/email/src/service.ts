import {
  createLimiter,
  type EventSink,
  type FailureClassification,
  isAppError,
  silentLogger,
} from '@app/core';
import type { DeliveryProviderOptions, IdempotencyOptions, IdempotencyStore } from '@app/delivery';
import * as delivery from '@app/delivery';
import { memoryIdempotencyStore, memoryStatusStore } from '@app/delivery/memory';
import { EmailError, EmailErrorCode, EmailProviderError } from './errors.js';
import { renderContent } from './placeholders.js';
import { emailStatusRecord, recordDeliveryEvents } from './status.js';
import type {
  BulkEmail,
  BulkItemResult,
  BulkSendItem,
  BulkSendResult,
  DeliveryStatus,
  EmailAddressInput,
  EmailMessage,
  EmailProvider,
  EmailStatusStore,
  NormalizedBulk,
  NormalizedEmail,
  SendResult,
  StatusRecord,
} from './types.js';
import { type ValidationLimits, validateBulk, validateMessage } from './validation.js';

/**
 * Builds one provider from its options in config: the object at `email.providers.<name>`, handed over unchecked.
 * The factory must validate it (`sesProvider` and `sendgridProvider` do, throwing before creating any client). Throwing makes the send fail
 * with `INVALID_PROVIDER_CONFIG` (on first use) or keeps the previous provider (after a config change).
 *
 * `options` is typed `never` so that any one-argument provider factory fits as is
 * (`{ ses: sesProvider }`); a hand-written one declares what it reads:
 * `(options: Record<string, unknown>) => myProvider(parse(options))`.
 */
export type EmailProviderFactory = (options: never, name: string) => EmailProvider | Promise<EmailProvider>;

/**
 * Options of {@link createEmailService}: the provider options every delivery service shares (`providers` or
 * `providerFactories`, `config`, `providerKey` `'email.provider'`, `failoverKey` `'email.failover'`,
 * `providersKey` `'email.providers'`, `defaultChain`, `retry`, `maxRetryAfterMs`, `classify` (default
 * {@link classifyEmailError}), `logger`), plus the email ones below. Give `providers` or
 * `providerFactories`, not both.
 */
export interface EmailServiceOptions extends DeliveryProviderOptions<EmailProvider, EmailProviderFactory> {
  /** The sender used when a message has no `from`. @default undefined (from is then required) */
  defaultFrom?: EmailAddressInput;
  /** Keeps send and webhook statuses for `getStatus`. @default memoryStatusStore({ maxEntries: 100000 }) */
  statusStore?: EmailStatusStore;
  /**
   * Makes `send(..., { idempotencyKey })` send at most once per key: `{ store, ttlMs, lockMs, waitMs,
   * pollMs }`, the same shape as `@app/sms`'s (`store` defaults to a memory store here too).
   * @default undefined (keys are refused); waitMs defaults to 10000 (a call finding its key still sending waits for the result)
   */
  idempotency?: IdempotencyOptions;
  /** Receives `email.queued` / `email.sent` after each accepted message. @default undefined */
  events?: EventSink;
  /** Validation limits. @default { maxRecipients: 50, maxMessageBytes: 10 MiB } */
  limits?: ValidationLimits;
  /** Provider calls in flight at once during `sendBulk`. @default 4 */
  bulkConcurrency?: number;
}

/** Options of one {@link EmailService.send}. */
export interface SendOptions {
  /**
   * A retried call with the same key returns the first call's result instead of sending again (needs the
   * service's `idempotency` option). @default undefined (every call sends)
   */
  idempotencyKey?: string;
  /** Aborts waits between retries; also handed to each provider call. @default undefined */
  signal?: AbortSignal;
}

/** Sends email through the configured provider chain. Created by {@link createEmailService}. */
export interface EmailService {
  /** Validates and sends one message, retrying and failing over as needed. */
  send(message: EmailMessage, options?: SendOptions): Promise<SendResult>;
  /**
   * Sends many messages: a list of distinct messages (bounded concurrency), or one content to many
   * recipients (native batches: SendGrid 1,000 per request, SES 50 per call). One item per input, in order.
   */
  sendBulk(
    input: readonly EmailMessage[] | BulkEmail,
    options?: { signal?: AbortSignal },
  ): Promise<BulkSendResult>;
  /** The latest status of a message id, from sends and webhooks; `unknown` when nothing was recorded. */
  getStatus(messageId: string): Promise<DeliveryStatus>;
  /** The status record with every event, or undefined. */
  getStatusRecord(messageId: string): Promise<StatusRecord | undefined>;
  /** The provider names the next call would try, in order (reads config). */
  chain(): Promise<string[]>;
  /** The status store (share it with the webhook handlers). */
  readonly statusStore: EmailStatusStore;
  /** Closes the providers and stores; later calls throw `CLOSED`. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Classifies any error thrown by a provider: an {@link EmailProviderError} carries its kind; otherwise
 * another `@app` error is permanent, and the rest is `@app/delivery`'s `classifyFailure`: network errors
 * transient, HTTP statuses by `classifyHttpStatus` (408/429/5xx transient, 401/403 provider), anything else
 * a provider-level failure (fail over, do not retry).
 *
 * @example
 * ```ts
 * classifyEmailError(new EmailProviderError('ses', 'transient', 'throttled', { retryAfterMs: 1000 }));
 * // { kind: 'transient', retryAfterMs: 1000 }
 * ```
 */
export function classifyEmailError(error: unknown): FailureClassification {
  if (error instanceof EmailProviderError || isAppError(error, '@app/email', EmailErrorCode.PROVIDER_ERROR)) {
    const e = error as EmailProviderError;
    return e.retryAfterMs === undefined ? { kind: e.kind } : { kind: e.kind, retryAfterMs: e.retryAfterMs };
  }
  if (isAppError(error)) return { kind: 'permanent' };
  return delivery.classifyFailure(error);
}

function splitBulk(bulk: NormalizedBulk, index: number): NormalizedEmail {
  const { recipients, ...shared } = bulk;
  const r = recipients[index];
  // Without a provider template, the recipient gets the content with its placeholders filled, as bulk
  // providers render it.
  const content = shared.template ? {} : renderContent(shared, r?.data);
  const message: NormalizedEmail = { ...shared, ...content, to: r?.to ?? [], cc: [], bcc: [] };
  if (shared.template && r?.data)
    message.template = { id: shared.template.id, data: { ...shared.template.data, ...r.data } };
  return message;
}

/**
 * Creates the email service: the provider is read from config at every call (so switching
 * `email.provider` takes effect on the next send), transient failures are retried with backoff and
 * jitter (honouring 429 reset headers), provider-level failures fail over along `email.failover`, and
 * rejected messages fail at once. Messages are validated before any network call.
 *
 * @example
 * ```ts
 * import { createEmailService } from '@app/email';
 * import { memoryEmailProvider } from '@app/email/memory';
 *
 * const email = createEmailService({ providers: { memory: memoryEmailProvider() }, defaultFrom: 'app@example.com' });
 * const { id } = await email.send({ to: 'ada@example.com', subject: 'Welcome', text: 'Hello Ada' });
 * await email.getStatus(id); // 'sent'
 * ```
 *
 * @example
 * ```ts
 * // Provider options in config, applied live: email.providers.sendgrid = { "apiKey": "SG.xxx" }
 * import { sendgridProvider } from '@app/email/sendgrid';
 * import { sesProvider } from '@app/email/ses';
 *
 * const email = createEmailService({
 *   providerFactories: { ses: (options) => sesProvider(options), sendgrid: (options) => sendgridProvider(options) },
 *   config, // email.provider picks one; email.providers.<name> holds its options
 *   defaultFrom: 'app@example.com',
 * });
 * ```
 */
export function createEmailService(options: EmailServiceOptions): EmailService {
  const router = delivery.deliveryProviders<EmailProvider, EmailProviderFactory>(options, {
    channel: 'email', // @app/email, email.provider, email.failover, email.providers.*
    classify: classifyEmailError,
    error: (code, message, details) => new EmailError(code, message, details),
  });
  const logger = options.logger ?? silentLogger;
  const statusStore = options.statusStore ?? memoryStatusStore({ maxEntries: 100_000 });
  const limits = { ...options.limits, defaultFrom: options.defaultFrom };
  const concurrency = Math.max(1, options.bulkConcurrency ?? 4);
  const idem: (IdempotencyOptions & { store: IdempotencyStore }) | undefined = options.idempotency && {
    ...options.idempotency,
    store: options.idempotency.store ?? memoryIdempotencyStore(),
  };
  const limit = createLimiter(concurrency);
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new EmailError(EmailErrorCode.CLOSED, 'the email service is closed');
  }

  /** Records the send's first status; its event carries how many attempts and failovers it took. */
  async function track(
    id: string,
    status: 'queued' | 'sent',
    routed: { provider: string; attempts: number; failovers: number },
  ): Promise<void> {
    const { provider, attempts, failovers } = routed;
    try {
      await recordDeliveryEvents(
        [
          {
            id: `${id}:${status}`,
            messageId: id,
            status,
            provider,
            timestamp: new Date(),
            attempts,
            failovers,
          },
        ],
        { store: statusStore, sink: options.events, logger },
      );
    } catch (error) {
      // The message is sent; failing the call now would invite a duplicate send.
      logger.error({ err: error, messageId: id }, 'could not record the send in the status store');
    }
  }

  /** `lock`: aborts when an idempotent send must start no further attempt (provider calls keep `signal`). */
  async function sendNormalized(
    message: NormalizedEmail,
    signal?: AbortSignal,
    lock?: AbortSignal,
  ): Promise<SendResult> {
    const routed = await router.run((provider) => provider.send(message, { signal }), { signal, lock });
    await track(routed.value.id, routed.value.status, routed);
    return {
      ...routed.value,
      provider: routed.provider,
      attempts: routed.attempts,
      failovers: routed.failovers,
    };
  }

  async function sendIdempotent(
    key: string,
    message: NormalizedEmail,
    signal?: AbortSignal,
  ): Promise<SendResult> {
    if (!idem) {
      throw new EmailError(EmailErrorCode.INVALID_OPTIONS, 'idempotencyKey needs the idempotency option');
    }
    const outcome = await delivery.sendOnce<SendResult>({
      idempotency: idem,
      key,
      // Keys are per channel: one shared store serves email and SMS without collisions.
      namespace: 'email:',
      fingerprint: delivery.fingerprintOf(message),
      send: (lock) => sendNormalized(message, signal, lock),
      signal,
      logger,
      defaultWaitMs: 10_000,
      errors: {
        invalidKey: () =>
          new EmailError(EmailErrorCode.INVALID_OPTIONS, 'idempotencyKey must be 1-256 characters'),
        conflict: (k) =>
          new EmailError(
            EmailErrorCode.IDEMPOTENCY_CONFLICT,
            `idempotency key '${k}' was already used for a different message`,
          ),
        inProgress: (k) =>
          new EmailError(
            EmailErrorCode.IDEMPOTENCY_IN_PROGRESS,
            `another call with idempotency key '${k}' is still sending`,
          ),
        timeout: (k, lockMs) =>
          new EmailError(
            EmailErrorCode.IDEMPOTENCY_TIMEOUT,
            `the send with idempotency key '${k}' was still retrying after half of lockMs (${lockMs} ms); stopped, key freed`,
          ),
        unavailable: (cause) =>
          new EmailError(
            EmailErrorCode.STORE_UNAVAILABLE,
            'the idempotency store did not answer: nothing was sent',
            { cause },
          ),
      },
    });
    if (outcome.duplicate) {
      // A result stored before `failovers` existed has none.
      const earlier = outcome.result as SendResult;
      return { ...earlier, failovers: earlier.failovers ?? 0, duplicate: true };
    }
    return outcome.result;
  }

  async function bulkMessages(
    messages: readonly EmailMessage[],
    signal?: AbortSignal,
  ): Promise<BulkSendItem[]> {
    const issues: string[] = [];
    const normalized = messages.map((m, i) => {
      try {
        return validateMessage(m, limits);
      } catch (error) {
        if (!(error instanceof EmailError)) throw error;
        issues.push(...error.issues.map((s) => `[${i}] ${s}`));
        return undefined;
      }
    });
    if (issues.length > 0) {
      throw new EmailError(
        EmailErrorCode.INVALID_MESSAGE,
        `invalid messages: ${issues.slice(0, 5).join('; ')}`,
        {
          issues,
        },
      );
    }
    const items: BulkSendItem[] = new Array(messages.length);
    await Promise.all(
      (normalized as NormalizedEmail[]).map((message, index) =>
        limit(async () => {
          const to = message.to.map((a) => a.email);
          try {
            const r = await sendNormalized(message, signal);
            items[index] = { index, to, ok: true, id: r.id, status: r.status, provider: r.provider };
          } catch (error) {
            items[index] = { index, to, ok: false, error: error as Error };
          }
        }),
      ),
    );
    return items;
  }

  async function bulkBatched(bulk: BulkEmail, signal?: AbortSignal): Promise<BulkSendItem[]> {
    const normalized = validateBulk(bulk, limits);
    const total = normalized.recipients.length;
    const items: BulkSendItem[] = new Array(total);
    const primary = await router.get((await router.chain())[0] ?? '');
    const chunkSize = primary?.sendBulk ? Math.max(1, primary.maxBulkSize ?? 1) : 1;
    const pending = Array.from({ length: total }, (_, i) => i);

    const sendChunk = async (chunk: number[]) => {
      // The provider that ends up serving the chunk (after failover) may take fewer recipients per call:
      // it sends what it can, and the rest goes back to the queue.
      const routed = await router.run(
        async (provider) => {
          if (!provider.sendBulk) {
            const first = chunk[0] as number;
            const r = await provider.send(splitBulk(normalized, first), { signal });
            return { used: 1, results: [{ ok: true, ...r }] as BulkItemResult[] };
          }
          const part = chunk.slice(0, Math.max(1, provider.maxBulkSize ?? 1));
          const batch: NormalizedBulk = {
            ...normalized,
            recipients: part.map((i) => normalized.recipients[i]!),
          };
          return { used: part.length, results: await provider.sendBulk(batch, { signal }) };
        },
        { signal },
      );
      const { used, results } = routed.value;
      const tracking: Promise<void>[] = [];
      chunk.slice(0, used).forEach((index, k) => {
        const to = (normalized.recipients[index]?.to ?? []).map((a) => a.email);
        const r = results[k];
        if (r?.ok) {
          items[index] = { index, to, ok: true, id: r.id, status: r.status, provider: routed.provider };
          tracking.push(track(r.id, r.status, routed));
        } else {
          const error =
            r?.error ?? new EmailError(EmailErrorCode.PROVIDER_ERROR, 'provider returned no result');
          items[index] = { index, to, ok: false, error };
        }
      });
      await Promise.all(tracking);
      return chunk.slice(used);
    };

    const lane = async () => {
      while (pending.length > 0) {
        const chunk = pending.splice(0, chunkSize);
        try {
          const rest = await sendChunk(chunk);
          if (rest.length > 0) pending.unshift(...rest);
        } catch (error) {
          for (const index of chunk) {
            const to = (normalized.recipients[index]?.to ?? []).map((a) => a.email);
            items[index] = { index, to, ok: false, error: error as Error };
          }
        }
      }
    };
    // A lane can finish while another is about to requeue a remainder: run lanes until nothing is left.
    while (pending.length > 0) await Promise.all(Array.from({ length: concurrency }, lane));
    return items;
  }

  const service: EmailService = {
    statusStore,
    async send(message, sendOptions = {}) {
      assertOpen();
      const normalized = validateMessage(message, limits);
      if (sendOptions.idempotencyKey !== undefined) {
        return sendIdempotent(sendOptions.idempotencyKey, normalized, sendOptions.signal);
      }
      return sendNormalized(normalized, sendOptions.signal);
    },
    async sendBulk(input, bulkOptions = {}) {
      assertOpen();
      const items = Array.isArray(input)
        ? await bulkMessages(input as readonly EmailMessage[], bulkOptions.signal)
        : await bulkBatched(input as BulkEmail, bulkOptions.signal);
      const sent = items.filter((i) => i.ok).length;
      return { items, sent, failed: items.length - sent };
    },
    async getStatus(messageId) {
      const record = await statusStore.get(messageId);
      if (record) return record.status as DeliveryStatus;
      // Configured providers not built yet have sent nothing from this process.
      for (const provider of router.built()) {
        const status = await provider?.getStatus?.(messageId);
        if (status && status !== 'unknown') return status;
      }
      return 'unknown';
    },
    getStatusRecord: async (messageId) => emailStatusRecord(await statusStore.get(messageId)),
    chain: () => router.chain(),
    async close() {
      if (closed) return;
      closed = true;
      const closing = [
        router.close(),
        ...(options.providerFactories ? [] : router.built().map((p) => p.close?.())),
        statusStore.close(),
        idem?.store.close(),
      ];
      await Promise.allSettled(closing);
    },
    [Symbol.asyncDispose]() {
      return service.close();
    },
  };
  return service;
}
