import { closeable, defineScript, runScript, type ScriptClient } from '@app/core';
import { OtpError, OtpErrorCode } from '../errors.js';
import type {
  OtpIssueRequest,
  OtpIssueResult,
  OtpStore,
  OtpVerifyRequest,
  OtpVerifyResult,
} from '../store.js';

/**
 * The few ioredis methods the store uses, typed structurally so any ioredis 5 client (or a compatible one)
 * fits without this package importing ioredis.
 */
export type RedisOtpClient = ScriptClient;

/** Options of {@link redisOtpStore}. */
export interface RedisOtpStoreOptions {
  /** Your connected client; the store never closes it. */
  client: RedisOtpClient;
  /** Prepended to every key the store writes. @default 'otp:' */
  keyPrefix?: string;
}

/**
 * Send, in one step: refuse a locked or cooling-down live challenge, then a full destination or IP window
 * (a sorted set of send times, pruned here); otherwise record the send and replace the challenge hash,
 * carrying over a live challenge's attempts.
 * KEYS: challenge, destination window[, ip window]. ARGV: now, id, code hash, expiresAt, maxAttempts,
 * cooldownMs, destination max, destination window ms[, ip max, ip window ms].
 */
export const ISSUE_SCRIPT = `
-- A missing field is false in Redis (but not in every emulator): test for a string.
local now = tonumber(ARGV[1])
local attempts = 0
local c = redis.call('HMGET', KEYS[1], 'a', 'm', 'e', 's')
if type(c[3]) == 'string' and tonumber(c[3]) > now then
  local a, m, s = tonumber(c[1]), tonumber(c[2]), tonumber(c[4])
  if a >= m then return {'locked', tonumber(c[3]) - now} end
  local cooldown = tonumber(ARGV[6])
  if now - s < cooldown then return {'cooldown', s + cooldown - now} end
  attempts = a
end
local function wait(key, max, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n < max then return 0 end
  local oldest = redis.call('ZRANGE', key, n - max, n - max, 'WITHSCORES')
  local w = tonumber(oldest[2]) + window - now
  if w < 1 then w = 1 end
  return w
end
local dwin = tonumber(ARGV[8])
local w = wait(KEYS[2], tonumber(ARGV[7]), dwin)
if w > 0 then return {'destination', w} end
if KEYS[3] then
  local iwin = tonumber(ARGV[10])
  w = wait(KEYS[3], tonumber(ARGV[9]), iwin)
  if w > 0 then return {'ip', w} end
  redis.call('ZADD', KEYS[3], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[3], iwin)
end
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], dwin)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'h', ARGV[3], 'a', attempts, 'm', ARGV[5], 'e', ARGV[4], 's', ARGV[1])
local ttl = tonumber(ARGV[4]) - now
if ttl < 1 then ttl = 1 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {'issued', attempts}
`;

/**
 * Verify, in one step: compare the code hash (and id when given; both are HMAC/random strings, so a
 * non-constant-time compare here reveals nothing usable), consume on success, count on failure.
 * Equal cost (issue 15): a verify that neither verifies nor counts (no challenge, expired, locked) still
 * writes once, to the decoy key, so every failed verify runs the same two commands (HMGET, HINCRBY) and
 * writes one key: its cost does not tell whether the destination has a live code.
 * KEYS: challenge, decoy. ARGV: now, code hash, challenge id or ''.
 */
export const VERIFY_SCRIPT = `
local function dead(status)
  redis.call('HINCRBY', KEYS[2], 'n', 1)
  return {status}
end
local c = redis.call('HMGET', KEYS[1], 'id', 'h', 'a', 'm', 'e')
if type(c[1]) ~= 'string' then return dead('unavailable') end
local a, m = tonumber(c[3]), tonumber(c[4])
if tonumber(c[5]) <= tonumber(ARGV[1]) then return dead('expired') end
if a >= m then return dead('unavailable') end
if c[2] == ARGV[2] and (ARGV[3] == '' or c[1] == ARGV[3]) then
  redis.call('DEL', KEYS[1])
  return {'verified', a, c[1]}
end
a = redis.call('HINCRBY', KEYS[1], 'a', 1)
if a >= m then return {'locked', a, c[1]} end
return {'mismatch', a, c[1]}
`;

