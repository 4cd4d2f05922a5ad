import { randomInt } from 'node:crypto';
import { type ContractOptions, contractOptions, type ResolvedContractOptions } from '@app/core/testing';
import type { OtpDelivery } from './channels.js';
import { RateLimitedError } from './errors.js';
import { createOtpService, type OtpServiceOptions } from './service.js';
import type { OtpIssueRequest, OtpStore } from './store.js';
import { CONTRACT_T0, hex, issueRequest, tally } from './testing-kit.js';

/**
 * The parts of the OTP store contract, each a sub-suite an adapter may switch off with `features`:
 * `verify` (verify once, unknown keys, challenge ids), `race` (concurrent verifies and sends),
 * `lockout`, `expiry`, `resend` (resend and cooldown rules), `windows` (per-destination and per-IP send
 * windows), `service` (the same rules through `createOtpService`), `atRest` (needs `inspect`).
 */
export type OtpStoreCapability =
  | 'verify'
  | 'race'
  | 'lockout'
  | 'expiry'
  | 'resend'
  | 'windows'
  | 'service'
  | 'atRest';

/**
 * Options of {@link otpStoreContract}: the shared `ContractOptions` of `@app/core/testing`. `inspect`
 * returns every key and value the store has written, read from the backend directly (not through the
 * store), for the at-rest checks.
 */
export type OtpStoreContractOptions = ContractOptions<OtpStore, readonly string[], OtpStoreCapability>;

type Suite = ResolvedContractOptions<OtpStore, readonly string[], OtpStoreCapability>;

const T0 = CONTRACT_T0;
const SECRET = 'contract-suite-secret-0123456789abcdef';
const request = issueRequest;
/** A new send (fresh code and id) for the same challenge and destination as `first`. */
const resend = (first: OtpIssueRequest, overrides: Partial<OtpIssueRequest> = {}): OtpIssueRequest => ({
  ...issueRequest(overrides),
  challengeKey: first.challengeKey,
  destinationKey: first.destinationKey,
});

/** One test of the suite: a fresh store from `create`, the suite's timeout; skipped visibly when `enabled` is false. */
function test(o: Suite, name: string, body: (store: OtpStore) => Promise<void>, enabled = true): void {
  (enabled ? o.it : o.it.skip)(name, async () => body(await o.create()), o.timeoutMs);
}

/** `describe` for a capability: skipped, visibly, when the adapter switched it off. */
function part(o: Suite, capability: OtpStoreCapability, name: string, body: () => void): void {
  (o.has(capability) ? o.describe : o.describe.skip)(name, body);
}

function verifySuite(o: Suite): void {
  const { expect } = o;
  part(o, 'verify', 'verify', () => {
    test(o, 'verifies the right code once, then the challenge is gone', async (store) => {
      const req = request();
      expect(await store.issue(req)).toEqual({ status: 'issued', attempts: 0 });
      const verify = (now: number) =>
        store.verify({ challengeKey: req.challengeKey, codeHash: req.codeHash, now });
      expect(await verify(T0 + 1)).toEqual({
        status: 'verified',
        challengeId: req.challengeId,
        attempts: 0,
      });
      expect(await verify(T0 + 2)).toEqual({ status: 'unavailable' });
    });

    test(o, 'answers unavailable for a key that was never issued', async (store) => {
      expect(await store.verify({ challengeKey: hex(), codeHash: hex(), now: T0 })).toEqual({
        status: 'unavailable',
      });
    });

    test(
      o,
      'with a challenge id, accepts only that challenge and counts a wrong id as a wrong guess',
      async (store) => {
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
      },
    );
  });
}

function raceSuite(o: Suite): void {
  const { expect, concurrency: n } = o;
  part(o, 'race', 'races', () => {
    test(o, `race: ${n} concurrent verifies of the right code give exactly one success`, async (store) => {
      const req = request({ maxAttempts: 5 });
      await store.issue(req);
      const results = await Promise.all(
        Array.from({ length: n }, () =>
          store.verify({ challengeKey: req.challengeKey, codeHash: req.codeHash, now: T0 + 1 }),
        ),
      );
      expect(tally(results)).toEqual({ verified: 1, unavailable: n - 1 });
    });

    test(o, `race: ${n} concurrent wrong guesses are each counted exactly once`, async (store) => {
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
      ).toEqual({ status: 'unavailable' });
    });

    test(o, 'race: concurrent sends respect the cooldown and the window', async (store) => {
      const first = request();
      const same = await Promise.all(Array.from({ length: 50 }, () => store.issue(resend(first))));
      expect(same.filter((r) => r.status === 'issued')).toHaveLength(1);
      const destinationKey = hex();
      const spread = await Promise.all(
        Array.from({ length: 50 }, () => store.issue(request({ destinationKey }))),
      );
      expect(spread.filter((r) => r.status === 'issued')).toHaveLength(5);
      expect(spread.filter((r) => r.status === 'limited' && r.reason === 'destination')).toHaveLength(45);
    });
  });
}

