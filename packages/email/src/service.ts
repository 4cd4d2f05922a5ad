import { createHash } from 'node:crypto';
import {
  type ConfigSource,
  type ConfiguredProviders,
  configuredProviders,
  createProviderRouter,
  type EventSink,
  type FailureClassification,
  isAppError,
  type Logger,
  type ProviderRouter,
  type RetryPolicy,
  silentLogger,
  sleep,
} from '@app/core';
import { memoryEmailStatusStore } from './adapters/memory.js';
import {
  classifyHttpStatus,
  EmailError,
  EmailErrorCode,
  EmailProviderError,
  isNetworkError,
} from './errors.js';
import { forEachLimited } from './limit.js';
import { renderContent } from './placeholders.js';
import { recordDeliveryEvents } from './status.js';
import type {
  BulkEmail,
  BulkItemResult,
  BulkSendItem,
  BulkSendResult,
  DeliveryStatus,
  EmailAddressInput,
  EmailIdempotencyStore,
  EmailMessage,
  EmailProvider,
  EmailStatusStore,
  NormalizedBulk,
  NormalizedEmail,
  SendResult,
  StatusRecord,
} from './types.js';
import { type ValidationLimits, validateBulk, validateMessage } from './validation.js';

/** Idempotency settings of {@link createEmailService}. */
export interface IdempotencyOptions {
  /** Where keys are kept: `memoryEmailIdempotencyStore()`, `redisEmailIdempotencyStore({ client })` or `prismaEmailIdempotencyStore({ prisma })`. */
  store: EmailIdempotencyStore;
  /** How long a finished send is remembered, in ms. @default 86400000 (24 h) */
  ttlMs?: number;
  /**
   * How long a send in progress holds its key; a crashed sender frees it after this. A send starts no new
   * provider attempt (nor waits for one) once half of it has passed: it fails with `IDEMPOTENCY_TIMEOUT`
   * and frees the key, so the key never expires while that send could still go out. Keep it above twice
   * the providers' request timeout. @default 60000
   */
  lockMs?: number;
  /** How long a concurrent call with the same key waits for the first one to finish, in ms. @default 10000 */
  waitMs?: number;
  /** How often that waiting call checks, in ms. @default 50 */
  pollMs?: number;
}

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

