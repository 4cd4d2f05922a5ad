import { randomBytes, randomInt } from 'node:crypto';
import type { describe as Describe, expect as Expect, it as It } from 'vitest';
import type { OtpDelivery } from './channels.js';
import { RateLimitedError } from './errors.js';
import { createOtpService, type OtpServiceOptions } from './service.js';
import type { OtpIssueRequest, OtpStore, OtpVerifyResult } from './store.js';

/** Options of {@link otpStoreContract}. */
export interface OtpStoreContractOptions {
  /** vitest's `describe`. */
  describe: typeof Describe;
  /** vitest's `it`. */
  it: typeof It;
  /** vitest's `expect`. */
  expect: typeof Expect;
  /** Shown in the suite name, e.g. `redis`. */
  name: string;
  /** Makes a store to test. Called once per test; stores may share a backend (every test uses fresh keys). */
  create: () => OtpStore | Promise<OtpStore>;
  /**
   * Every key and value the store has written (read from the backend directly, not through the store), for
   * the at-rest checks. Without it those tests are skipped.
   * @default undefined
   */
  readAll?: () => Promise<string[]>;
  /** Concurrent calls in the race tests. @default 1000 */
  concurrency?: number;
  /** Per-test timeout in ms. @default 60000 */
  timeout?: number;
}

const T0 = 1_000_000_000_000;
const SECRET = 'contract-suite-secret-0123456789abcdef';
const hex = () => randomBytes(32).toString('hex');

function request(overrides: Partial<OtpIssueRequest> = {}): OtpIssueRequest {
  return {
    challengeKey: hex(),
    destinationKey: hex(),
    challengeId: randomBytes(16).toString('base64url'),
    codeHash: hex(),
    now: T0,
    expiresAt: T0 + 300_000,
    maxAttempts: 5,
    cooldownMs: 30_000,
    destinationLimit: { max: 5, windowMs: 3_600_000 },
    ...overrides,
  };
}

/**
 * The behaviour every {@link OtpStore} must have, as a vitest suite: atomic verify under 1,000 concurrent
 * calls (exactly one success; every wrong guess counted), lockout, expiry, resend rules, send windows, and,
 * with `readAll`, that nothing at rest contains a code or a destination.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { otpStoreContract } from '@app/otp/testing';
 * otpStoreContract({ describe, it, expect, name: 'my store', create: () => myStore() });
 * ```
 */
