import * as crypto from 'node:crypto';
import { OtpError, OtpErrorCode } from './errors.js';

/** The shortest secret accepted, in bytes (HMAC-SHA256's block-size guidance: at least the output size). */
export const MIN_SECRET_BYTES = 32;

const BLOCK = 64;
const SEP = '\u0000';

/** `crypto.hash` (Node >= 20.12): a one-shot digest with no Hash object behind it. */
type OneShotHash = (algorithm: string, data: string | Buffer, outputEncoding: 'hex' | 'latin1') => string;
const oneShot = (crypto as { hash?: OneShotHash }).hash;

/**
 * HMAC-SHA256 (RFC 2104) under one fixed key, built from one-shot SHA-256 digests over two preallocated
 * buffers: `H((K ^ opad) || H((K ^ ipad) || message))`. Same bytes out as `createHmac('sha256', key)`,
 * at about a third of its cost per call (no Hmac object, no key schedule per call); where `crypto.hash`
 * is missing it uses `createHmac`.
 */
class Sha256Mac {
  readonly #key: crypto.KeyObject;
  #inner: Buffer;
  readonly #outer: Buffer;
  readonly #ipad: Buffer;

  constructor(secret: Buffer) {
    this.#key = crypto.createSecretKey(secret);
    const key = Buffer.alloc(BLOCK);
    (secret.length > BLOCK ? crypto.createHash('sha256').update(secret).digest() : secret).copy(key);
    this.#ipad = Buffer.alloc(BLOCK);
    this.#outer = Buffer.alloc(BLOCK + 32);
    for (let i = 0; i < BLOCK; i++) {
      this.#ipad[i] = key[i]! ^ 0x36;
      this.#outer[i] = key[i]! ^ 0x5c;
    }
    this.#inner = this.#scratch(1024);
  }

  #scratch(messageBytes: number): Buffer {
    const buf = Buffer.allocUnsafe(BLOCK + messageBytes);
    this.#ipad.copy(buf, 0);
    return buf;
  }

  /** HMAC-SHA256 of `message` (UTF-8), as hex. */
  mac(message: string): string {
    if (oneShot === undefined) return crypto.createHmac('sha256', this.#key).update(message).digest('hex');
    // A UTF-16 code unit is at most 3 bytes of UTF-8: make room before writing, so nothing is cut off.
    if (BLOCK + message.length * 3 > this.#inner.length) this.#inner = this.#scratch(message.length * 3);
    const n = this.#inner.write(message, BLOCK, 'utf8');
    const inner = oneShot('sha256', this.#inner.subarray(0, BLOCK + n), 'latin1');
    this.#outer.write(inner, BLOCK, 'latin1');
    return oneShot('sha256', this.#outer, 'hex');
  }
}

/**
 * Every identifier the service gives a store, as HMAC-SHA256 under the secret with a label per use, so a
 * store (or whoever reads it) never sees a destination or a code and cannot recompute one without the secret.
 *
 * Verify needs two of them, and one does not suffice: the challenge key must be computable without the
 * code (it finds the challenge), and the code hash must be keyed (a store dump holds the challenge key
 * beside it, so an unkeyed hash of challenge key and code falls to 10^6 offline guesses). Deriving both in
 * one pass (a 512-bit HMAC split in two) still leaves a keyed hash of the code to compute, so it saves
 * nothing; what costs is the Hmac object per call, which {@link Sha256Mac} avoids.
 */
export class OtpHasher {
  readonly #mac: Sha256Mac;

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
    this.#mac = new Sha256Mac(bytes);
  }

  /** Identifies a normalised destination. */
  destinationKey(destination: string): string {
    return this.#mac.mac(`otp:destination${SEP}${destination}`);
  }

  /** Identifies the challenge of one (normalised) destination and purpose. */
  challengeKey(destination: string, purpose: string): string {
    return this.#mac.mac(`otp:challenge${SEP}${destination}${SEP}${purpose}`);
  }

  /** Identifies a client IP for the per-IP limit. */
  ipKey(ip: string): string {
    return this.#mac.mac(`otp:ip${SEP}${ip}`);
  }

  /** The stored form of a code: bound to its destination and purpose through the challenge key. */
  codeHash(challengeKey: string, code: string): string {
    return this.#mac.mac(`otp:code${SEP}${challengeKey}${SEP}${code}`);
  }
}

/** Compares two strings (digests, ids) in time independent of where they differ. */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  // timingSafeEqual needs equal lengths; digests and ids of one kind always have the same length.
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}