/** Options of {@link createEmailService}. Give `providers` or `providerFactories`, not both. */
export interface EmailServiceOptions {
  /**
   * The providers by name: `{ ses: sesProvider(...), sendgrid: sendgridProvider(...) }`.
   * @default undefined (then `providerFactories` is required)
   */
  providers?: Readonly<Record<string, EmailProvider>>;
  /**
   * Providers built from their options in config instead: `{ ses: (options) => sesProvider(options) }`
   * builds `ses` from the object at `email.providers.ses` on first use, and rebuilds it when that key
   * changes (a failed rebuild keeps the previous one and logs). Needs `config`. The service closes them.
   * @default undefined (then `providers` is required)
   */
  providerFactories?: Readonly<Record<string, EmailProviderFactory>>;
  /** Config key under which each provider's options live, with `providerFactories`. @default 'email.providers' */
  providersKey?: string;
  /**
   * Where the provider choice (and, with `providerFactories`, each provider's options) is read at every
   * call (`@app/config` fits). Required with `providerFactories`.
   * @default undefined (the order of `providers`)
   */
  config?: ConfigSource;
  /** Config key naming the primary provider. @default 'email.provider' */
  providerKey?: string;
  /** Config key naming the failover chain (array or comma-separated). @default 'email.failover' */
  failoverKey?: string;
  /** The sender used when a message has no `from`. @default undefined (from is then required) */
  defaultFrom?: EmailAddressInput;
  /** Retries of transient failures on one provider. @default 3 attempts, 100 ms doubling, full jitter */
  retry?: Partial<RetryPolicy>;
  /** Upper bound for a provider-requested wait (429 reset), in ms. @default 30000 */
  maxRetryAfterMs?: number;
  /** Keeps send and webhook statuses for `getStatus`. @default memoryEmailStatusStore() */
  statusStore?: EmailStatusStore;
  /** Makes `send(..., { idempotencyKey })` send at most once per key. @default undefined (keys are refused) */
  idempotency?: IdempotencyOptions;
  /** Receives `email.queued` / `email.sent` after each accepted message. @default undefined */
  events?: EventSink;
  /** Validation limits. @default { maxRecipients: 50, maxMessageBytes: 10 MiB } */
  limits?: ValidationLimits;
  /** Provider calls in flight at once during `sendBulk`. @default 4 */
  bulkConcurrency?: number;
  /** Logs retries, failovers and store problems (never content). @default silentLogger */
  logger?: Logger;
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
 * network errors are transient, HTTP statuses are mapped by {@link classifyHttpStatus}, and anything else
 * counts as a provider-level failure (fail over, do not retry).
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
  if (isNetworkError(error)) return { kind: 'transient' };
  const e = error as { statusCode?: unknown; status?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = [e?.statusCode, e?.status, e?.$metadata?.httpStatusCode].find((s) => typeof s === 'number');
  if (typeof status === 'number') return { kind: classifyHttpStatus(status) };
  return { kind: 'provider' };
}

function fingerprint(message: NormalizedEmail): string {
  const json = JSON.stringify(message, (_k, v: unknown) =>
    v instanceof Uint8Array ? createHash('sha256').update(v).digest('base64') : v,
  );
  return createHash('sha256').update(json).digest('base64url');
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
  const logger = options.logger ?? silentLogger;
  const configured = options.providerFactories ? fromConfig(options, logger) : undefined;
  const providers = configured ? undefined : checkProviders(options.providers);
  /** The provider `name`, building it from config if needed. */
  const providerOf = async (name: string): Promise<EmailProvider | undefined> =>
    configured ? configured.get(name) : providers?.[name];
  const statusStore = options.statusStore ?? memoryEmailStatusStore();
  const limits = { ...options.limits, defaultFrom: options.defaultFrom };
  const concurrency = Math.max(1, options.bulkConcurrency ?? 4);
  const idem = options.idempotency;
  const router: ProviderRouter<EmailProvider> = createProviderRouter<EmailProvider>({
    providers: configured ?? providers ?? {},
    config: options.config,
    providerKey: options.providerKey ?? 'email.provider',
    failoverKey: options.failoverKey ?? 'email.failover',
    classify: classifyEmailError,
    retry: options.retry,
    maxRetryAfterMs: options.maxRetryAfterMs,
    logger,
    packageName: '@app/email',
  });
  let closed = false;

  function assertOpen(): void {
    if (closed) throw new EmailError(EmailErrorCode.CLOSED, 'the email service is closed');
  }

  async function track(id: string, status: 'queued' | 'sent', provider: string): Promise<void> {
    try {
      await recordDeliveryEvents(
        [{ id: `${id}:${status}`, messageId: id, status, provider, timestamp: new Date() }],
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
    const waits = lock ? (signal ? AbortSignal.any([signal, lock]) : lock) : signal;
    const routed = await router.run(
      (provider) => {
        lock?.throwIfAborted();
        return provider.send(message, { signal });
      },
      { signal: waits },
    );
    await track(routed.value.id, routed.value.status, routed.provider);
    return { ...routed.value, provider: routed.provider, attempts: routed.attempts };
  }

  async function sendOnce(key: string, message: NormalizedEmail, signal?: AbortSignal): Promise<SendResult> {
    if (!idem) {
      throw new EmailError(EmailErrorCode.INVALID_OPTIONS, 'idempotencyKey needs the idempotency option');
    }
    if (typeof key !== 'string' || key.length === 0 || key.length > 256) {
      throw new EmailError(EmailErrorCode.INVALID_OPTIONS, 'idempotencyKey must be 1-256 characters');
    }
    const print = fingerprint(message);
    const deadline = Date.now() + (idem.waitMs ?? 10_000);
    const lockMs = idem.lockMs ?? 60_000;
    for (;;) {
      const begun = await idem.store.begin(key, lockMs);
      if (begun.state === 'acquired') {
        // Past half the lock, no new attempt starts: one already in flight has the other half to finish
        // before the key expires and another caller may send.
        const lock = new AbortController();
        const timer = setTimeout(() => {
          lock.abort(
            new EmailError(
              EmailErrorCode.IDEMPOTENCY_TIMEOUT,
              `the send with idempotency key '${key}' was still retrying after half of lockMs (${lockMs} ms); stopped, key freed`,
            ),
          );
        }, lockMs / 2);
        let result: SendResult;
        try {
          result = await sendNormalized(message, signal, lock.signal);
        } catch (error) {
          await idem.store.release(key, begun.token).catch((err: unknown) => {
            logger.error({ err }, 'could not release an idempotency key');
          });
          throw error;
        } finally {
          clearTimeout(timer);
        }
        await idem.store
          .complete(key, begun.token, JSON.stringify({ f: print, r: result }), idem.ttlMs ?? 86_400_000)
          .catch((err: unknown) => logger.error({ err }, 'could not store an idempotency result'));
        return result;
      }
      if (begun.state === 'done') {
        const saved = JSON.parse(begun.value) as { f: string; r: SendResult };
        if (saved.f !== print) {
          throw new EmailError(
            EmailErrorCode.IDEMPOTENCY_CONFLICT,
            `idempotency key '${key}' was already used for a different message`,
          );
        }
        return { ...saved.r, duplicate: true };
      }
      if (Date.now() >= deadline) {
        throw new EmailError(
          EmailErrorCode.IDEMPOTENCY_IN_PROGRESS,
          `another call with idempotency key '${key}' is still sending`,
        );
      }
      await sleep(idem.pollMs ?? 50, signal);
    }
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
    await forEachLimited(normalized as NormalizedEmail[], concurrency, async (message, index) => {
      const to = message.to.map((a) => a.email);
      try {
        const r = await sendNormalized(message, signal);
        items[index] = { index, to, ok: true, id: r.id, status: r.status, provider: r.provider };
      } catch (error) {
        items[index] = { index, to, ok: false, error: error as Error };
      }
    });
    return items;
  }

  async function bulkBatched(bulk: BulkEmail, signal?: AbortSignal): Promise<BulkSendItem[]> {
    const normalized = validateBulk(bulk, limits);
    const total = normalized.recipients.length;
    const items: BulkSendItem[] = new Array(total);
    const primary = await providerOf((await router.chain())[0] ?? '');
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
          tracking.push(track(r.id, r.status, routed.provider));
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
        return sendOnce(sendOptions.idempotencyKey, normalized, sendOptions.signal);
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
      if (record) return record.status;
      // Configured providers not built yet have sent nothing from this process.
      const built = configured
        ? configured.names.map((name) => configured.peek(name))
        : Object.values(providers ?? {});
      for (const provider of built) {
        const status = await provider?.getStatus?.(messageId);
        if (status && status !== 'unknown') return status;
      }
      return 'unknown';
    },
    getStatusRecord: (messageId) => statusStore.get(messageId),
    chain: () => router.chain(),
    async close() {
      if (closed) return;
      closed = true;
      const closing = [
        configured?.close(),
        ...Object.values(providers ?? {}).map((p) => p.close?.()),
        statusStore.close?.(),
        idem?.store.close?.(),
      ];
      await Promise.allSettled(closing);
    },
    [Symbol.asyncDispose]() {
      return service.close();
    },
  };
  return service;
}

function checkProviders(
  providers: Readonly<Record<string, EmailProvider>> | undefined,
): Readonly<Record<string, EmailProvider>> {
  if (providers === undefined) {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      'createEmailService needs providers (ready providers) or providerFactories (providers built from config)',
    );
  }
  if (typeof providers !== 'object' || providers === null || Object.keys(providers).length === 0) {
    throw new EmailError(EmailErrorCode.INVALID_OPTIONS, 'createEmailService needs at least one provider');
  }
  for (const [name, p] of Object.entries(providers)) {
    if (typeof p?.send !== 'function') {
      throw new EmailError(EmailErrorCode.INVALID_OPTIONS, `provider '${name}' has no send method`);
    }
  }
  return providers;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The providers of `providerFactories`, built from `${providersKey}.<name>` and rebuilt on change. */
function fromConfig(options: EmailServiceOptions, logger: Logger): ConfiguredProviders<EmailProvider> {
  const factories = options.providerFactories ?? {};
  if (options.providers !== undefined) {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      'give providers or providerFactories, not both (a name would be ambiguous)',
    );
  }
  if (!isPlainObject(factories) || Object.keys(factories).length === 0) {
    throw new EmailError(EmailErrorCode.INVALID_OPTIONS, 'providerFactories must name at least one provider');
  }
  for (const [name, factory] of Object.entries(factories)) {
    if (typeof factory !== 'function') {
      throw new EmailError(EmailErrorCode.INVALID_OPTIONS, `providerFactories.${name} is not a function`);
    }
  }
  if (typeof options.config?.get !== 'function' || typeof options.config.watch !== 'function') {
    throw new EmailError(
      EmailErrorCode.INVALID_OPTIONS,
      'providerFactories needs config (a ConfigSource) to read the provider options from',
    );
  }
  const prefix = (options.providersKey ?? 'email.providers').replace(/\.$/, '');
  if (prefix === '') {
    throw new EmailError(EmailErrorCode.INVALID_OPTIONS, 'providersKey must be a non-empty config key');
  }
  const checked = Object.fromEntries(
    Object.entries(factories).map(([name, factory]) => {
      const key = `${prefix}.${name}`;
      const build = async (value: unknown): Promise<EmailProvider> => {
        if (!isPlainObject(value)) {
          const found = value === undefined ? 'nothing' : Array.isArray(value) ? 'an array' : typeof value;
          throw new EmailError(
            EmailErrorCode.INVALID_PROVIDER_CONFIG,
            `config key '${key}' must hold the options of provider '${name}' as an object; found ${found}`,
          );
        }
        let provider: EmailProvider;
        try {
          provider = await factory(value as never, name);
        } catch (error) {
          const reason =
            error instanceof Error ? error.message.replace(/^\[@app\/email\] /, '') : String(error);
          throw new EmailError(
            EmailErrorCode.INVALID_PROVIDER_CONFIG,
            `provider '${name}' cannot be built from config key '${key}': ${reason}`,
            { cause: error },
          );
        }
        if (typeof provider?.send !== 'function') {
          throw new EmailError(
            EmailErrorCode.INVALID_OPTIONS,
            `providerFactories.${name} returned no provider (no send method)`,
          );
        }
        return provider;
      };
      return [name, build];
    }),
  );
  return configuredProviders<EmailProvider>({
    config: options.config,
    keyPrefix: prefix,
    factories: checked,
    logger,
    packageName: '@app/email',
  });
}
