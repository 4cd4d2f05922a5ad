import { createHash } from 'node:crypto';
import type { Closeable, Logger } from '@app/core';
import { sleep } from '@app/core';

/** What an earlier call with the same idempotency key left behind. */
export type IdempotencyRecord<R = unknown> =
  | { state: 'pending'; fingerprint: string }
  | { state: 'done'; fingerprint: string; result: R };

/** The answer of {@link IdempotencyStore.reserve}. */
export type IdempotencyReservation<R = unknown> =
  | { acquired: true; token: string }
  | { acquired: false; existing: IdempotencyRecord<R> };

/**
 * Remembers idempotency keys so that a retried call never sends twice: the one interface `@app/email`,
 * `@app/sms` and any other channel use. `reserve` is atomic: of many concurrent calls with one key (in any
 * number of processes), exactly one acquires it. A reservation is held for `lockMs` (a crashed sender frees
 * it then); a completed key answers its result for `ttlMs`. Only the holder's token completes or releases a
 * key. Prove an implementation with `idempotencyStoreContract` from `@app/delivery/testing`.
 */
export interface IdempotencyStore extends Closeable {
  /**
   * Reserves `key` for `lockMs` under `fingerprint` (a digest of the message), or answers what an earlier
   * call left: `pending` while it sends, `done` with its result; both with that call's fingerprint.
   */
  reserve(key: string, fingerprint: string, lockMs: number): Promise<IdempotencyReservation>;
  /** Stores `result` (JSON-serialisable) for `ttlMs`, if `token` still holds the key. */
  complete(key: string, token: string, result: unknown, ttlMs: number): Promise<void>;
  /** Frees the key after a failed send, if `token` still holds it, so the call can be made again. */
  release(key: string, token: string): Promise<void>;
}

/** The idempotency settings of a delivery service: `idempotency: { store, ttlMs, lockMs }`, the same in every channel. */
export interface IdempotencyOptions {
  /**
   * Where keys are kept: `memoryIdempotencyStore()`, `redisIdempotencyStore({ client })` or
   * `prismaIdempotencyStore({ prisma })` from `@app/delivery/<backend>` (or the channel's re-export).
   * @default memoryIdempotencyStore() (one process only; closed with the service)
   */
  store?: IdempotencyStore;
  /** How long a finished send is remembered, in ms. @default 86400000 (24 h) */
  ttlMs?: number;
  /**
   * How long a send in progress holds its key, in ms; a crashed sender frees it after this. A send starts no
   * new provider attempt (nor waits for one) once half of it has passed: it fails with `IDEMPOTENCY_TIMEOUT`
   * and frees the key, so the key never expires while that send could still go out. Keep it above twice
   * the providers' request timeout. @default 60000
   */
  lockMs?: number;
  /**
   * How long a call whose key another call is still sending waits for that one to finish, in ms; after it,
   * `IDEMPOTENCY_IN_PROGRESS`. @default the channel's (email 10000, sms 0: answer at once)
   */
  waitMs?: number;
  /** How often that waiting call checks again, in ms. @default 50 */
  pollMs?: number;
}

/** The errors {@link sendOnce} throws, made by the calling package so they are its own class. */
export interface IdempotencyErrors {
  /** The key is not a string of 1 to 256 characters. */
  invalidKey(): Error;
  /** The key was used for a different message. */
  conflict(key: string): Error;
  /** Another call with the key is still sending (after `waitMs`). */
  inProgress(key: string): Error;
  /** The send was still retrying after half of `lockMs`: it stopped, and the key was freed. */
  timeout(key: string, lockMs: number): Error;
  /**
   * The store could not reserve the key (Redis or the database down, or past the store's bound): nothing was
   * sent. `cause` is the store's error.
   * @default none: the store's own error (a `DeliveryError` `STORE_UNAVAILABLE` from this package's stores)
   * is thrown as it is
   */
  unavailable?(cause: unknown): Error;
}

