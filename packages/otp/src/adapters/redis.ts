import {
  closeable,
  Deadlines,
  defineScript,
  type RedisScript,
  runScript,
  type ScriptClient,
  withDeadline,
} from '@app/core';
import { OtpError, OtpErrorCode } from '../errors.js';
import type {
  OtpIssueRequest,
  OtpIssueResult,
  OtpStore,
  OtpVerifyRequest,
  OtpVerifyResult,
  OtpWindowLimit,
} from '../store.js';
import { VerifyBatcher } from './redis-verify-batch.js';

/** The pipeline the store sends `WAIT` in when `durability` is on (ioredis' `Pipeline`, structurally). */
export interface RedisOtpPipeline {
  exists(key: string): unknown;
  wait(numReplicas: number, timeoutMs: number): unknown;
  exec(): Promise<Array<[Error | null, unknown]> | null>;
}

/**
 * The few ioredis methods the store uses, typed structurally so that any ioredis 5/6 `Redis` or `Cluster`
 * (or a compatible client) fits without this package importing ioredis. `status`, `once` and
 * `removeListener` let the store fail fast instead of queueing behind a reconnect; `isCluster` picks the
 * cluster send path; `pipeline` is needed only with `durability`.
 */
export interface RedisOtpClient extends ScriptClient {
  /** ioredis' connection state (`ready`, `reconnecting`, `end`...). */
  readonly status?: string;
  /** True on an ioredis `Cluster`. */
  readonly isCluster?: boolean;
  once?(event: 'ready', listener: () => void): unknown;
  removeListener?(event: 'ready', listener: () => void): unknown;
  pipeline?(): RedisOtpPipeline;
}

/** The opt-in replication wait of {@link RedisOtpStoreOptions.durability}. */
export interface RedisOtpDurability {
  /** Replicas that must acknowledge each send and verify (`WAIT replicas timeoutMs`). @default 1 */
  replicas?: number;
  /** How long to wait for them before failing with `NOT_REPLICATED`, in ms. @default 500 */
  timeoutMs?: number;
}

/** Options of {@link redisOtpStore}. */
export interface RedisOtpStoreOptions {
  /** Your connected client: a `Redis` (single node, Sentinel) or a `Cluster`; the store never closes it. */
  client: RedisOtpClient;
  /**
   * Prepended to every key the store writes. Keep braces out of it: a `{tag}` here would pin every key to
   * one cluster slot. @default 'otp:'
   */
  keyPrefix?: string;
  /**
   * The bound on every call, in ms: a call against an unreachable Redis (or one still reconnecting) fails
   * with `UNAVAILABLE` within it instead of waiting in ioredis' offline queue. @default 1000
   */
  timeoutMs?: number;
  /**
   * Opt-in: after each send and verify, `WAIT` until this many replicas hold the write, so that a counted
   * guess survives the loss of the master; `NOT_REPLICATED` if they do not acknowledge in time.
   * `true` means `{ replicas: 1, timeoutMs: 500 }`. @default false (no wait)
   */
  durability?: boolean | RedisOtpDurability;
}

/** Lua: how long until a sliding window (a sorted set of send times, pruned here) has room; 0 when it has. */
const WINDOW_WAIT = `
local function wait(key, now, max, window)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local n = redis.call('ZCARD', key)
  if n < max then return 0 end
  local oldest = redis.call('ZRANGE', key, n - max, n - max, 'WITHSCORES')
  local w = tonumber(oldest[2]) + window - now
  if w < 1 then w = 1 end
  return w
end
`;

/**
 * Send, in one step: refuse a locked or cooling-down live challenge, then a full window; otherwise record the
 * send in every window and replace the challenge hash, carrying over a live challenge's attempts.
 * KEYS: challenge, then 0-2 windows. ARGV: now, id, code hash, expiresAt, maxAttempts, cooldownMs, then per
 * window: its name (`destination`, `ip`), max, window ms. On a cluster the windows live in other slots, so
 * they are reserved first by {@link RESERVE_SCRIPT} and this script runs with the challenge key alone.
 */
