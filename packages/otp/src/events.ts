import type { OtpChannelName } from './service.js';

/**
 * Payload of `otp.sent`: a code was stored and delivered. `destinationHash` is the HMAC the send windows are
 * counted under (stable per destination, never the destination itself).
 */
export type OtpSentEvent = {
  challengeId: string;
  purpose: string;
  channel: OtpChannelName;
  destinationHash: string;
  /** ISO 8601 time the code stops being accepted. */
  expiresAt: string;
  /** Wrong guesses carried over from the previous code of this challenge. */
  attempts: number;
};

/** Payload of `otp.verified`: the right code, once; the challenge is consumed. */
export type OtpVerifiedEvent = {
  challengeId: string;
  purpose: string;
  /** Wrong guesses before the right one. */
  attempts: number;
};

/**
 * Payload of `otp.failed`: a verify that did not succeed. `reason` is the store's answer (the caller only
 * ever sees `{ ok: false }`); `challengeId` and `attempts` are there for `mismatch` and `locked`.
 */
export type OtpFailedEvent = {
  purpose: string;
  reason: 'mismatch' | 'locked' | 'expired' | 'unavailable';
  /** HMAC of the destination, as in `otp.sent`. */
  destinationHash?: string;
  challengeId?: string;
  attempts?: number;
};

/** Payload of `otp.locked`: this wrong guess reached `maxAttempts`; the challenge is dead. */
export type OtpLockedEvent = OtpFailedEvent & { maxAttempts: number };

/**
 * The events `createOtpService` publishes to its `events` sink, by name (source `@app/otp`). None carries a
 * code or a destination. Compose it with other packages' maps to type an event bus.
 *
 * @example
 * ```ts
 * import type { OtpEvents } from '@app/otp';
 * type AppEvents = OtpEvents & EmailEvents;
 * const onLocked = (e: OtpEvents['otp.locked']) => alert(e.challengeId, e.attempts);
 * ```
 */
export type OtpEvents = {
  'otp.sent': OtpSentEvent;
  'otp.verified': OtpVerifiedEvent;
  'otp.failed': OtpFailedEvent;
  'otp.locked': OtpLockedEvent;
};