/** What {@link sendOnce} needs for one call. */
export interface SendOnceOptions<R> {
  /** The resolved settings (a store is required here). */
  idempotency: IdempotencyOptions & { store: IdempotencyStore };
  /** The caller's key (1 to 256 characters). */
  key: string;
  /**
   * Prepended to the key in the store, so one store serves several channels without collisions
   * (`email:`, `sms:`). @default '' (none)
   */
  namespace?: string;
  /** A digest of the message ({@link fingerprintOf}): reusing the key for another message is a conflict. */
  fingerprint: string;
  /** Sends; `lock` aborts when no further provider attempt may start. */
  send: (lock: AbortSignal) => Promise<R>;
  /** What is kept as the result (JSON-serialisable). @default the result itself */
  keep?: (result: R) => unknown;
  /** Aborts the wait for another call's result. @default undefined */
  signal?: AbortSignal | undefined;
  /** The package's errors. */
  errors: IdempotencyErrors;
  /** Logs store failures after a send (never keys' content). */
  logger: Logger;
  /** `waitMs` when the settings give none. @default 0 */
  defaultWaitMs?: number;
}

/** What {@link sendOnce} resolves to: this call's result, or the kept result of an earlier call. */
export type SendOnceResult<R> = { duplicate: false; result: R } | { duplicate: true; result: unknown };

/**
 * A digest of whatever identifies a message (recipients, sender, content), for {@link sendOnce}. Binary
 * values (`Uint8Array`) are digested by content.
 *
 * @example
 * ```ts
 * const fingerprint = fingerprintOf([to, from ?? null, body]);
 * ```
 */
export function fingerprintOf(value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) =>
    v instanceof Uint8Array ? createHash('sha256').update(v).digest('base64') : v,
  );
  return createHash('sha256')
    .update(json ?? 'undefined')
    .digest('base64url');
}

/**
 * Accepts an idempotency key: a string of 1 to 256 characters.
 *
 * @example
 * ```ts
 * isIdempotencyKey('welcome:42'); // true
 * isIdempotencyKey(''); // false
 * ```
 */
export function isIdempotencyKey(key: unknown): key is string {
  return typeof key === 'string' && key.length > 0 && key.length <= 256;
}

/**
 * Sends at most once per key: the one idempotency algorithm of every channel. Reserves the key (a live
 * reservation or result under another fingerprint is a conflict), sends, keeps the result for `ttlMs`, and
 * frees the key when the send fails. Past half of `lockMs` no new provider attempt starts (the `lock`
 * signal aborts), so a key never expires while its send could still go out. A call finding the key
 * pending waits up to `waitMs` for the result, then throws `inProgress`.
 *
 * @example
 * ```ts
 * const outcome = await sendOnce({
 *   idempotency: { store }, key: 'welcome:42', fingerprint: fingerprintOf(message),
 *   send: (lock) => deliver(message, lock), errors, logger,
 * });
 * ```
 */
export async function sendOnce<R>(options: SendOnceOptions<R>): Promise<SendOnceResult<R>> {
  const { idempotency, fingerprint, errors, signal } = options;
  if (!isIdempotencyKey(options.key)) throw errors.invalidKey();
  const key = `${options.namespace ?? ''}${options.key}`;
  const { store } = idempotency;
  const lockMs = idempotency.lockMs ?? 60_000;
  const deadline = Date.now() + (idempotency.waitMs ?? options.defaultWaitMs ?? 0);
  for (;;) {
    const reservation = await store.reserve(key, fingerprint, lockMs).catch((error: unknown) => {
      throw errors.unavailable ? errors.unavailable(error) : error;
    });
    if (reservation.acquired) {
      return { duplicate: false, result: await sendHolding(options, key, reservation.token, lockMs) };
    }
    const { existing } = reservation;
    if (existing.fingerprint !== fingerprint) throw errors.conflict(options.key);
    if (existing.state === 'done') return { duplicate: true, result: existing.result };
    if (Date.now() >= deadline) throw errors.inProgress(options.key);
    await sleep(idempotency.pollMs ?? 50, signal);
  }
}

async function sendHolding<R>(
  options: SendOnceOptions<R>,
  key: string,
  token: string,
  lockMs: number,
): Promise<R> {
  const { idempotency, errors, logger } = options;
  // Past half the lock, no new attempt starts: one already in flight has the other half to finish
  // before the key expires and another caller may send.
  const lock = new AbortController();
  const timer = setTimeout(() => lock.abort(errors.timeout(options.key, lockMs)), lockMs / 2);
  let result: R;
  try {
    result = await options.send(lock.signal);
  } catch (error) {
    await idempotency.store.release(key, token).catch((err: unknown) => {
      logger.error({ err }, 'could not release an idempotency key');
    });
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const kept = options.keep ? options.keep(result) : result;
  await idempotency.store
    .complete(key, token, kept, idempotency.ttlMs ?? 86_400_000)
    .catch((err: unknown) => logger.error({ err }, 'could not store an idempotency result'));
  return result;
}
