import { randomBytes } from 'node:crypto';
import type { EventSink, Logger, TelemetrySetting, TelemetrySpan } from '@app/core';
import { optionChecks, silentLogger } from '@app/core';
import type { OtpChannel } from './channels.js';
import { alphabetOf, generateCode, normalizeCode, type OtpCodeAlphabet } from './codes.js';
import { normalizeDestination, type OtpDestinationKind } from './destination.js';
import { OtpError, OtpErrorCode, RateLimitedError } from './errors.js';
import type { OtpEvents, OtpFailedEvent } from './events.js';
import { OtpHasher } from './hashing.js';
import { scrubber } from './scrub.js';
import type { OtpStore, OtpVerifyResult, OtpWindowLimit } from './store.js';
import { otpTelemetry } from './telemetry.js';

/** The channels a code can be sent through. */
export type OtpChannelName = 'sms' | 'email';

/** A send window: at most `max` codes in any `windowMs` milliseconds. */
export interface OtpRateLimit {
  /** Codes allowed in one window. */
  max: number;
  /** The window length in milliseconds. */
  windowMs: number;
}

/** What a {@link OtpServiceOptions.destinationPolicy} hook is asked about. */
export interface OtpDestinationCheck {
  /** The normalised destination: E.164 phone or lower-cased email. */
  to: string;
  kind: OtpDestinationKind;
  channel: OtpChannelName;
  purpose: string;
  /** The client IP given to `send`, if any. */
  ip?: string;
}

/** Options of {@link createOtpService}. */
export interface OtpServiceOptions {
  /** Where challenges and send limits live: `memoryOtpStore()`, `redisOtpStore(...)`, `prismaOtpStore(...)`. */
  store: OtpStore;
  /**
   * The HMAC-SHA256 key for everything stored (codes, destinations, IPs): at least 32 bytes, kept secret
   * and stable (changing it invalidates live codes and resets the send windows).
   */
  secret: string | Uint8Array;
  /** How codes are delivered. `send({ channel: 'sms' })` needs `sms`, and so on. */
  channels: { sms?: OtpChannel; email?: OtpChannel };
  /** Symbols per code, 4 to 10. @default 6 */
  codeLength?: number;
  /** `numeric` (0-9) or `alphanumeric` (31 unambiguous upper-case letters and digits). @default 'numeric' */
  alphabet?: OtpCodeAlphabet;
  /** How long a code is accepted, in ms; at most 600000 (NIST SP 800-63B: 10 minutes). @default 300000 */
  ttlMs?: number;
  /**
   * Wrong guesses after which a challenge is dead (resends keep the count); at most 100 (NIST SP 800-63B
   * caps consecutive failed attempts at 100). @default 5
   */
  maxAttempts?: number;
  /** Minimum milliseconds between two sends to one destination for one purpose. @default 30000 */
  resendCooldownMs?: number;
  /** Sends allowed per destination (all purposes together). @default { max: 5, windowMs: 3600000 } */
  destinationLimit?: OtpRateLimit;
  /** Sends allowed per client IP, applied when `send` gets an `ip`. @default undefined (no IP limit) */
  ipLimit?: OtpRateLimit;
  /**
   * Refuses destinations before anything is stored or sent, e.g. a country allowlist against SMS pumping.
   * Return false to refuse (`send` throws `DESTINATION_REJECTED`).
   * @default undefined (every valid destination is allowed)
   */
  destinationPolicy?: (check: OtpDestinationCheck) => boolean | Promise<boolean>;
  /**
   * Receives `otp.sent`, `otp.verified`, `otp.failed`, `otp.locked` (payloads typed by {@link OtpEvents};
   * never a code or a destination). @default undefined
   */
  events?: EventSink;
  /** pino-compatible logger; codes and destinations are never logged. @default silentLogger */
  logger?: Logger;
  /** The clock, in epoch milliseconds; inject one to test expiry and limits. @default Date.now */
  now?: () => number;
  /**
   * OpenTelemetry: `otp.send`/`otp.verify` spans (purpose and outcome, never a code or a destination) and
   * the `app.otp.outcomes` counter. Providers to use instead of the global ones, or `false` for none.
   * Free when no SDK is registered. @default the global tracer and meter providers
   */
  telemetry?: TelemetrySetting;
}

/** Arguments of {@link OtpService.send}. */
export interface OtpSendInput {
  /** Phone number (E.164, with country code) for `sms`; email address for `email`. */
  to: string;
  channel: OtpChannelName;
  /** What the code is for (`login`, `verify-phone`, `reset`...); a code only verifies its own purpose. */
  purpose: string;
  /** The requester's IP, for `ipLimit`. */
  ip?: string;
}

