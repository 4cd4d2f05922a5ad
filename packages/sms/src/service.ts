import { type EventSink, silentLogger } from '@app/core';
import type { DeliveryProviderOptions, IdempotencyOptions, IdempotencyStore } from '@app/delivery';
import { deliveryProviders, fingerprintOf, sendOnce } from '@app/delivery';
import { memoryIdempotencyStore, memoryStatusStore } from '@app/delivery/memory';
import { classifySmsError, SmsError, SmsErrorCode, type SmsErrorOptions } from './errors.js';
import { checkEventRecipient, recipientFields, type SmsEventRecipient } from './privacy.js';
import { smsStatusRecord, smsStatusUpdate } from './status.js';
import type {
  SmsDeliveryStatus,
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

/**
 * Options of {@link createSmsService}: the provider options every delivery service shares (`providers` or
 * `providerFactories`, `config`, `providerKey` `'sms.provider'`, `failoverKey` `'sms.failover'`,
 * `providersKey` `'sms.providers'`, `defaultChain`, `retry`, `maxRetryAfterMs`, `classify` (default
 * {@link classifySmsError}), `logger`), plus the SMS ones below. Give `providers` or `providerFactories`,
 * not both.
 */
export interface SmsServiceOptions extends DeliveryProviderOptions<SmsProvider, SmsProviderFactory> {
  /** Where delivery statuses are kept. @default memoryStatusStore() (closed with the service) */
  statusStore?: SmsStatusStore;
  /**
   * Idempotency: `{ store, ttlMs, lockMs, waitMs, pollMs }`, the same shape as `@app/email`'s. Use the Redis
   * or Prisma store of `@app/delivery` when several processes send.
   * @default { store: memoryIdempotencyStore(), ttlMs: 86400000, lockMs: 60000, waitMs: 0 } (a call finding
   * its key still sending throws IDEMPOTENCY_IN_PROGRESS at once)
   */
  idempotency?: IdempotencyOptions;
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
  /** Providers given up on before the one that accepted it (0 when the first did, and for a duplicate). */
  failovers: number;
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
  const providers = deliveryProviders<SmsProvider, SmsProviderFactory>(options, SMS_CHANNEL);
  const logger = options.logger ?? silentLogger;
  const maxBodyLength = options.maxBodyLength ?? DEFAULT_MAX_BODY_LENGTH;
  const idempotency = options.idempotency ?? {};
  const lockMs = idempotency.lockMs ?? 60_000;
  if (!(lockMs > 0) || !Number.isFinite(lockMs)) {
    throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'idempotency.lockMs must be a positive number of ms');
  }
  const ownedStores: Array<{ close(): Promise<void> }> = [];
  const statusStore = options.statusStore ?? own(memoryStatusStore());
  let idempotencyStore = idempotency.store;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  function own<T extends { close(): Promise<void> }>(store: T): T {
    ownedStores.push(store);
    return store;
  }

  const eventRecipient = checkEventRecipient(
    options.eventRecipient ?? 'masked',
    (message) => new SmsError(SmsErrorCode.INVALID_OPTIONS, message),
  );
  /** Publishes `sms.<status>`; `routing` (the service's own first status) adds attempts and failovers. */
  async function publish(
    record: SmsStatusRecordResult['record'],
    routing?: { attempts: number; failovers: number },
  ): Promise<void> {
    if (!options.events) return;
    const data: Record<string, unknown> = { id: record.id, status: record.status, at: record.updatedAt };
    if (routing) Object.assign(data, routing);
    if (record.provider !== undefined) data.provider = record.provider;
    if (record.to !== undefined) Object.assign(data, recipientFields(record.to, eventRecipient));
    if (record.errorCode !== undefined) data.errorCode = record.errorCode;
    try {
      await options.events.publish(`sms.${record.status}`, data, PKG);
    } catch (error) {
      logger.error({ err: error, event: `sms.${record.status}`, id: record.id }, 'event sink failed');
    }
  }

  async function recordStatus(
    update: SmsStatusUpdate,
    routing?: { attempts: number; failovers: number },
  ): Promise<SmsStatusRecordResult> {
    const result = await statusStore.record(smsStatusUpdate(update, Date.now()));
    const record = smsStatusRecord(result.record);
    if (result.applied) await publish(record, routing);
    return { applied: result.applied, record };
  }

  async function deliver(
    to: string,
    body: string,
    providerOptions: SmsSendOptions,
    signal: AbortSignal | undefined,
    lock?: AbortSignal,
  ): Promise<SmsServiceSendResult> {
    // `lock` aborts when an idempotent send must start no further attempt (nor keep waiting for one).
    const routed = await providers.run((provider) => provider.send(to, body, providerOptions), {
      signal,
      lock,
    });
    const result: SmsSendResult = {
      id: routed.value.id,
      status: routed.value.status,
      provider: routed.provider,
    };
    try {
      const routing = { attempts: routed.attempts, failovers: routed.failovers };
      await recordStatus({ id: result.id, status: result.status, provider: result.provider, to }, routing);
    } catch (error) {
      // The message is out: a status store outage must not make the caller send it again.
      logger.error({ err: error, id: result.id }, 'could not record the initial status');
    }
    return { ...result, attempts: routed.attempts, failovers: routed.failovers, duplicate: false };
  }

  async function send(
    to: string,
    body: string,
    sendOptions: SmsServiceSendOptions = {},
  ): Promise<SmsServiceSendResult> {
    if (closed) throw new SmsError(SmsErrorCode.CLOSED, 'the SMS service is closed');
    validateSms(to, body, sendOptions, { maxBodyLength });
    const { idempotencyKey, signal, ...providerOptions } = sendOptions;
    if (idempotencyKey === undefined) return deliver(to, body, providerOptions, signal);
    idempotencyStore ??= own(memoryIdempotencyStore());
    const outcome = await sendOnce({
      idempotency: { ...idempotency, store: idempotencyStore as IdempotencyStore, lockMs },
      // Keys are per channel: one shared store serves email and SMS without collisions.
      key: idempotencyKey,
      namespace: 'sms:',
      fingerprint: fingerprintOf([to, providerOptions.from ?? null, body]),
      send: (lock) => deliver(to, body, providerOptions, signal, lock),
      keep: (r): SmsSendResult => ({ id: r.id, status: r.status, provider: r.provider }),
      signal,
      logger,
      errors: idempotencyErrors,
    });
    if (!outcome.duplicate) return outcome.result;
    return { ...(outcome.result as SmsSendResult), attempts: 0, failovers: 0, duplicate: true };
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
    await Promise.allSettled([providers.close(), ...ownedStores.splice(0).map((s) => s.close())]);
  }

  return {
    send: (to, body, sendOptions) => track(send(to, body, sendOptions)),
    async getStatus(id) {
      if (typeof id !== 'string' || id.length === 0) {
        throw new SmsError(SmsErrorCode.INVALID_OPTIONS, 'getStatus needs a message id');
      }
      const record = await statusStore.get(id);
      return record ? smsStatusRecord(record) : { id, status: 'unknown' };
    },
    recordStatus: (update) => recordStatus(update),
    chain: () => providers.chain(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** The SMS channel for the delivery kernel: `@app/sms`, keys `sms.*`, its classification and error class. */
const SMS_CHANNEL = {
  channel: 'sms',
  classify: classifySmsError,
  error: (code: SmsErrorCode, message: string, details: SmsErrorOptions) =>
    new SmsError(code, message, details),
};

const idempotencyErrors = {
  invalidKey: () =>
    new SmsError(SmsErrorCode.INVALID_OPTIONS, 'idempotencyKey must be a string of 1 to 256 characters'),
  conflict: () =>
    new SmsError(
      SmsErrorCode.IDEMPOTENCY_KEY_REUSED,
      'this idempotency key was already used for a different message',
    ),
  inProgress: () =>
    new SmsError(
      SmsErrorCode.IDEMPOTENCY_IN_PROGRESS,
      'a send with this idempotency key is still in progress',
    ),
  timeout: (_key: string, lockMs: number) =>
    new SmsError(
      SmsErrorCode.IDEMPOTENCY_TIMEOUT,
      `the send was still retrying after half of idempotency.lockMs (${lockMs} ms); stopped, key freed`,
    ),
  unavailable: (cause: unknown) =>
    new SmsError(SmsErrorCode.STORE_UNAVAILABLE, 'the idempotency store did not answer: nothing was sent', {
      cause,
    }),
};