const ISSUE = defineScript(ISSUE_SCRIPT);
const VERIFY = defineScript(VERIFY_SCRIPT, 2);

/** Reads the verify script's reply: `{status}` or `{status, attempts, challengeId}`. */
function verifyResult(raw: unknown): OtpVerifyResult {
  const r = raw as [string, number?, string?];
  const status = String(r[0]);
  if (status === 'verified' || status === 'mismatch' || status === 'locked') {
    return { status, challengeId: String(r[2] ?? ''), attempts: Number(r[1] ?? 0) };
  }
  return { status: status === 'expired' ? 'expired' : 'unavailable' };
}

/**
 * A store on Redis: each send and each verify is ONE `EVALSHA` of a Lua script, so limits, compare, consume
 * and count are atomic across every instance of your app. Keys (never containing a destination or a code):
 * `<prefix>c:<hmac>` (hash: one challenge), `<prefix>d:<hmac>` and `<prefix>i:<hmac>` (sorted sets: send
 * windows), all with TTLs, and `<prefix>decoy` (one small hash: the write a failed verify makes when there is
 * no live challenge to count on, so that every failed verify costs the same). No KEYS or SCAN. Needs a
 * single Redis (or a primary): the scripts touch keys in different hash slots, so Redis Cluster is not
 * supported.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisOtpStore } from '@app/otp/redis';
 * const store = redisOtpStore({ client: new Redis(process.env.REDIS_URL), keyPrefix: 'myapp:otp:' });
 * ```
 */
export function redisOtpStore(options: RedisOtpStoreOptions): OtpStore {
  const client = options?.client;
  if (typeof client?.evalsha !== 'function' || typeof client.eval !== 'function') {
    throw new OtpError(OtpErrorCode.INVALID_OPTIONS, '`client` must be an ioredis client (evalsha, eval)');
  }
  const prefix = options.keyPrefix ?? 'otp:';
  if (typeof prefix !== 'string')
    throw new OtpError(OtpErrorCode.INVALID_OPTIONS, '`keyPrefix` must be a string');
  const decoy = `${prefix}decoy`;
  let closed = false;

  const run = (script: typeof ISSUE, keys: string[], args: (string | number)[]): Promise<unknown> => {
    if (closed) return Promise.reject(new OtpError(OtpErrorCode.CLOSED, 'the Redis store is closed'));
    // EVALSHA; the core runner falls back to EVAL once after NOSCRIPT (first use, restart, SCRIPT FLUSH).
    return runScript(client, script, keys, args);
  };

  const reply = (raw: unknown): [string, number, string] => {
    const [status, n, id] = raw as [string, number | undefined, string | undefined];
    return [String(status), Number(n ?? 0), String(id ?? '')];
  };

  const store = {
    async issue(req: OtpIssueRequest): Promise<OtpIssueResult> {
      const keys = [`${prefix}c:${req.challengeKey}`, `${prefix}d:${req.destinationKey}`];
      const args: (string | number)[] = [
        req.now,
        req.challengeId,
        req.codeHash,
        req.expiresAt,
        req.maxAttempts,
        req.cooldownMs,
        req.destinationLimit.max,
        req.destinationLimit.windowMs,
      ];
      if (req.ipKey !== undefined && req.ipLimit) {
        keys.push(`${prefix}i:${req.ipKey}`);
        args.push(req.ipLimit.max, req.ipLimit.windowMs);
      }
      const [status, n] = reply(await run(ISSUE, keys, args));
      if (status === 'issued') return { status: 'issued', attempts: n };
      return {
        status: 'limited',
        reason: status as 'cooldown' | 'destination' | 'ip' | 'locked',
        retryAfterMs: n,
      };
    },

    verify(req: OtpVerifyRequest): Promise<OtpVerifyResult> {
      // The hot path: no async frame of its own, one reply read without intermediate arrays.
      const key = `${prefix}c:${req.challengeKey}`;
      return run(VERIFY, [key, decoy], [req.now, req.codeHash, req.challengeId ?? '']).then(verifyResult);
    },
  };
  return closeable(store, () => {
    closed = true;
  });
}
