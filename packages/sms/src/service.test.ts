import type { ConfigSource } from '@app/core';
import { closeable } from '@app/core';
import { sendAcrossLockExpiry } from '@app/delivery/testing';
import { describe, expect, it, vi } from 'vitest';
import { memorySmsIdempotencyStore, memorySmsProvider } from './adapters/memory.js';
import { classifySmsError, isSmsError, SmsError, SmsErrorCode } from './errors.js';
import { createSmsService } from './service.js';
import type { SmsStatusStore } from './types.js';
import { isE164, isSender, validateSms } from './validation.js';

const TO = '+14155550123';

function source(values: Record<string, unknown>): ConfigSource {
  return { get: async (k) => values[k], watch: () => () => {} };
}

/** A memory provider that fails with the given errors first, in order. */
function flaky(name: string, ...failures: Error[]) {
  return memorySmsProvider({
    name,
    beforeSend: () => {
      const next = failures.shift();
      if (next) throw next;
    },
  });
}
const unavailable = () => new SmsError(SmsErrorCode.PROVIDER_UNAVAILABLE, 'down');

describe('validation', () => {
  it('accepts E.164 numbers and sender ids, nothing else', () => {
    expect(['+14155550123', '+442071838750', '+1234567'].every(isE164)).toBe(true);
    // One length rule with @app/otp and @app/core: 7 to 15 digits (so '+12' is refused now).
    expect(
      ['+12', '+123456', '+0123', '14155550123', '+1234567890123456', '+1 415', '', null].some(isE164),
    ).toBe(false);
    expect(['ACME', 'My Brand 1', '+14155550100'].every(isSender)).toBe(true);
    expect(['12345', 'ABCDEFGHIJKL', 'bad!'].some(isSender)).toBe(false);
    expect(() => validateSms(TO, 'x'.repeat(161), undefined, { maxBodyLength: 160 })).toThrow(
      /161 characters; the limit is 160/,
    );
    expect(() => validateSms(TO, 'hi', { statusCallbackUrl: 'javascript:alert(1)' })).toThrow(SmsError);
  });

  it('does not echo a whole phone number in the error message', () => {
    const error = (() => {
      try {
        validateSms('0041795551234', 'hi', undefined);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.toContain('0041795551234');
  });
});

describe('createSmsService', () => {
  it('validates before any I/O: no provider call, no idempotency reservation', async () => {
    const outbox = memorySmsProvider();
    const idempotencyStore = memorySmsIdempotencyStore();
    const sms = createSmsService({
      providers: { memory: outbox },
      idempotency: { store: idempotencyStore },
      maxBodyLength: 10,
    });
    const attempts = [
      sms.send('555-0123', 'hi', { idempotencyKey: 'k' }),
      sms.send(TO, '', { idempotencyKey: 'k' }),
      sms.send(TO, 'this is too long', { idempotencyKey: 'k' }),
      sms.send(TO, 'hi', { idempotencyKey: '' }),
      sms.send(TO, 'hi', { from: '+0', idempotencyKey: 'k' }),
    ];
    const codes = (await Promise.allSettled(attempts)).map((r) =>
      r.status === 'rejected' ? r.reason.code : 'sent',
    );
    expect(codes).toEqual([
      SmsErrorCode.INVALID_PHONE_NUMBER,
      SmsErrorCode.INVALID_BODY,
      SmsErrorCode.INVALID_BODY,
      SmsErrorCode.INVALID_OPTIONS,
      SmsErrorCode.INVALID_PHONE_NUMBER,
    ]);
    expect(outbox.messages()).toEqual([]);
    expect((await idempotencyStore.reserve('sms:k', 'f', 1000)).acquired).toBe(true);
  });

  it('reads the provider from config at every send (defaults sms.provider / sms.failover)', async () => {
    const a = memorySmsProvider({ name: 'a' });
    const b = memorySmsProvider({ name: 'b' });
    const values: Record<string, unknown> = { 'sms.provider': 'b' };
    const sms = createSmsService({ providers: { a, b }, config: source(values) });
    expect((await sms.send(TO, '1')).provider).toBe('b');
    values['sms.provider'] = 'a';
    expect((await sms.send(TO, '2')).provider).toBe('a');
    values['sms.failover'] = 'b';
    expect(await sms.chain()).toEqual(['a', 'b']);
    expect(a.messages().map((m) => m.body)).toEqual(['2']);
  });

  it('says how many attempts and failovers a send took, in its result and its first event', async () => {
    const auth = () => new SmsError(SmsErrorCode.PROVIDER_AUTH_FAILED, 'bad key');
    const published: Array<Record<string, unknown>> = [];
    const sms = createSmsService({
      providers: { a: flaky('a', unavailable(), auth()), b: flaky('b', unavailable()) },
      config: source({ 'sms.provider': 'a', 'sms.failover': 'b' }),
      retry: { baseDelayMs: 1, maxDelayMs: 1 },
      events: { publish: async (_name, data) => void published.push(data) },
    });
    // a: transient, then a provider failure (fail over); b: transient, then accepted.
    expect(await sms.send(TO, 'hi')).toMatchObject({ provider: 'b', attempts: 4, failovers: 1 });
    expect(published).toEqual([expect.objectContaining({ status: 'queued', attempts: 4, failovers: 1 })]);
    // A later status (a webhook) carries no routing figures.
    const id = String(published[0]!.id);
    await sms.recordStatus({ id, status: 'delivered' });
    expect(published[1]).not.toHaveProperty('attempts');
    expect(await sms.send(TO, 'again')).toMatchObject({ provider: 'a', attempts: 1, failovers: 0 });
  });

  it('turns config naming an unknown provider into SmsError(UNKNOWN_PROVIDER)', async () => {
    const sms = createSmsService({
      providers: { a: memorySmsProvider() },
      config: source({ 'sms.provider': 'nope' }),
    });
    await expect(sms.send(TO, 'x')).rejects.toMatchObject({
      code: SmsErrorCode.UNKNOWN_PROVIDER,
      name: 'SmsError',
    });
    const none = createSmsService({ providers: {} });
    await expect(none.send(TO, 'x')).rejects.toMatchObject({ code: SmsErrorCode.NO_PROVIDER });
  });

  it('retries transient failures, fails over on provider failures, throws permanent ones at once', async () => {
    const a = flaky('a', unavailable(), unavailable());
    const b = flaky('b');
    const sms = createSmsService({ providers: { a, b }, retry: { baseDelayMs: 1 } });
    expect(await sms.send(TO, 'x')).toMatchObject({ provider: 'a', attempts: 3 });

    const c = flaky('c', new SmsError(SmsErrorCode.PROVIDER_AUTH_FAILED, 'bad creds'));
    const d = flaky('d');
    const sms2 = createSmsService({ providers: { c, d }, retry: { baseDelayMs: 1 } });
    expect(await sms2.send(TO, 'x')).toMatchObject({ provider: 'd', attempts: 2 });

    const e = flaky('e', new SmsError(SmsErrorCode.RECIPIENT_REJECTED, 'nope'));
    const f = flaky('f');
    const sms3 = createSmsService({ providers: { e, f }, retry: { baseDelayMs: 1 } });
    await expect(sms3.send(TO, 'x')).rejects.toMatchObject({ code: SmsErrorCode.RECIPIENT_REJECTED });
    expect(f.messages()).toEqual([]);
  });

  it('classifies foreign errors by HTTP status and network code', () => {
    const withStatus = (status: number) => Object.assign(new Error('x'), { status });
    expect(classifySmsError(withStatus(429)).kind).toBe('transient');
    expect(classifySmsError(withStatus(502)).kind).toBe('transient');
    expect(classifySmsError(withStatus(401)).kind).toBe('provider');
    expect(classifySmsError(withStatus(422)).kind).toBe('permanent');
    expect(classifySmsError(Object.assign(new Error('x'), { code: 'ECONNRESET' })).kind).toBe('transient');
    expect(classifySmsError(new TypeError('bug')).kind).toBe('provider');
    expect(classifySmsError(new SmsError(SmsErrorCode.RATE_LIMITED, 'slow', { retryAfterMs: 5 }))).toEqual({
      kind: 'transient',
      retryAfterMs: 5,
    });
  });

  it('sends once for 1,000 concurrent calls with one idempotency key', async () => {
    const outbox = memorySmsProvider();
    const sms = createSmsService({ providers: { memory: outbox } });
    const results = await Promise.allSettled(
      Array.from({ length: 1000 }, () => sms.send(TO, 'code 1', { idempotencyKey: 'otp:1' })),
    );
    const sent = results.filter((r) => r.status === 'fulfilled');
    const inProgress = results.filter(
      (r) => r.status === 'rejected' && isSmsError(r.reason, SmsErrorCode.IDEMPOTENCY_IN_PROGRESS),
    );
    expect(outbox.messages()).toHaveLength(1);
    expect(sent.length + inProgress.length).toBe(1000);
    const later = await sms.send(TO, 'code 1', { idempotencyKey: 'otp:1' });
    expect(later).toMatchObject({ id: outbox.messages()[0]?.id, duplicate: true, attempts: 0 });
  });

  it('refuses an idempotency key reused for another message', async () => {
    const sms = createSmsService({ providers: { memory: memorySmsProvider() } });
    await sms.send(TO, 'code 1', { idempotencyKey: 'k' });
    await expect(sms.send(TO, 'code 2', { idempotencyKey: 'k' })).rejects.toMatchObject({
      code: SmsErrorCode.IDEMPOTENCY_KEY_REUSED,
    });
    await expect(sms.send('+14155550999', 'code 1', { idempotencyKey: 'k' })).rejects.toMatchObject({
      code: SmsErrorCode.IDEMPOTENCY_KEY_REUSED,
    });
  });

  it('a sender that died between reserve and complete blocks its key for idempotency.lockMs, not a day', async () => {
    let now = 1_000_000;
    const idempotencyStore = memorySmsIdempotencyStore({ now: () => now });
    // The first process reserves the key, then dies inside the provider call (it never answers).
    const dying = createSmsService({
      providers: { hung: closeable({ name: 'hung', send: () => new Promise<never>(() => {}) }) },
      idempotency: { store: idempotencyStore },
    });
    void dying.send(TO, 'code 7', { idempotencyKey: 'otp:7' });
    await vi.waitFor(async () =>
      expect((await idempotencyStore.reserve('sms:otp:7', 'x', 1)).acquired).toBe(false),
    );
    const outbox = memorySmsProvider();
    const sms = createSmsService({ providers: { memory: outbox }, idempotency: { store: idempotencyStore } });
    await expect(sms.send(TO, 'code 7', { idempotencyKey: 'otp:7' })).rejects.toMatchObject({
      code: SmsErrorCode.IDEMPOTENCY_IN_PROGRESS,
    });
    now += 60_001; // the default idempotency.lockMs
    expect((await sms.send(TO, 'code 7', { idempotencyKey: 'otp:7' })).duplicate).toBe(false);
    // The result, once there, is remembered for idempotency.ttlMs.
    now += 3_600_000;
    expect((await sms.send(TO, 'code 7', { idempotencyKey: 'otp:7' })).duplicate).toBe(true);
    expect(outbox.messages()).toHaveLength(1);
  });

  it('a send still retrying never outlives its key: no attempt starts after half of idempotency.lockMs', async () => {
    vi.useFakeTimers();
    try {
      const outbox = flaky('a', new SmsError(SmsErrorCode.RATE_LIMITED, '429', { retryAfterMs: 40_000 }));
      const sms = createSmsService({
        providers: { a: outbox },
        retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
        maxRetryAfterMs: 60_000,
        idempotency: { lockMs: 30_000 },
      });
      const [firstError, secondError] = await sendAcrossLockExpiry(
        () => sms.send(TO, 'hi', { idempotencyKey: 'slow' }),
        (ms) => vi.advanceTimersByTimeAsync(ms),
      );
      expect(outbox.messages()).toHaveLength(1);
      expect(firstError).toMatchObject({ code: SmsErrorCode.IDEMPOTENCY_TIMEOUT });
      expect(secondError).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it('frees the key when the send fails, so a retry sends', async () => {
    const outbox = flaky('a', new SmsError(SmsErrorCode.PROVIDER_AUTH_FAILED, 'x'));
    const sms = createSmsService({ providers: { a: outbox } });
    await expect(sms.send(TO, 'hi', { idempotencyKey: 'k' })).rejects.toMatchObject({
      code: SmsErrorCode.ALL_PROVIDERS_FAILED,
    });
    expect((await sms.send(TO, 'hi', { idempotencyKey: 'k' })).duplicate).toBe(false);
    expect(outbox.messages()).toHaveLength(1);
  });

  it('records the initial status, publishes one event per change, and answers unknown otherwise', async () => {
    const events: string[] = [];
    const sms = createSmsService({
      providers: { memory: memorySmsProvider() },
      events: { publish: async (name, data) => events.push(`${name}:${String(data.id).slice(0, 2)}`) },
    });
    const { id } = await sms.send(TO, 'hi');
    expect(await sms.getStatus(id)).toMatchObject({ id, status: 'queued', provider: 'memory', to: TO });
    expect((await sms.recordStatus({ id, status: 'delivered' })).applied).toBe(true);
    expect((await sms.recordStatus({ id, status: 'delivered' })).applied).toBe(false);
    expect(events).toEqual(['sms.queued:MM', 'sms.delivered:MM']);
    expect(await sms.getStatus('SMnothing')).toEqual({ id: 'SMnothing', status: 'unknown' });
    await expect(sms.getStatus('')).rejects.toMatchObject({ code: SmsErrorCode.INVALID_OPTIONS });
  });

  it('still answers the send when the status store or the event sink fails', async () => {
    const broken: SmsStatusStore = {
      get: async () => undefined,
      record: async () => {
        throw new Error('store down');
      },
      close: async () => {},
      [Symbol.asyncDispose]: async () => {},
    };
    const errors: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn() {},
      error: (_: object, msg?: string) => errors.push(msg ?? ''),
    };
    const sms = createSmsService({ providers: { m: memorySmsProvider() }, statusStore: broken, logger });
    expect((await sms.send(TO, 'hi')).provider).toBe('m');
    expect(errors).toEqual(['could not record the initial status']);

    const sms2 = createSmsService({
      providers: { m: memorySmsProvider() },
      events: {
        publish: async () => {
          throw new Error('sink down');
        },
      },
      logger,
    });
    expect((await sms2.send(TO, 'hi')).provider).toBe('m');
    expect(errors).toContain('event sink failed');
  });

  it('waits for sends in flight on close, then refuses new ones', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const outbox = memorySmsProvider({ beforeSend: () => gate });
    const sms = createSmsService({ providers: { m: outbox } });
    const pending = sms.send(TO, 'slow');
    let closed = false;
    const closing = sms[Symbol.asyncDispose]().then(() => {
      closed = true;
    });
    await Promise.resolve();
    expect(closed).toBe(false);
    release();
    await closing;
    expect((await pending).provider).toBe('m');
    await expect(sms.send(TO, 'late')).rejects.toMatchObject({ code: SmsErrorCode.CLOSED });
  });

  it('is structurally usable where @app/otp expects send(to, body, options?: object)', async () => {
    const sms = createSmsService({ providers: { m: memorySmsProvider() } });
    const sender: { send(to: string, body: string, options?: object): Promise<unknown> } = sms;
    await expect(sender.send(TO, 'hi')).resolves.toMatchObject({ provider: 'm' });
  });
});