function lockoutSuite(o: Suite): void {
  const { expect } = o;
  part(o, 'lockout', 'lockout', () => {
    test(
      o,
      'counts wrong codes, locks at maxAttempts, and then neither counts nor accepts the right code',
      async (store) => {
        const req = request({ maxAttempts: 3 });
        await store.issue(req);
        const wrong = () => store.verify({ challengeKey: req.challengeKey, codeHash: hex(), now: T0 + 1 });
        expect(await wrong()).toEqual({ status: 'mismatch', challengeId: req.challengeId, attempts: 1 });
        expect(await wrong()).toEqual({ status: 'mismatch', challengeId: req.challengeId, attempts: 2 });
        expect(await wrong()).toEqual({ status: 'locked', challengeId: req.challengeId, attempts: 3 });
        expect(await wrong()).toEqual({ status: 'unavailable' });
        expect(
          await store.verify({ challengeKey: req.challengeKey, codeHash: req.codeHash, now: T0 + 2 }),
        ).toEqual({ status: 'unavailable' });
      },
    );

    test(o, 'refuses to resend a locked challenge until it expires', async (store) => {
      const first = request({ maxAttempts: 1 });
      await store.issue(first);
      await store.verify({ challengeKey: first.challengeKey, codeHash: hex(), now: T0 + 1 });
      const again = (now: number) => store.issue(resend(first, { now, expiresAt: now + 300_000 }));
      expect(await again(T0 + 100_000)).toEqual({
        status: 'limited',
        reason: 'locked',
        retryAfterMs: 200_000,
      });
      expect(await again(first.expiresAt)).toEqual({ status: 'issued', attempts: 0 });
    });
  });
}

function expirySuite(o: Suite): void {
  const { expect } = o;
  part(o, 'expiry', 'expiry', () => {
    test(o, 'accepts a code until expiresAt, then answers expired without counting', async (store) => {
      const req = request();
      await store.issue(req);
      const at = (now: number, codeHash = req.codeHash) =>
        store.verify({ challengeKey: req.challengeKey, codeHash, now });
      expect(await at(req.expiresAt)).toEqual({ status: 'expired' });
      expect(await at(req.expiresAt + 60_000, hex())).toEqual({ status: 'expired' });
      expect((await at(req.expiresAt - 1)).status).toBe('verified');
    });
  });
}

function resendSuite(o: Suite): void {
  const { expect } = o;
  part(o, 'resend', 'resend and cooldown', () => {
    test(o, 'a resend replaces the code and keeps the attempt count', async (store) => {
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
      const verify = (codeHash: string, now: number) =>
        store.verify({ challengeKey: first.challengeKey, codeHash, now });
      expect(await verify(first.codeHash, T0 + 30_001)).toEqual({
        status: 'mismatch',
        challengeId: second.challengeId,
        attempts: 2,
      });
      expect(await verify(second.codeHash, T0 + 30_002)).toEqual({
        status: 'verified',
        challengeId: second.challengeId,
        attempts: 2,
      });
    });

    test(
      o,
      'a send after success or expiry starts afresh, without cooldown or old attempts',
      async (store) => {
        const first = request();
        await store.issue(first);
        await store.verify({ challengeKey: first.challengeKey, codeHash: hex(), now: T0 + 1 });
        await store.verify({ challengeKey: first.challengeKey, codeHash: first.codeHash, now: T0 + 2 });
        const same = { challengeKey: first.challengeKey, destinationKey: first.destinationKey };
        const next = { ...request(), ...same, now: T0 + 3 };
        expect(await store.issue(next)).toEqual({ status: 'issued', attempts: 0 });
        await store.verify({ challengeKey: first.challengeKey, codeHash: hex(), now: T0 + 4 });
        const afterExpiry = {
          ...request(),
          ...same,
          now: next.expiresAt,
          expiresAt: next.expiresAt + 300_000,
        };
        expect(await store.issue(afterExpiry)).toEqual({ status: 'issued', attempts: 0 });
      },
    );

    test(o, 'refuses a resend within the cooldown, with the time left', async (store) => {
      const first = request();
      await store.issue(first);
      const again = (now: number) => store.issue(resend(first, { now }));
      expect(await again(T0 + 10_000)).toEqual({
        status: 'limited',
        reason: 'cooldown',
        retryAfterMs: 20_000,
      });
      expect(await again(T0 + 29_999)).toEqual({ status: 'limited', reason: 'cooldown', retryAfterMs: 1 });
      expect((await again(T0 + 30_000)).status).toBe('issued');
    });
  });
}

