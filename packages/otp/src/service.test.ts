import { isAppError, type Logger } from '@app/core';
import { describe, expect, it } from 'vitest';
import { memoryOtpStore } from './adapters/memory.js';
import type { OtpDelivery } from './channels.js';
import { isOtpError, OtpError, OtpErrorCode, RateLimitedError } from './errors.js';
import { createOtpService, type OtpServiceOptions } from './service.js';
import type { OtpStore, OtpVerifyRequest } from './store.js';

const SECRET = 'unit-test-secret-unit-test-secret-0123';
const PHONE = '+14155550123';

/** A memory store that records every call, to prove what reached storage (and that nothing did). */
function recordingStore() {
  const inner = memoryOtpStore();
  const calls: { method: string; arg: unknown }[] = [];
  const store: OtpStore = {
    issue(arg) {
      calls.push({ method: 'issue', arg });
      return inner.issue(arg);
    },
    verify(arg) {
      calls.push({ method: 'verify', arg });
      return inner.verify(arg);
    },
    close() {
      calls.push({ method: 'close', arg: undefined });
      return inner.close();
    },
    [Symbol.asyncDispose]: () => inner.close(),
  };
  return { store, calls };
}

function setup(overrides: Partial<OtpServiceOptions> = {}) {
  const { store, calls } = recordingStore();
  const sent: OtpDelivery[] = [];
  const events: { name: string; data: Record<string, unknown> }[] = [];
  const logs: unknown[] = [];
  const log = (obj: object, msg?: string) => void logs.push({ obj, msg });
  const logger: Logger = { debug: log, info: log, warn: log, error: log };
  let now = 1_700_000_000_000;
  const otp = createOtpService({
    store,
    secret: SECRET,
    channels: {
      sms: { deliver: async (d) => void sent.push(d) },
      email: { deliver: async (d) => void sent.push(d) },
    },
    events: { publish: async (name, data) => void events.push({ name, data }) },
    logger,
    now: () => now,
    ...overrides,
  });
  const advance = (ms: number) => {
    now += ms;
  };
  return { otp, store, calls, sent, events, logs, advance };
}

describe('createOtpService: options are checked up front', () => {
  const base = { store: memoryOtpStore(), channels: { sms: { deliver: async () => {} } } };

  it('requires a secret of at least 32 bytes', () => {
    for (const secret of [undefined, '', 'short', 'x'.repeat(31), new Uint8Array(16)]) {
      expect(() => createOtpService({ ...base, secret } as OtpServiceOptions)).toThrow(
        expect.objectContaining({ code: OtpErrorCode.INVALID_SECRET }),
      );
    }
    expect(() => createOtpService({ ...base, secret: new Uint8Array(32) })).not.toThrow();
  });

  it('rejects out-of-range options with INVALID_OPTIONS', () => {
    const bad: Partial<OtpServiceOptions>[] = [
      { codeLength: 3 },
      { codeLength: 11 },
      { ttlMs: 600_001 },
      { maxAttempts: 101 },
      { ttlMs: 0 },
      { maxAttempts: 0 },
      { alphabet: 'hex' as never },
      { resendCooldownMs: -1 },
      { destinationLimit: { max: 0, windowMs: 60_000 } },
      { ipLimit: { max: 5, windowMs: 1.5 } },
      { channels: {} },
      { channels: { sms: {} as never } },
      { store: {} as never },
    ];
    for (const o of bad) {
      expect(() => createOtpService({ ...base, secret: SECRET, ...o }), JSON.stringify(o)).toThrow(
        expect.objectContaining({ code: OtpErrorCode.INVALID_OPTIONS }),
      );
    }
  });
});

