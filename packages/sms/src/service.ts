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
  ProviderRouterErrorCode,
  type RetryPolicy,
  silentLogger,
} from '@app/core';
import { classifySmsError, SmsError, SmsErrorCode } from './errors.js';
import { checkEventRecipient, recipientFields, type SmsEventRecipient } from './privacy.js';
import { assertUpdate, memorySmsIdempotencyStore, memorySmsStatusStore } from './stores/memory.js';
import type {
  SmsDeliveryStatus,
  SmsIdempotencyStore,
  SmsProvider,
  SmsSendOptions,
  SmsSendResult,
  SmsStatusRecordResult,
  SmsStatusStore,
  SmsStatusUpdate,
} from './types.js';
import { DEFAULT_MAX_BODY_LENGTH, validateSms } from './validation.js';

/**
 * Builds one provider from its options in config: the object at `sms.providers.<name>`, handed over unchecked.
 * The factory must validate it (`twilioProvider` does, throwing before creating any client). Throwing makes the send fail
 * with `INVALID_PROVIDER_CONFIG` (on first use) or keeps the previous provider (after a config change).
 *
 * `options` is typed `never` so that any one-argument provider factory fits as is
 * (`{ twilio: twilioProvider }`); a hand-written one declares what it reads:
 * `(options: Record<string, unknown>) => myProvider(parse(options))`.
 */
export type SmsProviderFactory = (options: never, name: string) => SmsProvider | Promise<SmsProvider>;

/** Options of {@link createSmsService}. Give `providers` or `providerFactories`, not both. */
export interface SmsServiceOptions {
  /**
   * The providers by name, e.g. `{ twilio: twilioProvider(...), backup: otherProvider }`.
   * @default undefined (then `providerFactories` is required)
   */
  providers?: Readonly<Record<string, SmsProvider>>;
  /**
   * Providers built from their options in config instead: `{ twilio: twilioProvider }` builds `twilio`
   * from the object at `sms.providers.twilio` on first use, and rebuilds it when that key changes (a failed rebuild
   * keeps the previous one and logs). Needs `config`. The service closes the providers it built.
   * @default undefined (then `providers` is required)
   */
  providerFactories?: Readonly<Record<string, SmsProviderFactory>>;
  /** Config key under which each provider's options live, with `providerFactories`. @default 'sms.providers' */
  providersKey?: string;
  /**
   * Where the provider choice (and, with `providerFactories`, each provider's options) is read at every
   * send, so a config change applies to the next message. Required with `providerFactories`.
   * @default undefined (use `defaultChain`)
   */
  config?: ConfigSource;
  /** Config key naming the primary provider. @default 'sms.provider' */
  providerKey?: string;
  /** Config key naming the providers to fail over to, in order (array or comma-separated string). @default 'sms.failover' */
  failoverKey?: string;
  /** The chain used when config names nothing. @default every provider, in the order given */
  defaultChain?: readonly string[];
  /** Retries on one provider for transient failures (429, 5xx, network, timeout). @default 3 attempts, 100 ms doubling, full jitter */
  retry?: Partial<RetryPolicy>;
  /** Upper bound honoured for a provider's Retry-After, in ms. @default 30000 */
  maxRetryAfterMs?: number;
  /** Tells transient, provider-level and permanent failures apart. @default classifySmsError */
  classify?: (error: unknown) => FailureClassification;
  /** Where delivery statuses are kept for `getStatus`. @default memorySmsStatusStore() */
  statusStore?: SmsStatusStore;
  /** Where idempotency keys are remembered. Use the Redis or Prisma store when several processes send. @default memorySmsIdempotencyStore() */
  idempotencyStore?: SmsIdempotencyStore;
  /** How long an idempotency key is remembered after its send succeeded, in ms. @default 86400000 (24 h) */
  idempotencyTtlMs?: number;
  /**
   * How long a send in progress holds its idempotency key, in ms: if the sending process dies, the key is
   * free again after this (not after `idempotencyTtlMs`). A send starts no new provider attempt (nor waits
   * for one) once half of it has passed: it fails with `IDEMPOTENCY_TIMEOUT` and frees the key, so the key
   * never expires while that send could still go out. Keep it above twice the provider's request timeout.
   * @default 60000
   */
  idempotencyLockMs?: number;
  /**
   * Receives `sms.queued`, `sms.sent`, `sms.delivered`, `sms.undelivered`, `sms.failed`... once per status
   * change, with the recipient as `eventRecipient` says (never in clear unless you opt in). @default undefined
   */
  events?: EventSink;
  /**
   * How events name the recipient: `'masked'` (`toMasked: '+44********58'`), `{ hashKey }` (`toHash`, an
   * HMAC of the number under your key, stable across events) or `'clear'` (`to`, the number itself: opt in
   * only when every event consumer may see phone numbers). @default 'masked'
   */
  eventRecipient?: SmsEventRecipient;
  /** Longest body accepted, in characters. @default 1600 */
  maxBodyLength?: number;
  /** Logs retries, failovers and event-sink failures (never bodies or numbers). @default silentLogger */
  logger?: Logger;
}