export const ISSUE_SCRIPT = `${WINDOW_WAIT}
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
for i = 2, #KEYS do
  local j = 7 + (i - 2) * 3
  local w = wait(KEYS[i], now, tonumber(ARGV[j + 1]), tonumber(ARGV[j + 2]))
  if w > 0 then return {ARGV[j], w} end
end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[i], ARGV[7 + (i - 2) * 3 + 2])
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'h', ARGV[3], 'a', attempts, 'm', ARGV[5], 'e', ARGV[4], 's', ARGV[1])
local ttl = tonumber(ARGV[4]) - now
if ttl < 1 then ttl = 1 end
redis.call('PEXPIRE', KEYS[1], ttl)
return {'issued', attempts}
`;

/**
 * Cluster send, first step: records one send in a window if it has room, else answers how long until it
 * has (nothing written). KEYS: window. ARGV: now, member (the challenge id), max, window ms.
 */
export const RESERVE_SCRIPT = `${WINDOW_WAIT}
local w = wait(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[3]), tonumber(ARGV[4]))
if w > 0 then return w end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 0
`;

/** Cluster send, undo: takes back a reservation when a later step refused the send. KEYS: window. ARGV: member. */
export const RELEASE_SCRIPT = `return redis.call('ZREM', KEYS[1], ARGV[1])`;

/**
 * Verify one challenge, in one step: compare the code hash (and id when given; both are HMAC/random strings,
 * so a non-constant-time compare here reveals nothing usable), consume on success, count on failure.
 * Equal cost (issue 15): a verify that neither verifies nor counts (no challenge, expired, locked) still
 * writes once, to the decoy key, so every failed verify runs the same two commands (HMGET, HINCRBY) and
 * writes one key: its cost does not tell whether the destination has a live code. The decoy key carries the
 * challenge key's hash tag, so on a cluster it is in the same slot (no CROSSSLOT).
 */
const VERIFY_ONE = `
local function verify(key, decoy, now, hash, id)
  local c = redis.call('HMGET', key, 'id', 'h', 'a', 'm', 'e')
  local dead
  if type(c[1]) ~= 'string' then dead = 'unavailable'
  elseif tonumber(c[5]) <= now then dead = 'expired'
  elseif tonumber(c[3]) >= tonumber(c[4]) then dead = 'unavailable' end
  if dead then
    redis.call('HINCRBY', decoy, 'n', 1)
    return {dead}
  end
  local a, m = tonumber(c[3]), tonumber(c[4])
  if c[2] == hash and (id == '' or c[1] == id) then
    redis.call('DEL', key)
    return {'verified', a, c[1]}
  end
  a = redis.call('HINCRBY', key, 'a', 1)
  if a >= m then return {'locked', a, c[1]} end
  return {'mismatch', a, c[1]}
end
`;

/** Verify, one call. KEYS: challenge, decoy. ARGV: now, code hash, challenge id or ''. */
export const VERIFY_SCRIPT = `${VERIFY_ONE}return verify(KEYS[1], KEYS[2], tonumber(ARGV[1]), ARGV[2], ARGV[3])
`;

/**
 * Verify, several calls made in one tick, in turn (so two verifies of one code still give one success).
 * KEYS: challenge and decoy of each call. ARGV: now, code hash, challenge id or '' of each call. Returns one
 * reply per call; a call whose command failed (a key of the wrong type) answers `{'error', message}` and the
 * others go on: each call's writes are its own, as if it had run alone.
 */
const VERIFY_BATCH_SCRIPT = `${VERIFY_ONE}local out, n = {}, 0
for k = 1, #KEYS, 2 do
  local j = n * 3
  n = n + 1
  local ok, r = pcall(verify, KEYS[k], KEYS[k + 1], tonumber(ARGV[j + 1]), ARGV[j + 2], ARGV[j + 3])
  if ok then out[n] = r
  elseif type(r) == 'table' and r.err then out[n] = {'error', r.err}
  else out[n] = {'error', tostring(r)} end
end
-- Copied into a table made by its constructor: ioredis-mock (fengari) answers nil for a grown one.
return {unpack(out)}
`;

