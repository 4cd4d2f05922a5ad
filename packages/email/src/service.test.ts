import type { ConfigSource, ConfigWatchCallback, EventSink } from '@app/core';
import { isAppError } from '@app/core';
import { sendAcrossLockExpiry } from '@app/delivery/testing';
import { describe, expect, it, vi } from 'vitest';
import {
  memoryEmailIdempotencyStore,
  memoryEmailProvider,
  memoryEmailStatusStore,
} from './adapters/memory.js';
import { EmailError, EmailErrorCode, EmailProviderError, isEmailError } from './errors.js';
import { classifyEmailError, createEmailService } from './service.js';

function mutableConfig(values: Record<string, unknown>): ConfigSource & { set(k: string, v: unknown): void } {
  const watchers = new Map<string, ConfigWatchCallback[]>();
  return {
    get: async (k) => values[k],
    watch(k, cb) {
      watchers.set(k, [...(watchers.get(k) ?? []), cb]);
      return () => {};
    },
    set(k, v) {
      values[k] = v;
      for (const cb of watchers.get(k) ?? []) cb(v, k);
    },
  };
}

const msg = { to: 'ada@example.com', subject: 'Hi', text: 'Hello' };
const fast = { baseDelayMs: 1, maxDelayMs: 2 };

describe('createEmailService', () => {
  it('sends the minimal OTP shape with defaultFrom and records the status', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({ providers: { memory }, defaultFrom: 'App <app@example.com>' });
    const minimal: { to: string; from?: string; subject: string; text?: string; html?: string } = msg;
    const result = await email.send(minimal);
    expect(result).toMatchObject({ provider: 'memory', status: 'sent', attempts: 1 });
    expect(memory.messages()).toHaveLength(1);
    expect(memory.messages()[0]).toMatchObject({
      id: result.id,
      from: { email: 'app@example.com', name: 'App' },
      to: [{ email: 'ada@example.com' }],
      subject: 'Hi',
      text: 'Hello',
    });
    expect(await email.getStatus(result.id)).toBe('sent');
    expect(await email.getStatus('never-sent')).toBe('unknown');
  });

  it('rejects invalid messages with every issue, before any provider call', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({ providers: { memory } });
    const err = await email
      .send({
        to: ['not-an-address', 'b@example.com'],
        subject: 'a\r\nBcc: x@evil.com',
        headers: { To: 'x' },
      })
      .catch((e: unknown) => e);
    expect(isAppError(err, '@app/email', EmailErrorCode.INVALID_MESSAGE)).toBe(true);
    expect((err as { issues: string[] }).issues).toEqual([
      "to[0]: 'not-an-address' is not a valid email address",
      'from: required (or set the service option defaultFrom)',
      'subject: must be one line of at most 998 characters',
      'text or html: one is required',
      'headers.To: not an allowed header name',
    ]);
    expect(memory.messages()).toHaveLength(0);
  });

  it('switches provider live when config changes, with no restart', async () => {
    const a = memoryEmailProvider({ name: 'a' });
    const b = memoryEmailProvider({ name: 'b' });
    const config = mutableConfig({ 'email.provider': 'a' });
    const email = createEmailService({ providers: { a, b }, config, defaultFrom: 'app@example.com' });
    expect((await email.send(msg)).provider).toBe('a');
    config.set('email.provider', 'b');
    expect((await email.send(msg)).provider).toBe('b');
    expect([a.messages().length, b.messages().length]).toEqual([1, 1]);
  });

  it('retries transient failures, fails over on provider failures, throws permanent ones at once', async () => {
    const a = memoryEmailProvider({ name: 'a' });
    const b = memoryEmailProvider({ name: 'b' });
    const config = mutableConfig({ 'email.provider': 'a', 'email.failover': ['b'] });
    const email = createEmailService({
      providers: { a, b },
      config,
      defaultFrom: 'app@example.com',
      retry: fast,
    });

    a.failNext('transient', 2);
    expect(await email.send(msg)).toMatchObject({ provider: 'a', attempts: 3 });

    a.failNext('provider');
    expect(await email.send(msg)).toMatchObject({ provider: 'b', attempts: 2 });

    a.failNext('transient', 3);
    expect(await email.send(msg)).toMatchObject({ provider: 'b', attempts: 4 });

    a.failNext('permanent');
    const err = await email.send(msg).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmailProviderError);
    expect((err as EmailProviderError).kind).toBe('permanent');
    expect([a.messages().length, b.messages().length]).toEqual([1, 2]);

    a.failNext('provider');
    b.failNext('provider');
    const all = await email.send(msg).catch((e: unknown) => e);
    expect(isAppError(all, '@app/email', 'ALL_PROVIDERS_FAILED')).toBe(true);
  });

  it('honours a provider-given retry delay', async () => {
    const a = memoryEmailProvider({ name: 'a' });
    const email = createEmailService({
      providers: { a },
      defaultFrom: 'app@example.com',
      retry: { baseDelayMs: 1 },
      maxRetryAfterMs: 5,
    });
    a.failNext('transient', 1, { retryAfterMs: 60_000 });
    // Capped at maxRetryAfterMs, so the test does not wait a minute.
    expect(await email.send(msg)).toMatchObject({ provider: 'a', attempts: 2 });
  });

  it('classifies raw errors from custom providers', () => {
    expect(classifyEmailError(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toEqual({
      kind: 'transient',
    });
    expect(classifyEmailError(Object.assign(new Error('x'), { statusCode: 503 }))).toEqual({
      kind: 'transient',
    });
    expect(classifyEmailError(Object.assign(new Error('x'), { status: 401 }))).toEqual({ kind: 'provider' });
    expect(classifyEmailError(Object.assign(new Error('x'), { statusCode: 400 }))).toEqual({
      kind: 'permanent',
    });
    expect(classifyEmailError(new TypeError('bug'))).toEqual({ kind: 'provider' });
  });

  it('says how many attempts and failovers a send took, in its result and its email.sent event', async () => {
    const a = memoryEmailProvider({ name: 'a' });
    const b = memoryEmailProvider({ name: 'b' });
    const published: Array<Record<string, unknown>> = [];
    const email = createEmailService({
      providers: { a, b },
      config: mutableConfig({ 'email.provider': 'a', 'email.failover': ['b'] }),
      defaultFrom: 'app@example.com',
      retry: fast,
      events: { publish: async (_name, data) => void published.push(data) },
    });
    a.failNext('transient', 1);
    a.failNext('provider');
    expect(await email.send(msg)).toMatchObject({ provider: 'b', attempts: 3, failovers: 1 });
    expect(await email.send(msg)).toMatchObject({ provider: 'a', attempts: 1, failovers: 0 });
    expect(published).toEqual([
      expect.objectContaining({ status: 'sent', provider: 'b', attempts: 3, failovers: 1 }),
      expect.objectContaining({ status: 'sent', provider: 'a', attempts: 1, failovers: 0 }),
    ]);
  });

  it('publishes sends to the event sink', async () => {
    const published: Array<[string, Record<string, unknown>]> = [];
    const events: EventSink = { publish: async (n, d) => published.push([n, d]) };
    const email = createEmailService({
      providers: { m: memoryEmailProvider() },
      defaultFrom: 'a@example.com',
      events,
    });
    const { id } = await email.send(msg);
    expect(published).toEqual([['email.sent', expect.objectContaining({ messageId: id, provider: 'm' })]]);
  });

  it('throws CLOSED after close', async () => {
    const email = createEmailService({
      providers: { m: memoryEmailProvider() },
      defaultFrom: 'a@example.com',
    });
    await email[Symbol.asyncDispose]();
    await expect(email.send(msg)).rejects.toMatchObject({ code: EmailErrorCode.CLOSED });
  });
});