/** What {@link OtpService.send} returns. It is the same whether or not the destination belongs to anyone. */
export interface OtpSendResult {
  /** Random, opaque id of this challenge; optional proof for `verify`. */
  challengeId: string;
  channel: OtpChannelName;
  purpose: string;
  /** When the code stops being accepted. */
  expiresAt: Date;
  /** Milliseconds until then. */
  expiresInMs: number;
  /** Milliseconds until another code can be sent for this destination and purpose. */
  resendAfterMs: number;
}

/** Arguments of {@link OtpService.verify}. */
export interface OtpVerifyInput {
  to: string;
  /** What the user typed; spaces and dashes are ignored, letters are case-insensitive. */
  code: string;
  purpose: string;
  /** When given, the code must belong to this challenge. */
  challengeId?: string;
}

/**
 * What {@link OtpService.verify} returns. A failure says nothing more (wrong code, expired, locked and
 * never-sent look alike), so it cannot be used to learn which destinations have codes; events and logs
 * carry the detail.
 */
export type OtpVerifyOutcome = { ok: true; challengeId: string; purpose: string } | { ok: false };

/** One-time passcodes: send and verify. */
export interface OtpService {
  /**
   * Generates a code, stores its HMAC (replacing the previous code for this destination and purpose, keeping
   * its attempt count) and delivers it. Throws `RateLimitedError` when a limit refuses.
   */
  send(input: OtpSendInput): Promise<OtpSendResult>;
  /** Checks a code in one atomic store step: consumes it on success, counts the attempt on failure. */
  verify(input: OtpVerifyInput): Promise<OtpVerifyOutcome>;
  /** Closes the store. Later calls reject with `CLOSED`. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const PURPOSE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const MAX_TTL_MS = 600_000;

function invalid(message: string): OtpError {
  return new OtpError(OtpErrorCode.INVALID_OPTIONS, message);
}

const check = optionChecks(invalid);
/** An integer option from `min` to `max` (core's one option check, with otp's error). */
function positiveInt(value: unknown, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  return check.intInRange(`\`${name}\``, value, min, max);
}

function windowLimit(limit: OtpRateLimit | undefined, name: string): OtpWindowLimit | undefined {
  if (limit === undefined) return undefined;
  return {
    max: positiveInt(limit.max, `${name}.max`),
    windowMs: positiveInt(limit.windowMs, `${name}.windowMs`),
  };
}

function checkPurpose(purpose: unknown): string {
  if (typeof purpose !== 'string' || !PURPOSE.test(purpose)) {
    throw new OtpError(
      OtpErrorCode.INVALID_PURPOSE,
      '`purpose` must be 1-64 characters of letters, digits, `_.:-`, starting with a letter or digit',
    );
  }
  return purpose;
}

/**
 * A channel error as it may be logged: its name, its `code` and its message with the destination (in any
 * formatting: see {@link scrubber}) and the code cut out. Other fields are dropped (they may quote the request); the full error stays the `cause` of the
 * `DELIVERY_FAILED` error that `send` throws, for the caller to handle.
 */
function loggableError(
  error: unknown,
  scrub: (text: string) => string,
): { type: string; message: string; code?: string | number } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as Record<string, unknown>;
  const out: { type: string; message: string; code?: string | number } = {
    type: scrub(typeof e.name === 'string' ? e.name : typeof error),
    message: scrub(typeof e.message === 'string' ? e.message : String(error)),
  };
  if (typeof e.code === 'string') out.code = scrub(e.code);
  else if (typeof e.code === 'number') out.code = e.code;
  return out;
}

/**
 * Creates the OTP service over a store and delivery channels.
 *
 * @example
 * ```ts
 * import { createOtpService, smsChannel } from '@app/otp';
 * import { memoryOtpStore } from '@app/otp/memory';
 *
 * const otp = createOtpService({
 *   store: memoryOtpStore(),
 *   secret: process.env.OTP_SECRET!, // >= 32 bytes
 *   channels: { sms: smsChannel(smsProvider) },
 * });
 * const { challengeId } = await otp.send({ to: '+14155550123', channel: 'sms', purpose: 'login' });
 * const result = await otp.verify({ to: '+14155550123', code: '123456', purpose: 'login', challengeId });
 * if (result.ok) signIn();
 * ```
 */