const ISSUE = defineScript(ISSUE_SCRIPT);
const RESERVE = defineScript(RESERVE_SCRIPT, 1);
const RELEASE = defineScript(RELEASE_SCRIPT, 1);
const VERIFY = defineScript(VERIFY_SCRIPT, 2);
const VERIFY_BATCH = defineScript(VERIFY_BATCH_SCRIPT);

/**
 * The hash tag of an HMAC key: its first 4 characters (65,536 tags, spread over all 16,384 slots). Every key
 * one script touches carries the same tag, so it runs on one cluster node; different challenges, destinations
 * and IPs land on different tags, so load spreads over the shards. A bucket rather than the whole key keeps
 * the decoy keys bounded (one per tag).
 *
 * @example
 * ```ts
 * otpHashTag('9f86d081884c7d65...'); // '{9f86}'
 * ```
 */
export function otpHashTag(key: string): string {
  const tag = key.slice(0, 4);
  return tag.includes('{') || tag.includes('}') ? `{${tag.replace(/[{}]/g, '_')}}` : `{${tag}}`;
}

/**
 * The keys of one challenge, destination or IP under `prefix`, as the store names them (for tests, ACLs and
 * operators: e.g. `otpRedisKeys.challenge('otp:', challengeKey)` is `otp:{9f86}:c:9f86...`).
 */
export const otpRedisKeys = {
  challenge: (prefix: string, key: string) => `${prefix}${otpHashTag(key)}:c:${key}`,
  decoy: (prefix: string, challengeKey: string) => `${prefix}${otpHashTag(challengeKey)}:decoy`,
  destination: (prefix: string, key: string) => `${prefix}${otpHashTag(key)}:d:${key}`,
  ip: (prefix: string, key: string) => `${prefix}${otpHashTag(key)}:i:${key}`,
};

/** Reads the verify script's reply: `{status}` or `{status, attempts, challengeId}`. */
function verifyResult(raw: unknown): OtpVerifyResult {
  const r = raw as [string, number?, string?];
  const status = String(r[0]);
  if (status === 'verified' || status === 'mismatch' || status === 'locked') {
    return { status, challengeId: String(r[2] ?? ''), attempts: Number(r[1] ?? 0) };
  }
  return { status: status === 'expired' ? 'expired' : 'unavailable' };
}

function issueResult(raw: unknown): OtpIssueResult {
  const [status, n] = raw as [string, number | undefined];
  if (status === 'issued') return { status: 'issued', attempts: Number(n ?? 0) };
  return {
    status: 'limited',
    reason: String(status) as 'cooldown' | 'destination' | 'ip' | 'locked',
    retryAfterMs: Number(n ?? 0),
  };
}

const unavailable = (cause?: unknown) =>
  new OtpError(
    OtpErrorCode.UNAVAILABLE,
    cause === undefined ? 'Redis did not answer in time' : 'Redis failed',
    cause === undefined ? undefined : { cause },
  );
const notReady = () => new OtpError(OtpErrorCode.UNAVAILABLE, 'Redis is not connected (reconnecting)');
/** A Redis or client error as the caller sees it: an `OtpError` as is, anything else `UNAVAILABLE`. */
const asError = (error: unknown): OtpError => (error instanceof OtpError ? error : unavailable(error));
const asOtpError = (error: unknown): never => {
  throw asError(error);
};

function durabilityOf(d: RedisOtpStoreOptions['durability']): Required<RedisOtpDurability> | undefined {
  if (d === undefined || d === false) return undefined;
  const { replicas = 1, timeoutMs = 500 } = d === true ? {} : d;
  if (!Number.isInteger(replicas) || replicas < 1 || !Number.isInteger(timeoutMs) || timeoutMs < 1) {
    throw new OtpError(
      OtpErrorCode.INVALID_OPTIONS,
      '`durability` must be true or { replicas, timeoutMs } with positive integers',
    );
  }
  return { replicas, timeoutMs };
}

/**
 * Resolves when a client that is connecting or reconnecting is `ready` (one listener, shared by every call
 * waiting); rejects at once for a client that was closed. Callers bound the wait: nothing is queued in
 * ioredis meanwhile.
 */