describe('idempotency (memory store)', () => {
  it('sends once for 1,000 concurrent calls with one key; all get the same id', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({
      providers: { memory },
      defaultFrom: 'a@example.com',
      idempotency: { store: memoryEmailIdempotencyStore(), pollMs: 1 },
    });
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => email.send(msg, { idempotencyKey: 'order-42' })),
    );
    expect(memory.messages()).toHaveLength(1);
    expect(new Set(results.map((r) => r.id)).size).toBe(1);
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
  });

  it('a retried call after a transient failure sends once; a failed call frees the key', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({
      providers: { memory },
      defaultFrom: 'a@example.com',
      retry: { ...fast, maxAttempts: 1 },
      idempotency: { store: memoryEmailIdempotencyStore() },
    });
    memory.failNext('transient');
    await expect(email.send(msg, { idempotencyKey: 'k' })).rejects.toThrow();
    const first = await email.send(msg, { idempotencyKey: 'k' });
    const again = await email.send(msg, { idempotencyKey: 'k' });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(memory.messages()).toHaveLength(1);
    await expect(email.send({ ...msg, subject: 'Other' }, { idempotencyKey: 'k' })).rejects.toMatchObject({
      code: EmailErrorCode.IDEMPOTENCY_CONFLICT,
    });
  });

  it('a send still retrying never outlives its key: no attempt starts after half of lockMs', async () => {
    vi.useFakeTimers();
    try {
      const memory = memoryEmailProvider();
      const email = createEmailService({
        providers: { memory },
        defaultFrom: 'a@example.com',
        retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 1 },
        maxRetryAfterMs: 60_000,
        idempotency: { store: memoryEmailIdempotencyStore(), lockMs: 30_000 },
      });
      // A 429 asking to wait 40 s: the retry would start at 40 s, after the key expired at 30 s.
      memory.failNext('transient', 1, { retryAfterMs: 40_000 });
      // The caller's retry arrives once the key expired: it must not race a first send still going on.
      const [firstError, secondError] = await sendAcrossLockExpiry(
        () => email.send(msg, { idempotencyKey: 'slow' }),
        (ms) => vi.advanceTimersByTimeAsync(ms),
      );
      expect(memory.messages()).toHaveLength(1);
      expect(firstError).toMatchObject({ code: EmailErrorCode.IDEMPOTENCY_TIMEOUT });
      expect(secondError).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('sendBulk (memory)', () => {
  it('sends a list of messages with per-item results and validates all first', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({ providers: { memory }, defaultFrom: 'a@example.com' });
    await expect(email.sendBulk([msg, { ...msg, to: 'bad' }])).rejects.toMatchObject({
      code: EmailErrorCode.INVALID_MESSAGE,
      issues: ["[1] to: 'bad' is not a valid email address"],
    });
    expect(memory.messages()).toHaveLength(0);
    const r = await email.sendBulk([msg, { ...msg, to: 'b@example.com' }]);
    expect(r.sent).toBe(2);
    expect(r.items.map((i) => i.to)).toEqual([['ada@example.com'], ['b@example.com']]);
  });

  it('batches shared content by the provider maxBulkSize and fails over per chunk', async () => {
    const a = memoryEmailProvider({ name: 'a', maxBulkSize: 3 });
    const b = memoryEmailProvider({ name: 'b', maxBulkSize: 2 });
    const statusStore = memoryEmailStatusStore();
    const email = createEmailService({
      providers: { a, b },
      defaultFrom: 'a@example.com',
      statusStore,
      bulkConcurrency: 1,
      retry: fast,
    });
    a.failNext('provider');
    const recipients = Array.from({ length: 7 }, (_, i) => ({ to: `r${i}@example.com`, data: { n: i } }));
    const r = await email.sendBulk({ subject: 'News', template: { id: 't', data: { x: 1 } }, recipients });
    expect(r.sent).toBe(7);
    // The first chunk of 3 failed over to b, which takes 2 per call: the third went back to the queue.
    expect(r.items.map((i) => (i.ok ? i.provider : 'x'))).toEqual(['b', 'b', 'a', 'a', 'a', 'a', 'a']);
    expect(a.sentTo('r6@example.com')[0]?.template).toEqual({ id: 't', data: { x: 1, n: 6 } });
    const first = r.items[0];
    expect(first?.ok && (await statusStore.get(first.id))?.status).toBe('sent');
  });

  it('marks a chunk failed when every provider fails, and keeps going', async () => {
    const a = memoryEmailProvider({ name: 'a', maxBulkSize: 2 });
    const email = createEmailService({ providers: { a }, defaultFrom: 'a@example.com', bulkConcurrency: 1 });
    a.failNext('permanent');
    const recipients = Array.from({ length: 3 }, (_, i) => ({ to: `r${i}@example.com` }));
    const r = await email.sendBulk({ subject: 'S', text: 'T', recipients });
    expect(r.items.map((i) => i.ok)).toEqual([false, false, true]);
    expect(r).toMatchObject({ sent: 1, failed: 2 });
  });
});

describe('router failures are EmailErrors (core ProviderRouterError never escapes)', () => {
  it('every provider failed: EmailError(ALL_PROVIDERS_FAILED) with the attempts, on send and sendBulk', async () => {
    const a = memoryEmailProvider({ name: 'a' });
    const b = memoryEmailProvider({ name: 'b' });
    const email = createEmailService({ providers: { a, b }, defaultFrom: 'app@example.com', retry: fast });
    a.failNext('provider');
    b.failNext('provider');
    const error = await email.send(msg).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmailError);
    expect(isEmailError(error, EmailErrorCode.ALL_PROVIDERS_FAILED)).toBe(true);
    expect((error as EmailError).attempts.map((x) => x.provider)).toEqual(['a', 'b']);
    expect((error as EmailError).cause).toBeInstanceOf(EmailProviderError);
    a.failNext('provider');
    b.failNext('provider');
    const bulk = await email.sendBulk([msg]);
    expect(bulk.items[0]?.ok === false && bulk.items[0].error).toBeInstanceOf(EmailError);
  });

  it('config naming an unknown provider, or none registered: EmailError on send and chain', async () => {
    const memory = memoryEmailProvider();
    const email = createEmailService({
      providers: { memory },
      defaultFrom: 'app@example.com',
      config: mutableConfig({ 'email.provider': 'nope' }),
    });
    for (const call of [() => email.send(msg), () => email.chain()]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EmailError);
      expect(isEmailError(error, EmailErrorCode.UNKNOWN_PROVIDER)).toBe(true);
    }
    const none = createEmailService({ providers: {}, defaultFrom: 'app@example.com' });
    const error = await none.send(msg).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EmailError);
    expect(isEmailError(error, EmailErrorCode.NO_PROVIDER)).toBe(true);
  });
});