export function createOtpService(options: OtpServiceOptions): OtpService {
  if (typeof options !== 'object' || options === null) throw invalid('options are required');
  const hasher = new OtpHasher(options.secret);
  const { store, channels, events, destinationPolicy } = options;
  if (!store || typeof store.issue !== 'function' || typeof store.verify !== 'function') {
    throw invalid('`store` must be an OtpStore (memoryOtpStore(), redisOtpStore(...), prismaOtpStore(...))');
  }
  if (!channels || (channels.sms === undefined && channels.email === undefined)) {
    throw invalid('`channels` must configure at least one of `sms` and `email`');
  }
  for (const [name, channel] of Object.entries(channels)) {
    if (channel !== undefined && typeof channel?.deliver !== 'function') {
      throw invalid(`\`channels.${name}\` must have a deliver() method (see smsChannel/emailChannel)`);
    }
  }
  const codeLength = positiveInt(options.codeLength ?? 6, 'codeLength', 4, 10);
  const alphabetName = options.alphabet ?? 'numeric';
  if (alphabetName !== 'numeric' && alphabetName !== 'alphanumeric') {
    throw invalid("`alphabet` must be 'numeric' or 'alphanumeric'");
  }
  const alphabet = alphabetOf(alphabetName);
  const ttlMs = positiveInt(options.ttlMs ?? 300_000, 'ttlMs', 1, MAX_TTL_MS);
  const maxAttempts = positiveInt(options.maxAttempts ?? 5, 'maxAttempts', 1, 100);
  const cooldownMs = positiveInt(options.resendCooldownMs ?? 30_000, 'resendCooldownMs', 0);
  const destinationLimit = windowLimit(
    options.destinationLimit ?? { max: 5, windowMs: 3_600_000 },
    'destinationLimit',
  );
  const ipLimit = windowLimit(options.ipLimit, 'ipLimit');
  const logger = options.logger ?? silentLogger;
  const now = options.now ?? Date.now;
  let closed = false;

  const assertOpen = () => {
    if (closed) throw new OtpError(OtpErrorCode.CLOSED, 'the OTP service is closed');
  };

  const publish = <E extends keyof OtpEvents>(event: E, data: OtpEvents[E]) => {
    if (!events) return;
    // Events are notifications: a failing sink must not fail the send or verify it reports on.
    Promise.resolve()
      .then(() => events.publish(event, data, '@app/otp'))
      .catch((error: unknown) => logger.warn({ err: error, event }, 'otp: event sink failed'));
  };

  const telemetry = otpTelemetry(options.telemetry);

  const send = async (input: OtpSendInput, span: TelemetrySpan | undefined): Promise<OtpSendResult> => {
    assertOpen();
    if (typeof input !== 'object' || input === null) {
      throw new OtpError(OtpErrorCode.INVALID_INPUT, 'send() needs { to, channel, purpose }');
    }
    const { channel: channelName, ip } = input;
    const purpose = checkPurpose(input.purpose);
    if (channelName !== 'sms' && channelName !== 'email') {
      throw new OtpError(OtpErrorCode.INVALID_INPUT, "`channel` must be 'sms' or 'email'");
    }
    const channel = channels[channelName];
    if (!channel) {
      throw new OtpError(OtpErrorCode.CHANNEL_NOT_CONFIGURED, `no \`${channelName}\` channel was configured`);
    }
    const destination = normalizeDestination(input.to);
    const expectedKind: OtpDestinationKind = channelName === 'sms' ? 'phone' : 'email';
    if (destination.kind !== expectedKind) {
      throw new OtpError(
        OtpErrorCode.INVALID_DESTINATION,
        `the ${channelName} channel needs ${expectedKind === 'phone' ? 'an E.164 phone number' : 'an email address'}`,
      );
    }
    if (ip !== undefined && (typeof ip !== 'string' || ip.length === 0 || ip.length > 64)) {
      throw new OtpError(OtpErrorCode.INVALID_INPUT, '`ip` must be a non-empty string');
    }
    if (destinationPolicy) {
      const check: OtpDestinationCheck = {
        to: destination.value,
        kind: destination.kind,
        channel: channelName,
        purpose,
      };
      if (ip !== undefined) check.ip = ip;
      if (!(await destinationPolicy(check))) {
        throw new OtpError(
          OtpErrorCode.DESTINATION_REJECTED,
          'the destination policy refused this destination',
        );
      }
    }

    const destinationKey = hasher.destinationKey(destination.value);
    const challengeKey = hasher.challengeKey(destination.value, purpose);
    const code = generateCode(codeLength, alphabet);
    const challengeId = randomBytes(16).toString('base64url');
    const at = now();
    const expiresAt = at + ttlMs;
    const request: Parameters<OtpStore['issue']>[0] = {
      challengeKey,
      destinationKey,
      challengeId,
      codeHash: hasher.codeHash(challengeKey, code),
      now: at,
      expiresAt,
      maxAttempts,
      cooldownMs,
      destinationLimit: destinationLimit!,
    };
    if (ip !== undefined && ipLimit) {
      request.ipKey = hasher.ipKey(ip);
      request.ipLimit = ipLimit;
    }
    const issued = await store.issue(request);
    if (issued.status === 'limited') {
      telemetry.record(span, 'send', purpose, 'rate_limited', issued.reason);
      logger.info({ purpose, channel: channelName, reason: issued.reason }, 'otp: send refused by a limit');
      throw new RateLimitedError(issued.reason, issued.retryAfterMs);
    }

    try {
      await channel.deliver({
        to: destination.value,
        code,
        purpose,
        channel: channelName,
        challengeId,
        expiresAt: new Date(expiresAt),
        ttlMs,
      });
    } catch (error) {
      // Providers quote the recipient (and some the message body) in their errors: log a scrubbed copy.
      // Any spelling of the number or address (`+1 (555) 186-9202`, `555.186.9202`, `ADA@EXAMPLE.COM`).
      const err = loggableError(error, scrubber(destination.value, code));
      logger.error({ err, challengeId, purpose, channel: channelName }, 'otp: delivery failed');
      telemetry.record(span, 'send', purpose, 'delivery_failed');
      throw new OtpError(
        OtpErrorCode.DELIVERY_FAILED,
        `the ${channelName} channel failed to deliver the code`,
        {
          cause: error,
        },
      );
    }
    logger.debug({ challengeId, purpose, channel: channelName }, 'otp: code sent');
    telemetry.record(span, 'send', purpose, 'sent');
    publish('otp.sent', {
      challengeId,
      purpose,
      channel: channelName,
      destinationHash: destinationKey,
      expiresAt: new Date(expiresAt).toISOString(),
      attempts: issued.attempts,
    });
    return {
      challengeId,
      channel: channelName,
      purpose,
      expiresAt: new Date(expiresAt),
      expiresInMs: ttlMs,
      resendAfterMs: cooldownMs,
    };
  };

  const verify = async (
    input: OtpVerifyInput,
    span: TelemetrySpan | undefined,
  ): Promise<OtpVerifyOutcome> => {
    assertOpen();
    if (typeof input !== 'object' || input === null || typeof input.code !== 'string') {
      throw new OtpError(
        OtpErrorCode.INVALID_INPUT,
        'verify() needs { to, code, purpose } with a string code',
      );
    }
    const purpose = checkPurpose(input.purpose);
    const destination = normalizeDestination(input.to);
    const { challengeId } = input;
    if (challengeId !== undefined && (typeof challengeId !== 'string' || challengeId.length > 128)) {
      throw new OtpError(OtpErrorCode.INVALID_INPUT, '`challengeId` must be the string send() returned');
    }
    // The same work runs whether or not a challenge exists, so timing does not tell them apart.
    const challengeKey = hasher.challengeKey(destination.value, purpose);
    const code = normalizeCode(input.code, codeLength, alphabet);
    if (code === undefined) {
      // Cannot match any code this service issues; not worth an attempt or a round trip.
      logger.debug({ purpose }, 'otp: malformed code');
      telemetry.record(span, 'verify', purpose, 'failed', 'malformed');
      return { ok: false };
    }
    const request: Parameters<OtpStore['verify']>[0] = {
      challengeKey,
      codeHash: hasher.codeHash(challengeKey, code),
      now: now(),
    };
    if (challengeId !== undefined) request.challengeId = challengeId;
    const result: OtpVerifyResult = await store.verify(request);

    if (result.status === 'verified') {
      logger.debug({ challengeId: result.challengeId, purpose }, 'otp: verified');
      publish('otp.verified', { challengeId: result.challengeId, purpose, attempts: result.attempts });
      telemetry.record(span, 'verify', purpose, 'verified');
      return { ok: true, challengeId: result.challengeId, purpose };
    }
    const detail: OtpFailedEvent = { purpose, reason: result.status };
    // Only for the event sink (to spot one destination being hammered), so only computed when there is one.
    if (events) detail.destinationHash = hasher.destinationKey(destination.value);
    if (result.status === 'mismatch' || result.status === 'locked') {
      detail.challengeId = result.challengeId;
      detail.attempts = result.attempts;
    }
    logger.debug(detail, 'otp: verification failed');
    publish('otp.failed', detail);
    if (result.status === 'locked') {
      logger.info(
        { challengeId: result.challengeId, purpose },
        'otp: challenge locked after too many attempts',
      );
      publish('otp.locked', { ...detail, maxAttempts });
    }
    telemetry.record(
      span,
      'verify',
      purpose,
      result.status === 'locked' ? 'locked' : 'failed',
      result.status,
    );
    return { ok: false };
  };

  return {
    send: (input) => telemetry.span('send', (span) => send(input, span)),
    verify: (input) => telemetry.span('verify', (span) => verify(input, span)),

    async close() {
      if (closed) return;
      closed = true;
      await store.close();
    },

    async [Symbol.asyncDispose]() {
      await this.close();
    },
  };
}