/** Options of {@link SmsService.send}. */
export interface SmsServiceSendOptions extends SmsSendOptions {
  /**
   * A key naming this logical message (e.g. `otp:<challengeId>`). A second call with the same key, while
   * the key is remembered, does not send again: it answers the first result (`duplicate: true`), or throws
   * `IDEMPOTENCY_IN_PROGRESS` while the first call is still sending. A failed send frees the key.
   * @default undefined (no deduplication)
   */
  idempotencyKey?: string;
  /** Aborts waiting between retries. @default undefined */
  signal?: AbortSignal;
}

/** What {@link SmsService.send} answers. */
export interface SmsServiceSendResult extends SmsSendResult {
  /** Provider calls made, failed ones included (0 for a duplicate). */
  attempts: number;
  /** True when an earlier call with the same idempotency key had already sent this message. */
  duplicate: boolean;
}

/** Sends SMS through the provider chosen by config, with retries, failover, idempotency and statuses. */
export interface SmsService {
  /** Sends one message. Input is validated before any I/O. */
  send(to: string, body: string, options?: SmsServiceSendOptions): Promise<SmsServiceSendResult>;
  /** The latest known status of a message, or `unknown` when nothing was sent or received for `id`. */
  getStatus(id: string): Promise<SmsDeliveryStatus>;
  /** Records a status update (from a provider callback) and forwards it to the event sink when it is new. */
  recordStatus(update: SmsStatusUpdate): Promise<SmsStatusRecordResult>;
  /** The provider names the next send would try, in order. */
  chain(): Promise<string[]>;
  /** Waits for sends in flight, then closes the stores and the providers this service created (`providerFactories`). Stores and providers you passed stay open. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const PKG = '@app/sms';

/**
 * Creates the SMS service: the provider is read from config (`sms.provider`, then `sms.failover`) at every
 * send, transient failures are retried with backoff and jitter (honouring Retry-After), provider-level
 * failures fail over, permanent ones are thrown at once.
 *
 * @example
 * ```ts
 * import { createSmsService } from '@app/sms';
 * import { memorySmsProvider } from '@app/sms/memory';
 *
 * const sms = createSmsService({ providers: { memory: memorySmsProvider() } });
 * const { id, provider } = await sms.send('+14155550123', 'Your code is 123456', { idempotencyKey: 'otp:42' });
 * ```
 *
 * @example
 * ```ts
 * // Provider options in config, applied live: sms.providers.twilio = { "accountSid": "AC…", "authToken": "…", "from": "+14155550100" }
 * import { twilioProvider } from '@app/sms/twilio';
 *
 * const sms = createSmsService({
 *   providerFactories: { twilio: twilioProvider }, // twilioProvider checks the options it is given
 *   config,
 * });
 * ```
 */
export function createSmsService(options: SmsServiceOptions): SmsService {
  if (!options || typeof options !== 'object') {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'createSmsService needs options');
  }
  const logger = options.logger ?? silentLogger;
  const configured = options.providerFactories === undefined ? undefined : fromConfig(options, logger);
  if (!configured && (typeof options.providers !== 'object' || options.providers === null)) {
    throw new SmsError(
      SmsErrorCode.INVALID_OPTIONS,
      'createSmsService needs providers (ready providers) or providerFactories (providers built from config)',
    );
  }
  const maxBodyLength = options.maxBodyLength ?? DEFAULT_MAX_BODY_LENGTH;
  const idempotencyTtlMs = options.idempotencyTtlMs ?? 86_400_000;
  const idempotencyLockMs = options.idempotencyLockMs ?? 60_000;
  if (!(idempotencyLockMs > 0) || !Number.isFinite(idempotencyLockMs)) {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'idempotencyLockMs must be a positive number of ms');
  }
  const ownedStores: Array<{ close(): Promise<void> }> = [];
  const statusStore = options.statusStore ?? own(memorySmsStatusStore());
  let idempotencyStore = options.idempotencyStore;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  function own<T extends { close(): Promise<void> }>(store: T): T {
    ownedStores.push(store);
    return store;
  }

  const router = createProviderRouter<SmsProvider>({
    providers: configured ?? options.providers ?? {},
    config: options.config,
    providerKey: options.providerKey ?? 'sms.provider',
    failoverKey: options.failoverKey ?? 'sms.failover',
    defaultChain: options.defaultChain,
    classify: options.classify ?? classifySmsError,
    retry: options.retry,
    maxRetryAfterMs: options.maxRetryAfterMs,
    logger,
    packageName: PKG,
  });

  const eventRecipient = checkEventRecipient(
    options.eventRecipient ?? 'masked',
    (message) => new SmsError(SmsErrorCode.INVALID_OPTIONS, message),
  );
  async function publish(record: SmsStatusRecordResult['record']): Promise<void> {
    if (!options.events) return;
    const data: Record<string, unknown> = { id: record.id, status: record.status, at: record.updatedAt };
    if (record.provider !== undefined) data.provider = record.provider;
    if (record.to !== undefined) Object.assign(data, recipientFields(record.to, eventRecipient));
    if (record.errorCode !== undefined) data.errorCode = record.errorCode;
    try {
      await options.events.publish(`sms.${record.status}`, data, PKG);
    } catch (error) {
      logger.error({ err: error, event: `sms.${record.status}`, id: record.id }, 'event sink failed');
    }
  }

  async function recordStatus(update: SmsStatusUpdate): Promise<SmsStatusRecordResult> {
    assertUpdate(update);
    const result = await statusStore.record(update);
    if (result.applied) await publish(result.record);
    return result;
  }

  async function deliver(
    to: string,
    body: string,
    providerOptions: SmsSendOptions,
    signal: AbortSignal | undefined,
    lock?: AbortSignal,
  ): Promise<SmsServiceSendResult> {
    let routed: Awaited<ReturnType<typeof router.run<SmsSendResult>>>;
    // `lock` aborts when an idempotent send must start no further attempt (nor keep waiting for one).
    const waits = lock ? (signal ? AbortSignal.any([signal, lock]) : lock) : signal;
    try {
      routed = await router.run(
        (provider) => {
          lock?.throwIfAborted();
          return provider.send(to, body, providerOptions);
        },
        { signal: waits },
      );
    } catch (error) {
      throw toSmsError(error);
    }
    const result: SmsSendResult = {
      id: routed.value.id,
      status: routed.value.status,
      provider: routed.provider,
    };
    try {
      await recordStatus({ id: result.id, status: result.status, provider: result.provider, to });
    } catch (error) {
      // The message is out: a status store outage must not make the caller send it again.
      logger.error({ err: error, id: result.id }, 'could not record the initial status');
    }
    return { ...result, attempts: routed.attempts, duplicate: false };
  }

  async function send(
    to: string,
    body: string,
    sendOptions: SmsServiceSendOptions = {},
  ): Promise<SmsServiceSendResult> {
    if (closed) throw new SmsError(SmsErrorCode.CLOSED, 'the SMS service is closed');
    validateSms(to, body, sendOptions, { maxBodyLength });
    const { idempotencyKey, signal, ...providerOptions } = sendOptions;
    if (
      idempotencyKey !== undefined &&
      (typeof idempotencyKey !== 'string' || idempotencyKey.length === 0 || idempotencyKey.length > 256)
    ) {
      throw new SmsError(
        SmsErrorCode.INVALID_OPTIONS,
        'idempotencyKey must be a string of 1 to 256 characters',
      );
    }
    if (idempotencyKey === undefined) return deliver(to, body, providerOptions, signal);

    idempotencyStore ??= own(memorySmsIdempotencyStore());
    const store = idempotencyStore;
    const fingerprint = fingerprintOf(to, body, providerOptions.from);
    // Held for the lock time only: if this process dies mid-send, the key is free again after it.
    const reservation = await store.reserve(idempotencyKey, fingerprint, idempotencyLockMs);
    if (!reservation.acquired) {
      const { existing } = reservation;
      if (existing.fingerprint !== fingerprint) {
        throw new SmsError(
          SmsErrorCode.IDEMPOTENCY_KEY_REUSED,
          'this idempotency key was already used for a different message',
        );
      }
      if (existing.state === 'pending') {
        throw new SmsError(
          SmsErrorCode.IDEMPOTENCY_IN_PROGRESS,
          'a send with this idempotency key is still in progress',
        );
      }
      return { ...existing.result, attempts: 0, duplicate: true };
    }
    // Past half the lock, no new attempt starts: one already in flight has the other half to finish
    // before the key expires and another caller may send.
    const lock = new AbortController();
    const timer = setTimeout(() => {
      lock.abort(
        new SmsError(
          SmsErrorCode.IDEMPOTENCY_TIMEOUT,
          `the send was still retrying after half of idempotencyLockMs (${idempotencyLockMs} ms); stopped, key freed`,
        ),
      );
    }, idempotencyLockMs / 2);
    let result: SmsServiceSendResult;
    try {
      result = await deliver(to, body, providerOptions, signal, lock.signal);
    } catch (error) {
      await store.release(idempotencyKey, reservation.token).catch((releaseError: unknown) => {
        logger.error({ err: releaseError }, 'could not release an idempotency key');
      });
      throw error;
    } finally {
      clearTimeout(timer);
    }
    const stored: SmsSendResult = { id: result.id, status: result.status, provider: result.provider };
    await store
      .complete(idempotencyKey, reservation.token, stored, idempotencyTtlMs)
      .catch((error: unknown) => {
        logger.error({ err: error }, 'could not store an idempotency result');
      });
    return result;
  }

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    const forget = () => inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  async function close(): Promise<void> {
    closed = true;
    await Promise.allSettled([...inFlight]);
    await Promise.allSettled([configured?.close(), ...ownedStores.splice(0).map((s) => s.close())]);
  }

  return {
    send: (to, body, sendOptions) => track(send(to, body, sendOptions)),
    async getStatus(id) {
      if (typeof id !== 'string' || id.length === 0) {
        throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'getStatus needs a message id');
      }
      return (await statusStore.get(id)) ?? { id, status: 'unknown' };
    },
    recordStatus,
    chain: () => router.chain(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The providers of `providerFactories`, built from `${providersKey}.<name>` and rebuilt on change. */
function fromConfig(options: SmsServiceOptions, logger: Logger): ConfiguredProviders<SmsProvider> {
  const factories = options.providerFactories;
  if (options.providers !== undefined) {
    throw new SmsError(
      SmsErrorCode.INVALID_OPTIONS,
      'give providers or providerFactories, not both (a name would be ambiguous)',
    );
  }
  if (!isPlainObject(factories) || Object.keys(factories).length === 0) {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'providerFactories must name at least one provider');
  }
  for (const [name, factory] of Object.entries(factories)) {
    if (typeof factory !== 'function') {
      throw new SmsError(SmsErrorCode.INVALID_OPTIONS, `providerFactories.${name} is not a function`);
    }
  }
  const config = options.config;
  if (typeof config?.get !== 'function' || typeof config.watch !== 'function') {
    throw new SmsError(
      SmsErrorCode.INVALID_OPTIONS,
      'providerFactories needs config (a ConfigSource) to read the provider options from',
    );
  }
  const prefix = (options.providersKey ?? 'sms.providers').replace(/\.$/, '');
  if (prefix === '') {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'providersKey must be a non-empty config key');
  }
  const build = (name: string, factory: SmsProviderFactory) => async (value: unknown) => {
    const key = `${prefix}.${name}`;
    if (!isPlainObject(value)) {
      const found = value === undefined ? 'nothing' : Array.isArray(value) ? 'an array' : typeof value;
      throw new SmsError(
        SmsErrorCode.INVALID_PROVIDER_CONFIG,
        `config key '${key}' must hold the options of provider '${name}' as an object; found ${found}`,
        { provider: name },
      );
    }
    let provider: SmsProvider;
    try {
      provider = await factory(value as never, name);
    } catch (error) {
      const reason = error instanceof Error ? error.message.replace(/^\[@app\/sms\] /, '') : String(error);
      throw new SmsError(
        SmsErrorCode.INVALID_PROVIDER_CONFIG,
        `provider '${name}' cannot be built from config key '${key}': ${reason}`,
        { cause: error, provider: name },
      );
    }
    if (typeof provider?.send !== 'function') {
      throw new SmsError(
        SmsErrorCode.INVALID_OPTIONS,
        `providerFactories.${name} returned no provider (no send method)`,
      );
    }
    return provider;
  };
  return configuredProviders<SmsProvider>({
    config,
    keyPrefix: prefix,
    factories: Object.fromEntries(Object.entries(factories).map(([name, f]) => [name, build(name, f)])),
    logger,
    packageName: PKG,
  });
}

function fingerprintOf(to: string, body: string, from: string | undefined): string {
  return createHash('sha256')
    .update(JSON.stringify([to, from ?? null, body]))
    .digest('base64url');
}

function toSmsError(error: unknown): unknown {
  if (!isAppError(error, PKG) || error instanceof SmsError) return error;
  const attempts = (error as { attempts?: SmsError['attempts'] }).attempts ?? [];
  const message = error.message.replace(/^\[@app\/sms\] /, '');
  switch (error.code) {
    case ProviderRouterErrorCode.ALL_PROVIDERS_FAILED:
      return new SmsError(SmsErrorCode.ALL_PROVIDERS_FAILED, message, { cause: error.cause, attempts });
    case ProviderRouterErrorCode.UNKNOWN_PROVIDER:
      return new SmsError(SmsErrorCode.UNKNOWN_PROVIDER, message);
    case ProviderRouterErrorCode.NO_PROVIDER:
      return new SmsError(SmsErrorCode.NO_PROVIDER, message);
    default:
      return error;
  }
}
