import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from 'node:crypto';
import { OtpError, OtpErrorCode } from './errors.js';

/** The shortest secret accepted, in bytes (HMAC-SHA256's block-size guidance: at least the output size). */
export const MIN_SECRET_BYTES = 32;

/**
 * Every identifier the service gives a store, as HMAC-SHA256 under the secret with a label per use, so a
 * store (or whoever reads it) never sees a destination or a code and cannot recompute one without the secret.
 */
export class OtpHasher {
  readonly #secret: KeyObject;

  constructor(secret: unknown) {
    if (secret === undefined || secret === null || secret === '') {
      throw new OtpError(OtpErrorCode.INVALID_SECRET, '`secret` is required (at least 32 random bytes)');
    }
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
      throw new OtpError(OtpErrorCode.INVALID_SECRET, '`secret` must be a string or a Uint8Array');
    }
    const bytes = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret);
    if (bytes.length < MIN_SECRET_BYTES) {
      throw new OtpError(
        OtpErrorCode.INVALID_SECRET,
        `\`secret\` is ${bytes.length} bytes; at least ${MIN_SECRET_BYTES} are required (e.g. \`openssl rand -base64 32\`)`,
      );
    }
    this.#secret = createSecretKey(bytes);
  }

  #mac(...parts: string[]): string {
    return createHmac('sha256', this.#secret).update(parts.join('\u0000')).digest('hex');
  }

  /** Identifies a normalised destination. */
  destinationKey(destination: string): string {
    return this.#mac('otp:destination', destination);
  }

  /** Identifies the challenge of one (normalised) destination and purpose. */
  challengeKey(destination: string, purpose: string): string {
    return this.#mac('otp:challenge', destination, purpose);
  }

  /** Identifies a client IP for the per-IP limit. */
  ipKey(ip: string): string {
    return this.#mac('otp:ip', ip);
  }

  /** The stored form of a code: bound to its destination and purpose through the challenge key. */
  codeHash(challengeKey: string, code: string): string {
    return this.#mac('otp:code', challengeKey, code);
  }
}

/** Compares two strings (digests, ids) in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // timingSafeEqual needs equal lengths; digests and ids of one kind always have the same length.
  return x.length === y.length && timingSafeEqual(x, y);
}