describe('send', () => {
  it('delivers a 6-digit code valid for 5 minutes and returns an opaque challenge id', async () => {
    const { otp, sent } = setup();
    const res = await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ to: PHONE, purpose: 'login', channel: 'sms', ttlMs: 300_000 });
    expect(sent[0]!.code).toMatch(/^\d{6}$/);
    expect(res.challengeId).toMatch(/^[\w-]{22}$/);
    expect(res.challengeId).toBe(sent[0]!.challengeId);
    expect(res).toMatchObject({
      channel: 'sms',
      purpose: 'login',
      expiresInMs: 300_000,
      resendAfterMs: 30_000,
    });
    expect(res.expiresAt.getTime()).toBe(1_700_000_000_000 + 300_000);
  });

  it('stores only HMACs: the store never sees the code or the destination', async () => {
    const { otp, calls, sent } = setup({
      alphabet: 'alphanumeric',
      codeLength: 8,
      ipLimit: { max: 9, windowMs: 60_000 },
    });
    await otp.send({ to: PHONE, channel: 'sms', purpose: 'login', ip: '198.51.100.4' });
    const text = JSON.stringify(calls);
    expect(sent[0]!.code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
    expect(text).not.toContain(sent[0]!.code);
    expect(text).not.toContain('4155550123');
    expect(text).not.toContain('198.51.100.4');
    const req = calls[0]!.arg as Record<string, string>;
    for (const k of ['challengeKey', 'destinationKey', 'ipKey', 'codeHash'])
      expect(req[k]).toMatch(/^[0-9a-f]{64}$/);
  });

  it('normalises destinations: one phone number or email address in any format is one destination', async () => {
    const { otp, sent } = setup();
    await otp.send({ to: ' +1 (415) 555-0123 ', channel: 'sms', purpose: 'login' });
    expect(sent[0]!.to).toBe(PHONE);
    expect((await otp.verify({ to: '0014155550123', code: sent[0]!.code, purpose: 'login' })).ok).toBe(true);
    await otp.send({ to: '  Ada@Example.COM', channel: 'email', purpose: 'login' });
    expect(sent[1]!.to).toBe('ada@example.com');
    expect((await otp.verify({ to: 'ada@example.com', code: sent[1]!.code, purpose: 'login' })).ok).toBe(
      true,
    );
  });

  it('rejects bad input with a typed error before any store call or delivery', async () => {
    const { otp, calls, sent } = setup({ channels: { sms: { deliver: async () => {} } } });
    const cases: [Parameters<typeof otp.send>[0], string][] = [
      [{ to: '4155550123', channel: 'sms', purpose: 'login' }, OtpErrorCode.INVALID_DESTINATION],
      [{ to: 'ada@example.com', channel: 'sms', purpose: 'login' }, OtpErrorCode.INVALID_DESTINATION],
      [{ to: 'not an email@', channel: 'sms', purpose: 'login' }, OtpErrorCode.INVALID_DESTINATION],
      [{ to: PHONE, channel: 'sms', purpose: '' }, OtpErrorCode.INVALID_PURPOSE],
      [{ to: PHONE, channel: 'sms', purpose: 'has space' }, OtpErrorCode.INVALID_PURPOSE],
      [{ to: PHONE, channel: 'fax' as never, purpose: 'login' }, OtpErrorCode.INVALID_INPUT],
      [{ to: 'ada@example.com', channel: 'email', purpose: 'login' }, OtpErrorCode.CHANNEL_NOT_CONFIGURED],
      [{ to: PHONE, channel: 'sms', purpose: 'login', ip: '' }, OtpErrorCode.INVALID_INPUT],
    ];
    for (const [input, code] of cases) {
      const err = await otp.send(input).catch((e: unknown) => e);
      expect(err, JSON.stringify(input)).toBeInstanceOf(OtpError);
      expect((err as OtpError).code, JSON.stringify(input)).toBe(code);
    }
    expect(calls).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('applies the destination policy hook before anything is stored', async () => {
    const seen: unknown[] = [];
    const { otp, calls } = setup({
      destinationPolicy: (check) => {
        seen.push(check);
        return check.to.startsWith('+44');
      },
    });
    await expect(
      otp.send({ to: PHONE, channel: 'sms', purpose: 'login', ip: '192.0.2.1' }),
    ).rejects.toMatchObject({
      code: OtpErrorCode.DESTINATION_REJECTED,
    });
    expect(calls).toEqual([]);
    expect(seen).toEqual([{ to: PHONE, kind: 'phone', channel: 'sms', purpose: 'login', ip: '192.0.2.1' }]);
    await otp.send({ to: '+447700900123', channel: 'sms', purpose: 'login' });
    expect(calls).toHaveLength(1);
  });

  it('a resend replaces the previous code', async () => {
    const { otp, sent, advance } = setup();
    await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    advance(30_000);
    await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    const [first, second] = sent;
    if (first!.code !== second!.code) {
      expect(await otp.verify({ to: PHONE, code: first!.code, purpose: 'login' })).toEqual({ ok: false });
    }
    expect((await otp.verify({ to: PHONE, code: second!.code, purpose: 'login' })).ok).toBe(true);
  });

  it('throws RateLimitedError (an OtpError, recognisable across copies) with retryAfterMs', async () => {
    const { otp, advance } = setup({ ipLimit: { max: 2, windowMs: 60_000 } });
    await otp.send({ to: PHONE, channel: 'sms', purpose: 'login', ip: '192.0.2.1' });
    await otp.send({ to: '+14155550124', channel: 'sms', purpose: 'login', ip: '192.0.2.1' });
    advance(15_500);
    const err = await otp
      .send({ to: '+14155550125', channel: 'sms', purpose: 'login', ip: '192.0.2.1' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(err).toBeInstanceOf(OtpError);
    expect(isAppError(err, '@app/otp', OtpErrorCode.RATE_LIMITED)).toBe(true);
    expect(isOtpError(err, OtpErrorCode.RATE_LIMITED)).toBe(true);
    expect(isOtpError(err, OtpErrorCode.CLOSED)).toBe(false);
    expect(isOtpError(new Error('x'))).toBe(false);
    expect(err).toMatchObject({ reason: 'ip', retryAfterMs: 44_500 });
    expect(err.message).toMatch(/^\[@app\/otp\] too many codes requested \(ip\); retry after 45 s$/);
    await otp.send({ to: '+14155550125', channel: 'sms', purpose: 'login', ip: '192.0.2.2' });
  });

  it('wraps a delivery failure in DELIVERY_FAILED, keeping the cause', async () => {
    const boom = new Error('provider down');
    const { otp } = setup({ channels: { sms: { deliver: async () => Promise.reject(boom) } } });
    const err = await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' }).catch((e) => e);
    expect(err).toMatchObject({ code: OtpErrorCode.DELIVERY_FAILED, cause: boom });
  });
});

describe('verify', () => {
  it('accepts the code once, with spaces and dashes ignored, and checks the challenge id when given', async () => {
    const { otp, sent, advance } = setup();
    const { challengeId } = await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    const code = sent[0]!.code;
    const spaced = `${code.slice(0, 3)} ${code.slice(3)}`;
    expect(
      await otp.verify({ to: PHONE, code: spaced, purpose: 'login', challengeId: 'AAAAAAAAAAAAAAAAAAAAAA' }),
    ).toEqual({
      ok: false,
    });
    expect(await otp.verify({ to: PHONE, code: spaced, purpose: 'login', challengeId })).toEqual({
      ok: true,
      challengeId,
      purpose: 'login',
    });
    expect(await otp.verify({ to: PHONE, code, purpose: 'login' })).toEqual({ ok: false });
    advance(1);
  });

  it('answers an unknown destination exactly like a wrong code, after the same HMAC work and one store call', async () => {
    const { otp, calls } = setup();
    await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    const known = await otp.verify({ to: PHONE, code: '000000', purpose: 'login' });
    const unknown = await otp.verify({ to: '+14155550999', code: '000000', purpose: 'login' });
    expect(unknown).toEqual(known);
    expect(unknown).toEqual({ ok: false });
    const verifies = calls.filter((c) => c.method === 'verify').map((c) => c.arg as OtpVerifyRequest);
    expect(verifies).toHaveLength(2);
    for (const v of verifies) {
      expect(v.codeHash).toMatch(/^[0-9a-f]{64}$/);
      expect(v.challengeKey).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(verifies[0]!.challengeKey).not.toBe(verifies[1]!.challengeKey);
  });

  it('binds the code hash to the secret: another secret never verifies it', async () => {
    const a = setup();
    const b = setup({ secret: `${SECRET}-other`, store: a.store });
    await a.otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    expect(await b.otp.verify({ to: PHONE, code: a.sent[0]!.code, purpose: 'login' })).toEqual({ ok: false });
    expect((await a.otp.verify({ to: PHONE, code: a.sent[0]!.code, purpose: 'login' })).ok).toBe(true);
  });

  it('returns false for a malformed code without a store call or a counted attempt', async () => {
    const { otp, calls } = setup();
    expect(await otp.verify({ to: PHONE, code: 'abc', purpose: 'login' })).toEqual({ ok: false });
    expect(calls).toEqual([]);
    await expect(otp.verify({ to: PHONE, code: 123456 as never, purpose: 'login' })).rejects.toMatchObject({
      code: OtpErrorCode.INVALID_INPUT,
    });
  });

  it('1,000 concurrent verifies of the right code through the service: exactly one ok', async () => {
    const { otp, sent } = setup();
    await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    const results = await Promise.all(
      Array.from({ length: 1000 }, () => otp.verify({ to: PHONE, code: sent[0]!.code, purpose: 'login' })),
    );
    expect(results.filter((r) => r.ok)).toHaveLength(1);
  });
});

describe('events and logs', () => {
  it('publishes sent, failed, locked and verified, never with the code or the destination', async () => {
    const { otp, sent, events, logs } = setup({ maxAttempts: 2 });
    const { challengeId } = await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    const wrong = sent[0]!.code === '000000' ? '111111' : '000000';
    await otp.verify({ to: PHONE, code: wrong, purpose: 'login' });
    await otp.verify({ to: PHONE, code: wrong, purpose: 'login' });
    await otp.send({ to: 'ada@example.com', channel: 'email', purpose: 'login' });
    await otp.verify({ to: 'ada@example.com', code: sent[1]!.code, purpose: 'login' });
    await expect.poll(() => events.length).toBe(6);
    expect(events.map((e) => e.name)).toEqual([
      'otp.sent',
      'otp.failed',
      'otp.failed',
      'otp.locked',
      'otp.sent',
      'otp.verified',
    ]);
    expect(events[0]!.data).toMatchObject({ challengeId, purpose: 'login', channel: 'sms' });
    expect(events[3]!.data).toMatchObject({ challengeId, attempts: 2, reason: 'locked', maxAttempts: 2 });
    const text = JSON.stringify({ events, logs });
    for (const secret of [sent[0]!.code, sent[1]!.code, '4155550123', 'ada@example.com']) {
      expect(text).not.toContain(secret);
    }
    expect(logs.length).toBeGreaterThan(0);
  });

  it('never logs the destination or the code when a channel fails, even when the provider error quotes them', async () => {
    // Providers quote what they were given: Twilio's 21211 says "The 'To' number +1415... is not a valid phone
    // number", a content filter may echo the body. A pino logger prints err.message and err.stack.
    const { otp, logs } = setup({
      channels: {
        sms: {
          deliver: async (d) => {
            throw new Error(`The 'To' number ${d.to} is not a valid phone number (body: ${d.code})`);
          },
        },
        email: {
          deliver: async (d) => {
            throw Object.assign(new Error(`rejected recipient ${d.to}`), { code: 'EREJECT', detail: d.code });
          },
        },
      },
    });
    const errSms = await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' }).catch((e) => e);
    const errMail = await otp
      .send({ to: 'ada@example.com', channel: 'email', purpose: 'login' })
      .catch((e) => e);
    expect(errSms).toMatchObject({ code: OtpErrorCode.DELIVERY_FAILED });
    expect(errMail).toMatchObject({ code: OtpErrorCode.DELIVERY_FAILED });
    // Serialise errors the way a real logger does (message, stack and own fields), not as `{}`.
    const text = JSON.stringify(logs, (_k, v) =>
      v instanceof Error ? { ...v, message: v.message, stack: v.stack } : v,
    );
    expect(text).toContain('delivery failed');
    expect(text).toContain('EREJECT');
    for (const secret of ['4155550123', 'ada@example.com']) expect(text).not.toContain(secret);
    const codes = [errSms, errMail].map(
      (e) => /body: (\w+)/.exec(String(e.cause?.message))?.[1] ?? e.cause?.detail,
    );
    for (const code of codes) {
      expect(code).toMatch(/^\d{6}$/);
      expect(text).not.toContain(code);
    }
  });

  it('scrubs the destination from logged channel errors in whatever formatting the provider quotes it', async () => {
    // Issue 16: providers reformat the number they were given (`+1 (555) 186-9202`, `555.186.9202`) and mail
    // servers change the case of an address; exact-string removal left those in the log line.
    const quotes = ['+1 (555) 186-9202', '555.186.9202', '(555) 186-9202', '1-555-186-9202'];
    let next = 0;
    const { otp, logs } = setup({
      resendCooldownMs: 0,
      channels: {
        sms: {
          deliver: async () => {
            throw Object.assign(new Error(`The 'To' number ${quotes[next++]} is not a valid phone number`), {
              code: 'To=+1 555 186 9202',
            });
          },
        },
        email: {
          deliver: async () => {
            throw Object.assign(new Error('550 5.1.1 <Ada.Lovelace@EXAMPLE.com>: recipient rejected'), {
              name: 'SMTPError ada.lovelace@example.com',
            });
          },
        },
      },
    });
    for (let i = 0; i < quotes.length; i++) {
      await expect(otp.send({ to: '+15551869202', channel: 'sms', purpose: `p${i}` })).rejects.toMatchObject({
        code: OtpErrorCode.DELIVERY_FAILED,
      });
    }
    await expect(
      otp.send({ to: 'Ada.Lovelace@Example.com', channel: 'email', purpose: 'login' }),
    ).rejects.toMatchObject({ code: OtpErrorCode.DELIVERY_FAILED });
    const failures = logs.filter((l) => (l as { msg?: string }).msg === 'otp: delivery failed');
    expect(failures).toHaveLength(quotes.length + 1);
    const text = JSON.stringify(failures);
    expect(text).toContain('is not a valid phone number');
    expect(text).toContain('recipient rejected');
    for (const { obj } of failures as { obj: { err: Record<string, unknown> } }[]) {
      for (const field of ['type', 'message', 'code']) {
        expect(String(obj.err[field]).replace(/\D/g, '')).not.toContain('5551869202');
      }
    }
    expect(text.toLowerCase()).not.toContain('ada.lovelace@example.com');
  });

  it('a failing event sink does not fail the operation', async () => {
    const { otp, logs } = setup({ events: { publish: async () => Promise.reject(new Error('sink down')) } });
    await otp.send({ to: PHONE, channel: 'sms', purpose: 'login' });
    await expect.poll(() => JSON.stringify(logs)).toContain('event sink failed');
  });
});

describe('close', () => {
  it('closes the store; later calls reject with CLOSED; await using works', async () => {
    const { otp, calls } = setup();
    await otp.close();
    await otp.close();
    expect(calls.filter((c) => c.method === 'close')).toHaveLength(1);
    await expect(otp.send({ to: PHONE, channel: 'sms', purpose: 'login' })).rejects.toMatchObject({
      code: OtpErrorCode.CLOSED,
    });
    {
      await using disposable = setup().otp;
      expect(typeof disposable.verify).toBe('function');
    }
  });
});