export function otpStoreContract(options: OtpStoreContractOptions): void {
  const { describe, it, expect, create, readAll } = options;
  const n = options.concurrency ?? 1000;
  const timeout = options.timeout ?? 60_000;

  describe(`OtpStore contract: ${options.name}`, () => {
    it('verifies the right code once, then the challenge is gone', async () => {
      const store = await create();
      const req = request();
      expect(await store.issue(req)).toEqual({ status: 'issued', attempts: 0 });
      const ok = await store.verify({ challengeKey: req.challengeKey, codeHash: req.codeHash, now: T0 + 1 });
      expect(ok).toEqual({ status: 'verified', challengeId: req.challengeId, attempts: 0 });
      const again = await store.verify({
        challengeKey: req.challengeKey,
        codeHash: req.codeHash,
        now: T0 + 2,
      });
      expect(again).toEqual({ status: 'unavailable' });
    });

    it('answers unavailable for a key that was never issued', async () => {
      const store = await create();
      expect(await store.verify({ challengeKey: hex(), codeHash: hex(), now: T0 })).toEqual({
        status: 'unavailable',
      });
    });

    it('counts wrong codes, locks at maxAttempts, and then neither counts nor accepts the right code', async () => {
      const store = await create();
      const req = request({ maxAttempts: 3 });
      await store.issue(req);
      const wrong = () => store.verify({ challengeKey: req.challengeKey, codeHash: hex(), now: T0 + 1 });
      expect(await wrong()).toEqual({ status: 'mismatch', challengeId: req.challengeId, attempts: 1 });
      expect(await wrong()).toEqual({ status: 'mismatch', challengeId: req.challengeId, attempts: 2 });
      expect(await wrong()).toEqual({ status: 'locked', challengeId: req.challengeId, attempts: 3 });
      expect(await wrong()).toEqual({ status: 'unavailable' });
      expect(
        await store.verify({ challengeKey: req.challengeKey, codeHash: req.codeHash, now: T0 + 2 }),
      ).toEqual({
        status: 'unavailable',
      });
    });

    it('with a challenge id, accepts only that challenge and counts a wrong id as a wrong guess', async () => {
      const store = await create();
      const req = request();
      await store.issue(req);
      const base = { challengeKey: req.challengeKey, codeHash: req.codeHash, now: T0 + 1 };
      expect(await store.verify({ ...base, challengeId: 'some-other-id-aaaaaaaa' })).toEqual({
        status: 'mismatch',
        challengeId: req.challengeId,
        attempts: 1,
      });
      expect(await store.verify({ ...base, challengeId: req.challengeId })).toEqual({
        status: 'verified',
        challengeId: req.challengeId,
        attempts: 1,
      });
    });

    it('accepts a code until expiresAt, then answers expired without counting', async () => {
      const store = await create();
      const req = request();
      await store.issue(req);
      const at = (now: number, codeHash = req.codeHash) =>
        store.verify({ challengeKey: req.challengeKey, codeHash, now });
      expect(await at(req.expiresAt)).toEqual({ status: 'expired' });
      expect(await at(req.expiresAt + 60_000, hex())).toEqual({ status: 'expired' });
      expect((await at(req.expiresAt - 1)).status).toBe('verified');
    });

    it('a resend replaces the code and keeps the attempt count', async () => {
      const store = await create();
      const first = request({ maxAttempts: 3 });
      await store.issue(first);
      await store.verify({ challengeKey: first.challengeKey, codeHash: hex(), now: T0 + 1 });
      const second = request({
        challengeKey: first.challengeKey,
        destinationKey: first.destinationKey,
        maxAttempts: 3,
        now: T0 + 30_000,
        expiresAt: T0 + 330_000,
      });
      expect(await store.issue(second)).toEqual({ status: 'issued', attempts: 1 });
      const old = await store.verify({
        challengeKey: first.challengeKey,
        codeHash: first.codeHash,
        now: T0 + 30_001,
      });
      expect(old).toEqual({ status: 'mismatch', challengeId: second.challengeId, attempts: 2 });
      const ok = await store.verify({
        challengeKey: first.challengeKey,
        codeHash: second.codeHash,
        now: T0 + 30_002,
      });
      expect(ok).toEqual({ status: 'verified', challengeId: second.challengeId, attempts: 2 });
    });

    it('a send after success or expiry starts afresh, without cooldown or old attempts', async () => {
      const store = await create();
      const first = request();
      await store.issue(first);
      await store.verify({ challengeKey: first.challengeKey, codeHash: hex(), now: T0 + 1 });
      await store.verify({ challengeKey: first.challengeKey, codeHash: first.codeHash, now: T0 + 2 });
      const next = {
        ...request(),
        challengeKey: first.challengeKey,
        destinationKey: first.destinationKey,
        now: T0 + 3,
      };
      expect(await store.issue(next)).toEqual({ status: 'issued', attempts: 0 });
      await store.verify({ challengeKey: first.challengeKey, codeHash: hex(), now: T0 + 4 });
      const afterExpiry = {
        ...request(),
        challengeKey: first.challengeKey,
        destinationKey: first.destinationKey,
        now: next.expiresAt,
        expiresAt: next.expiresAt + 300_000,
      };
      expect(await store.issue(afterExpiry)).toEqual({ status: 'issued', attempts: 0 });
    });

    it('refuses a resend within the cooldown, with the time left', async () => {
      const store = await create();
      const first = request();
      await store.issue(first);
      const again = (now: number) =>
        store.issue({
          ...request(),
          challengeKey: first.challengeKey,
          destinationKey: first.destinationKey,
          now,
        });
      expect(await again(T0 + 10_000)).toEqual({
        status: 'limited',
        reason: 'cooldown',
        retryAfterMs: 20_000,
      });
      expect(await again(T0 + 29_999)).toEqual({ status: 'limited', reason: 'cooldown', retryAfterMs: 1 });
      expect((await again(T0 + 30_000)).status).toBe('issued');
    });

    it('refuses to resend a locked challenge until it expires', async () => {
      const store = await create();
      const first = request({ maxAttempts: 1 });
      await store.issue(first);
      await store.verify({ challengeKey: first.challengeKey, codeHash: hex(), now: T0 + 1 });
      const again = (now: number) =>
        store.issue({
          ...request(),
          challengeKey: first.challengeKey,
          destinationKey: first.destinationKey,
          now,
          expiresAt: now + 300_000,
        });
      expect(await again(T0 + 100_000)).toEqual({
        status: 'limited',
        reason: 'locked',
        retryAfterMs: 200_000,
      });
      expect(await again(first.expiresAt)).toEqual({ status: 'issued', attempts: 0 });
    });

    it('limits sends per destination over a sliding window, across challenge keys', async () => {
      const store = await create();
      const destinationKey = hex();
      const limit = { max: 3, windowMs: 60_000 };
      const send = (now: number) =>
        store.issue(request({ destinationKey, destinationLimit: limit, now, expiresAt: now + 300_000 }));
      for (const t of [0, 10_000, 20_000]) expect((await send(T0 + t)).status).toBe('issued');
      expect(await send(T0 + 30_000)).toEqual({
        status: 'limited',
        reason: 'destination',
        retryAfterMs: 30_000,
      });
      expect((await send(T0 + 60_000)).status).toBe('issued');
      expect(await send(T0 + 60_001)).toEqual({
        status: 'limited',
        reason: 'destination',
        retryAfterMs: 9_999,
      });
      expect((await store.issue(request({ destinationLimit: limit, now: T0 + 60_001 }))).status).toBe(
        'issued',
      );
    });

    it('limits sends per IP when an IP key is given', async () => {
      const store = await create();
      const ipKey = hex();
      const ipLimit = { max: 2, windowMs: 60_000 };
      const send = (now: number) => store.issue(request({ ipKey, ipLimit, now, expiresAt: now + 300_000 }));
      expect((await send(T0)).status).toBe('issued');
      expect((await send(T0 + 1000)).status).toBe('issued');
      expect(await send(T0 + 2000)).toEqual({ status: 'limited', reason: 'ip', retryAfterMs: 58_000 });
      expect((await store.issue(request({ now: T0 + 2000 }))).status).toBe('issued');
    });

    it(
      `race: ${n} concurrent verifies of the right code give exactly one success`,
      async () => {
        const store = await create();
        const req = request({ maxAttempts: 5 });
        await store.issue(req);
        const results = await Promise.all(
          Array.from({ length: n }, () =>
            store.verify({ challengeKey: req.challengeKey, codeHash: req.codeHash, now: T0 + 1 }),
          ),
        );
        const counts = tally(results);
        expect(counts).toEqual({ verified: 1, unavailable: n - 1 });
      },
      timeout,
    );

    it(
      `race: ${n} concurrent wrong guesses are each counted exactly once`,
      async () => {
        const store = await create();
        const req = request({ maxAttempts: n });
        await store.issue(req);
        const results = await Promise.all(
          Array.from({ length: n }, () =>
            store.verify({ challengeKey: req.challengeKey, codeHash: hex(), now: T0 + 1 }),
          ),
        );
        expect(tally(results)).toEqual(n === 1 ? { locked: 1 } : { mismatch: n - 1, locked: 1 });
        const seen = results.map((r) => ('attempts' in r ? r.attempts : -1)).sort((a, b) => a - b);
        expect(seen).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(
          await store.verify({ challengeKey: req.challengeKey, codeHash: req.codeHash, now: T0 + 2 }),
        ).toEqual({
          status: 'unavailable',
        });
      },
      timeout,
    );

    it(
      'race: concurrent sends respect the cooldown and the window',
      async () => {
        const store = await create();
        const first = request();
        const same = await Promise.all(
          Array.from({ length: 50 }, () =>
            store.issue({
              ...request(),
              challengeKey: first.challengeKey,
              destinationKey: first.destinationKey,
            }),
          ),
        );
        expect(same.filter((r) => r.status === 'issued')).toHaveLength(1);
        const destinationKey = hex();
        const spread = await Promise.all(
          Array.from({ length: 50 }, () => store.issue(request({ destinationKey }))),
        );
        expect(spread.filter((r) => r.status === 'issued')).toHaveLength(5);
        expect(spread.filter((r) => r.status === 'limited' && r.reason === 'destination')).toHaveLength(45);
      },
      timeout,
    );

    describe('through the service', () => {
      const service = async (overrides: Partial<OtpServiceOptions> = {}) => {
        const sent: OtpDelivery[] = [];
        let now = T0;
        const otp = createOtpService({
          store: await create(),
          secret: SECRET,
          channels: {
            sms: { deliver: async (d) => void sent.push(d) },
            email: { deliver: async (d) => void sent.push(d) },
          },
          now: () => now,
          ...overrides,
        });
        const advance = (ms: number) => {
          now += ms;
        };
        return { otp, sent, advance };
      };
      const phone = () => `+1415${String(randomInt(1_000_000, 9_999_999))}`;

      it('a code verifies only its own purpose', async () => {
        const { otp, sent } = await service();
        const to = phone();
        await otp.send({ to, channel: 'sms', purpose: 'login' });
        await otp.send({ to, channel: 'sms', purpose: 'reset' });
        const [login, reset] = sent;
        expect(login!.code).not.toBe(reset!.code);
        expect(await otp.verify({ to, code: login!.code, purpose: 'reset' })).toEqual({ ok: false });
        expect(await otp.verify({ to, code: reset!.code, purpose: 'login' })).toEqual({ ok: false });
        expect((await otp.verify({ to, code: login!.code, purpose: 'login' })).ok).toBe(true);
        expect((await otp.verify({ to, code: reset!.code, purpose: 'reset' })).ok).toBe(true);
      });

      it('locks after maxAttempts wrong guesses, even for the right code', async () => {
        const { otp, sent } = await service({ maxAttempts: 5 });
        const to = phone();
        await otp.send({ to, channel: 'sms', purpose: 'login' });
        const code = sent[0]!.code;
        const wrong = code === '000000' ? '111111' : '000000';
        for (let i = 0; i < 5; i++)
          expect(await otp.verify({ to, code: wrong, purpose: 'login' })).toEqual({ ok: false });
        expect(await otp.verify({ to, code, purpose: 'login' })).toEqual({ ok: false });
        await expect(otp.send({ to, channel: 'sms', purpose: 'login' })).rejects.toBeInstanceOf(
          RateLimitedError,
        );
      });

      it('rate limits with retryAfter in seconds', async () => {
        const { otp, advance } = await service({ destinationLimit: { max: 2, windowSeconds: 600 } });
        const to = phone();
        await otp.send({ to, channel: 'sms', purpose: 'login' });
        advance(10_000);
        const cooldown = await otp.send({ to, channel: 'sms', purpose: 'login' }).catch((e: unknown) => e);
        expect(cooldown).toBeInstanceOf(RateLimitedError);
        expect(cooldown).toMatchObject({ reason: 'cooldown', retryAfter: 20, code: 'RATE_LIMITED' });
        advance(20_000);
        await otp.send({ to, channel: 'sms', purpose: 'login' });
        advance(30_000);
        const window = await otp.send({ to, channel: 'sms', purpose: 'login' }).catch((e: unknown) => e);
        expect(window).toMatchObject({ reason: 'destination', retryAfter: 540 });
      });

      it('a code expires after ttlSeconds', async () => {
        const { otp, sent, advance } = await service({ ttlSeconds: 120 });
        const to = phone();
        await otp.send({ to, channel: 'sms', purpose: 'login' });
        advance(120_000);
        expect(await otp.verify({ to, code: sent[0]!.code, purpose: 'login' })).toEqual({ ok: false });
      });

      const atRest = readAll ? it : it.skip;
      for (const [label, alphabet, channel, to] of [
        ['numeric code, phone', 'numeric', 'sms', '+14155550123'],
        ['alphanumeric code, email', 'alphanumeric', 'email', 'Ada.Lovelace@Example.com'],
      ] as const) {
        atRest(`at rest (${label}): no key or value contains the code or the destination`, async () => {
          const { otp, sent } = await service({
            alphabet,
            codeLength: 10,
            ipLimit: { max: 10, windowSeconds: 60 },
          });
          const { challengeId } = await otp.send({ to, channel, purpose: 'login', ip: '203.0.113.7' });
          const code = sent[0]!.code;
          const values = await readAll!();
          // The dump really holds what this send wrote: its challenge id is in there.
          expect(values.some((v) => v.includes(challengeId))).toBe(true);
          const forbidden = [code, to, to.toLowerCase(), to.replace('+', ''), '203.0.113.7'];
          for (const value of values) for (const f of forbidden) expect(value).not.toContain(f);
        });
      }
    });
  });
}

function tally(results: OtpVerifyResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}
