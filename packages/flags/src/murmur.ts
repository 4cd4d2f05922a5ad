const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const encoder = new TextEncoder();

/** Mixes one 4-byte block into the running hash. `Math.imul` keeps every product a 32-bit integer. */
function mixBlock(h1: number, block: number): number {
  let k1 = Math.imul(block, C1);
  k1 = (k1 << 15) | (k1 >>> 17);
  k1 = Math.imul(k1, C2);
  let h = h1 ^ k1;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

function finish(h1: number, tail: number, tailLength: number, length: number): number {
  let h = h1;
  if (tailLength > 0) {
    let k1 = Math.imul(tail, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    k1 = Math.imul(k1, C2);
    h ^= k1;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hashBytes(bytes: Uint8Array, seed: number): number {
  const length = bytes.length;
  const blocks = length & ~3;
  let h1 = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    h1 = mixBlock(h1, bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
  }
  let tail = 0;
  const rest = length & 3;
  if (rest === 3) tail ^= bytes[blocks + 2]! << 16;
  if (rest >= 2) tail ^= bytes[blocks + 1]! << 8;
  if (rest >= 1) tail ^= bytes[blocks]!;
  return finish(h1, tail, rest, length);
}

/**
 * MurmurHash3 x86_32 of `key`, hashed as UTF-8 bytes, as an unsigned 32-bit integer.
 *
 * ASCII strings (every id you are likely to bucket) are hashed straight from their char codes without
 * allocating; anything else goes through UTF-8 encoding, the canonical form other MurmurHash3 ports use.
 *
 * @example
 * ```ts
 * murmurhash3('hello', 0); // 613153351
 * ```
 */
export function murmurhash3(key: string, seed = 0): number {
  const length = key.length;
  for (let i = 0; i < length; i++) {
    if (key.charCodeAt(i) > 0x7f) return hashBytes(encoder.encode(key), seed);
  }
  const blocks = length & ~3;
  let h1 = seed | 0;
  for (let i = 0; i < blocks; i += 4) {
    h1 = mixBlock(
      h1,
      key.charCodeAt(i) |
        (key.charCodeAt(i + 1) << 8) |
        (key.charCodeAt(i + 2) << 16) |
        (key.charCodeAt(i + 3) << 24),
    );
  }
  let tail = 0;
  const rest = length & 3;
  if (rest === 3) tail ^= key.charCodeAt(blocks + 2) << 16;
  if (rest >= 2) tail ^= key.charCodeAt(blocks + 1) << 8;
  if (rest >= 1) tail ^= key.charCodeAt(blocks);
  return finish(h1, tail, rest, length);
}

/** The seed Unleash uses for rollout buckets. */
export const STRATEGY_SEED = 0;
/** The seed Unleash uses for variant selection, so a user's variant is independent of their rollout bucket. */
export const VARIANT_SEED = 86028157;

/**
 * The rollout bucket of a stickiness value, 1 to 100, exactly as Unleash computes it:
 * `murmurhash3(`${groupId}:${value}`, 0) % 100 + 1`. A user is inside a rollout of `p` percent when
 * `bucket <= p`, so raising `p` never drops anyone.
 *
 * @example
 * ```ts
 * rolloutBucket('new-checkout', 'user-42'); // a stable number in 1..100
 * ```
 */
export function rolloutBucket(groupId: string, stickinessValue: string): number {
  return (murmurhash3(`${groupId}:${stickinessValue}`, STRATEGY_SEED) % 100) + 1;
}

/**
 * The variant target of a stickiness value, 1 to `totalWeight`, as Unleash computes it (seed 86028157).
 *
 * @example
 * ```ts
 * variantBucket('new-checkout', 'user-42', 1000); // a stable number in 1..1000
 * ```
 */
export function variantBucket(groupId: string, stickinessValue: string, totalWeight: number): number {
  return (murmurhash3(`${groupId}:${stickinessValue}`, VARIANT_SEED) % totalWeight) + 1;
}