function readyWaiter(client: RedisOtpClient): () => Promise<void> {
  let pending: Promise<void> | undefined;
  return () => {
    const status = client.status;
    if (status === 'end' || status === 'close' || status === 'disconnecting') {
      return Promise.reject(new OtpError(OtpErrorCode.UNAVAILABLE, `the Redis client is ${status}`));
    }
    if (typeof client.once !== 'function') return Promise.resolve();
    pending ??= new Promise<void>((resolve) => {
      client.once?.('ready', () => {
        pending = undefined;
        resolve();
      });
    });
    return pending;
  };
}

/**
 * A store on Redis or Redis Cluster: each verify is one run of a Lua script, so compare, consume and count
 * are atomic across every instance of your app. The verifies made in one tick share `EVALSHA` calls (up to
 * 16 per call; on a cluster only those of one hash tag), run in turn inside the script exactly as alone, and
 * each settles on its own reply.
 *
 * Keys (never containing a destination or a code), each with a hash tag of its own HMAC (see
 * {@link otpHashTag}): `<prefix>{tag}:c:<hmac>` (hash: one challenge), `<prefix>{tag}:d:<hmac>` and
 * `<prefix>{tag}:i:<hmac>` (sorted sets: send windows), all with TTLs, and `<prefix>{tag}:decoy` (a small
 * hash per tag: the write a failed verify makes when there is no live challenge to count on, so that every
 * failed verify costs the same). No KEYS or SCAN.
 *
 * On a single node (or Sentinel) a send is one script over all its keys. On a Cluster (detected from the
 * client, no setting) the destination and IP windows live in other slots than the challenge: a send reserves
 * its place in each window (one script each), then runs the challenge script, and takes the reservations
 * back if that refuses (cooldown, locked). A crash between the steps can leave a reservation that counts as
 * a send until the window slides past it: the limit errs on the strict side, never the lenient one.
 *
 * Outages: a call fails with `UNAVAILABLE` within `timeoutMs` (default 1 s); while the client reconnects it
 * waits for `ready` within that bound rather than in ioredis' offline queue. Durability (opt-in): `WAIT`
 * after each send and verify, on the node that ran the script.
 *
 * @example
 * ```ts
 * import { Cluster } from 'ioredis';
 * import { redisOtpStore } from '@app/otp/redis';
 * const store = redisOtpStore({
 *   client: new Cluster([{ host: 'redis-1', port: 6379 }]),
 *   durability: { replicas: 1, timeoutMs: 500 },
 * });
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
  const timeoutMs = options.timeoutMs ?? 1000;
  if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) {
    throw new OtpError(OtpErrorCode.INVALID_OPTIONS, '`timeoutMs` must be a positive number of ms');
  }
  const durability = durabilityOf(options.durability);
  if (durability && typeof client.pipeline !== 'function') {
    throw new OtpError(OtpErrorCode.INVALID_OPTIONS, '`durability` needs a client with pipeline()');
  }
  const cluster = client.isCluster === true;
  const whenReady = readyWaiter(client);
  let closed = false;

  // Verify is a hot path: one swept timer bounds every call (between 1x and 1.25x the bound), not one each.
  const deadlines = new Deadlines(timeoutMs, unavailable);
  const same = (raw: unknown) => raw;
  const rejectClosed = () => Promise.reject(new OtpError(OtpErrorCode.CLOSED, 'the Redis store is closed'));

  /**
   * The work of one script call, sent now: EVALSHA (the core runner falls back to EVAL once after NOSCRIPT:
   * first use, restart, failover), or, while the client connects or reconnects, after it is ready again
   * within the bound (never into ioredis' offline queue).
   */
  const send = (script: RedisScript, keys: string[], args: (string | number)[]): Promise<unknown> => {
    const status = client.status;
    return status === undefined || status === 'ready' || status === 'wait'
      ? runScript(client, script, keys, args)
      : withDeadline(whenReady(), timeoutMs, notReady).then(() => runScript(client, script, keys, args));
  };

  const run = <T = unknown>(
    script: RedisScript,
    keys: string[],
    args: (string | number)[],
    map: (raw: unknown) => T = same as (raw: unknown) => T,
  ): Promise<T> => {
    if (closed) return rejectClosed();
    return deadlines.run(send(script, keys, args), map, asError);
  };

  // On a cluster one script call must stay in one slot: only verifies of one hash tag share a call.
  const verifies = new VerifyBatcher((batch, keys, args) => send(batch ? VERIFY_BATCH : VERIFY, keys, args));

  /** `WAIT` on the node that owns `key` (a pipeline goes to its slot's node), after the script there. */
  const replicate = async (key: string): Promise<void> => {
    if (!durability) return;
    const pipeline = client.pipeline!();
    pipeline.exists(key);
    pipeline.wait(durability.replicas, durability.timeoutMs);
    const replies = await withDeadline(pipeline.exec(), durability.timeoutMs + timeoutMs, unavailable).catch(
      asOtpError,
    );
    const [error, acked] = replies?.[1] ?? [unavailable(), 0];
    if (error) throw unavailable(error);
    if (Number(acked) < durability.replicas) {
      throw new OtpError(
        OtpErrorCode.NOT_REPLICATED,
        `${Number(acked)} of ${durability.replicas} replicas acknowledged within ${durability.timeoutMs} ms`,
      );
    }
  };

  const windows = (req: OtpIssueRequest) => {
    const list: Array<{ key: string; name: 'destination' | 'ip'; limit: OtpWindowLimit }> = [
      {
        key: otpRedisKeys.destination(prefix, req.destinationKey),
        name: 'destination',
        limit: req.destinationLimit,
      },
    ];
    if (req.ipKey !== undefined && req.ipLimit) {
      list.push({ key: otpRedisKeys.ip(prefix, req.ipKey), name: 'ip', limit: req.ipLimit });
    }
    return list;
  };

  const challengeArgs = (req: OtpIssueRequest): (string | number)[] => [
    req.now,
    req.challengeId,
    req.codeHash,
    req.expiresAt,
    req.maxAttempts,
    req.cooldownMs,
  ];

  /** Cluster send: reserve in each window's slot, then the challenge script; undo the reservations on refusal. */
  const issueAcrossSlots = async (req: OtpIssueRequest, challenge: string): Promise<OtpIssueResult> => {
    const reserved: string[] = [];
    const release = () =>
      Promise.all(reserved.map((key) => run(RELEASE, [key], [req.challengeId]).catch(() => undefined)));
    try {
      for (const w of windows(req)) {
        const wait = Number(
          await run(RESERVE, [w.key], [req.now, req.challengeId, w.limit.max, w.limit.windowMs]),
        );
        if (wait > 0) {
          await release();
          return { status: 'limited', reason: w.name, retryAfterMs: wait };
        }
        reserved.push(w.key);
      }
      const result = issueResult(await run(ISSUE, [challenge], challengeArgs(req)));
      if (result.status !== 'issued') await release();
      return result;
    } catch (error) {
      await release();
      throw error;
    }
  };

  const store = {
    async issue(req: OtpIssueRequest): Promise<OtpIssueResult> {
      const challenge = otpRedisKeys.challenge(prefix, req.challengeKey);
      let result: OtpIssueResult;
      if (cluster) {
        result = await issueAcrossSlots(req, challenge);
      } else {
        const ws = windows(req);
        const args = challengeArgs(req);
        for (const w of ws) args.push(w.name, w.limit.max, w.limit.windowMs);
        result = issueResult(await run(ISSUE, [challenge, ...ws.map((w) => w.key)], args));
      }
      if (result.status === 'issued') await replicate(challenge);
      return result;
    },

    verify(req: OtpVerifyRequest): Promise<OtpVerifyResult> {
      // The hot path: no async frame of its own; the verifies of one tick share one script call.
      if (closed) return rejectClosed();
      const tag = otpHashTag(req.challengeKey);
      const tagged = prefix + tag;
      const key = `${tagged}:c:${req.challengeKey}`;
      const queued = verifies.add(
        cluster ? tag : '',
        [key, `${tagged}:decoy`],
        [req.now, req.codeHash, req.challengeId ?? ''],
      );
      const done = deadlines.run(queued, verifyResult, asError);
      // Every verify waits, whatever its answer, so that durability keeps the cost of answers equal.
      return durability ? done.then((r) => replicate(key).then(() => r)) : done;
    },
  };
  return closeable(store, () => {
    closed = true;
  });
}
