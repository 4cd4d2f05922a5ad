import { defineScript } from '@app/core';

/**
 * Registers an event name the first time it is published: into the names set, and (only if it was new) into
 * the names log that pattern subscriptions follow. KEYS[1] names set, KEYS[2] names log; ARGV[1] the name.
 */
export const REGISTER_NAME = defineScript(
  `if redis.call('SADD', KEYS[1], ARGV[1]) == 1 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', 10000, '*', 'n', ARGV[1])
end
return 1`,
  2,
);

/**
 * Heartbeat: resets the idle time of the deliveries this consumer still holds (XCLAIM 0 ... JUSTID: the
 * delivery counter is not touched). Deliveries another consumer took over are left alone and reported.
 * KEYS[1] stream; ARGV group, consumer, ids... Returns { refreshed ids, ids now held by someone else }.
 */
export const HEARTBEAT = defineScript(
  `local mine, taken = {}, {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)[1]
  if p then
    if p[2] == ARGV[2] then mine[#mine + 1] = ARGV[i] else taken[#taken + 1] = ARGV[i] end
  end
end
if #mine > 0 then
  local args = {'XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0}
  for _, id in ipairs(mine) do args[#args + 1] = id end
  args[#args + 1] = 'JUSTID'
  redis.call(unpack(args))
end
return {mine, taken}`,
  1,
);

/**
 * Counts one more attempt on a delivery this consumer holds, in the stream's own delivery counter (which
 * XREADGROUP sets to 1 and XAUTOCLAIM increments). KEYS[1] stream; ARGV group, consumer, id. Returns the
 * new count, or nil when the delivery is no longer this consumer's.
 */
export const NEXT_ATTEMPT = defineScript(
  `local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)[1]
if not p or p[2] ~= ARGV[2] then return false end
local n = p[4] + 1
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'RETRYCOUNT', n, 'JUSTID')
return n`,
  1,
);

/**
 * Moves one dead letter back to its subscription: deleted first, re-added only if this call deleted it, so
 * concurrent replays of one dead letter enqueue it once. KEYS[1] dead letters, KEYS[2] retry stream;
 * ARGV dead-letter id, max length, fields...
 */
export const REPLAY_DEAD_LETTER = defineScript(
  `if redis.call('XDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 3))
return 1`,
  2,
);

/** Removes a consumer from a group only if it holds nothing. KEYS[1] stream; ARGV group, consumer. */
export const RELEASE_CONSUMER = defineScript(
  `if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])`,
  1,
);

/**
 * Appends a batch of events to one stream, in order, then trims it once (`XTRIM MAXLEN|MINID ~`): one call for
 * what used to be one command per event. Each entry's reply is its stream id, or its own error (so one
 * failure does not fail the others). KEYS[1] the stream; ARGV[1] `MAXLEN` or `MINID`, ARGV[2] its threshold,
 * ARGV[3] the event name, ARGV[4] the source shared by every event (`=<source>`), or `-` when none has one,
 * or `*` when each event carries its own; then per event: id, payload, timestamp (and with `*` its source,
 * `-` for none or `+<source>`).
 */
export const PUBLISH_BATCH = defineScript(
  `local key, name, mode = KEYS[1], ARGV[3], ARGV[4]
local ids = {}
local k = 0
if mode == '*' then
  for i = 5, #ARGV, 4 do
    k = k + 1
    local s = ARGV[i + 3]
    if s == '-' then
      ids[k] = redis.pcall('XADD', key, '*', 'i', ARGV[i], 'n', name, 'd', ARGV[i + 1], 't', ARGV[i + 2])
    else
      ids[k] = redis.pcall('XADD', key, '*', 'i', ARGV[i], 'n', name, 'd', ARGV[i + 1], 't', ARGV[i + 2],
        's', string.sub(s, 2))
    end
  end
elseif mode == 'h' then
  for i = 5, #ARGV, 5 do
    k = k + 1
    local entry = {'i', ARGV[i], 'n', name, 'd', ARGV[i + 1], 't', ARGV[i + 2]}
    local s, h = ARGV[i + 3], ARGV[i + 4]
    if s ~= '-' then
      entry[#entry + 1] = 's'
      entry[#entry + 1] = string.sub(s, 2)
    end
    if h ~= '' then
      entry[#entry + 1] = 'h'
      entry[#entry + 1] = h
    end
    ids[k] = redis.pcall('XADD', key, '*', unpack(entry))
  end
elseif mode == '-' then
  for i = 5, #ARGV, 3 do
    k = k + 1
    ids[k] = redis.pcall('XADD', key, '*', 'i', ARGV[i], 'n', name, 'd', ARGV[i + 1], 't', ARGV[i + 2])
  end
else
  local source = string.sub(mode, 2)
  for i = 5, #ARGV, 3 do
    k = k + 1
    ids[k] = redis.pcall('XADD', key, '*', 'i', ARGV[i], 'n', name, 'd', ARGV[i + 1], 't', ARGV[i + 2],
      's', source)
  end
end
redis.pcall('XTRIM', key, ARGV[1], '~', ARGV[2])
return ids`,
  1,
);

/** Deletes a dead-letter stream and returns how many entries it held (atomically). KEYS[1] the stream. */
export const DROP_STREAM = defineScript(
  `local n = redis.call('XLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n`,
  1,
);