function windowsSuite(o: Suite): void {
  const { expect } = o;
  part(o, 'windows', 'send windows', () => {
    test(o, 'limits sends per destination over a sliding window, across challenge keys', async (store) => {
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
      const other = await store.issue(request({ destinationLimit: limit, now: T0 + 60_001 }));
      expect(other.status).toBe('issued');
    });

    test(o, 'limits sends per IP when an IP key is given', async (store) => {
      const ipKey = hex();
      const ipLimit = { max: 2, windowMs: 60_000 };
      const send = (now: number) => store.issue(request({ ipKey, ipLimit, now, expiresAt: now + 300_000 }));
      expect((await send(T0)).status).toBe('issued');
      expect((await send(T0 + 1000)).status).toBe('issued');
      expect(await send(T0 + 2000)).toEqual({ status: 'limited', reason: 'ip', retryAfterMs: 58_000 });
      expect((await store.issue(request({ now: T0 + 2000 }))).status).toBe('issued');
    });
  });
}

/** A service over a fresh store, with channels that record what they deliver and a clock to move. */
async function service(o: Suite, overrides: Partial<OtpServiceOptions> = {}) {
  const sent: OtpDelivery[] = [];
  let now = T0;
  const otp = createOtpService({
    store: await o.create(),
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
}

const phone = () => `+1415${String(randomInt(1_000_000, 9_999_999))}`;

function serviceSuite(o: Suite): void {
  const { expect } = o;
  part(o, 'service', 'through the service', () => {
    test(o, 'a code verifies only its own purpose', async (_store) => {
      const { otp, sent } = await service(o);
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

    test(o, 'locks after maxAttempts wrong guesses, even for the right code', async (_store) => {
      const { otp, sent } = await service(o, { maxAttempts: 5 });
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

    test(o, 'rate limits with retryAfterMs', async (_store) => {
      const { otp, advance } = await service(o, { destinationLimit: { max: 2, windowMs: 600_000 } });
      const to = phone();
      await otp.send({ to, channel: 'sms', purpose: 'login' });
      advance(10_000);
      const cooldown = await otp.send({ to, channel: 'sms', purpose: 'login' }).catch((e: unknown) => e);
      expect(cooldown).toBeInstanceOf(RateLimitedError);
      expect(cooldown).toMatchObject({ reason: 'cooldown', retryAfterMs: 20_000, code: 'RATE_LIMITED' });
      advance(20_000);
      await otp.send({ to, channel: 'sms', purpose: 'login' });
      advance(30_000);
      const window = await otp.send({ to, channel: 'sms', purpose: 'login' }).catch((e: unknown) => e);
      expect(window).toMatchObject({ reason: 'destination', retryAfterMs: 540_000 });
    });

    test(o, 'a code expires after ttlMs', async (_store) => {
      const { otp, sent, advance } = await service(o, { ttlMs: 120_000 });
      const to = phone();
      await otp.send({ to, channel: 'sms', purpose: 'login' });
      advance(120_000);
      expect(await otp.verify({ to, code: sent[0]!.code, purpose: 'login' })).toEqual({ ok: false });
    });
  });
}

function atRestSuite(o: Suite): void {
  const { expect, inspect } = o;
  part(o, 'atRest', 'at rest', () => {
    for (const [label, alphabet, channel, to] of [
      ['numeric code, phone', 'numeric', 'sms', '+14155550123'],
      ['alphanumeric code, email', 'alphanumeric', 'email', 'Ada.Lovelace@Example.com'],
    ] as const) {
      test(
        o,
        `at rest (${label}): no key or value contains the code or the destination`,
        async () => {
          const { otp, sent } = await service(o, {
            alphabet,
            codeLength: 10,
            ipLimit: { max: 10, windowMs: 60_000 },
          });
          const { challengeId } = await otp.send({ to, channel, purpose: 'login', ip: '203.0.113.7' });
          const code = sent[0]!.code;
          const values = await inspect!();
          // The dump really holds what this send wrote: its challenge id is in there.
          expect(values.some((v) => v.includes(challengeId))).toBe(true);
          const forbidden = [code, to, to.toLowerCase(), to.replace('+', ''), '203.0.113.7'];
          for (const value of values) for (const f of forbidden) expect(value).not.toContain(f);
        },
        !!inspect,
      );
    }
  });
}

/**
 * The behaviour every {@link OtpStore} must have, as a vitest suite split by capability: verify, races
 * (`concurrency` concurrent verifies give exactly one success; every wrong guess counted), lockout, expiry,
 * resend and cooldown, send windows, the same rules through the service, and, with `inspect`, that nothing
 * at rest contains a code or a destination. Switch a part off with `features: { race: false }`.
 *
 * @example
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { otpStoreContract } from '@app/otp/testing';
 * otpStoreContract({ describe, it, expect, name: 'my store', create: () => myStore() });
 * ```
 */
export function otpStoreContract(options: OtpStoreContractOptions): void {
  const o = contractOptions(options);
  o.describe(`OtpStore contract: ${o.name}`, () => {
    verifySuite(o);
    raceSuite(o);
    lockoutSuite(o);
    expirySuite(o);
    resendSuite(o);
    windowsSuite(o);
    serviceSuite(o);
    atRestSuite(o);
  });
}
export { CONTRACT_T0, issueRequest, tally } from './testing-kit.js';
