// The Lua scripts behind RedisSlidingWindow: window.ts's rules run atomically
// inside Redis with Redis's own clock (TIME; Redis 7 replicates script effects,
// so TIME is allowed). Each call touches one key, so ioredis Cluster routes it
// to one slot, and every policy (limit per window) is checked before any is
// charged: all-or-nothing. Lua would turn numbers into strings with only 14
// digits, so stored values are formatted by hand (%d when whole).
//
// ARGV[1] n, ARGV[2] policy count P, then per policy: limit, window (ms for the
// log, µs for the counter scripts).
// Returns integers { allowed (1/0), remaining, retryAfter µs, reset µs, now µs }.

// Lua fragments shared by the scripts below: statements interpolated into
// their sources (inline, so a decision makes no Lua function call), each
// reading and setting the locals it names. Each rule of the log and of the
// counter is written once.

/** The log's score format (ms with 3 decimals): defines `ms(x)`. */
const LOG_MS_LUA = `
local function ms(x) return string.format('%.3f', x) end
`;

/**
 * Declares `wait`: ms until the entry that must leave for the call to fit,
 * the `mustLeave`-th newer than `since` (an exclusive score bound), leaves its
 * `window`. Reads `key` and `now` (ms).
 */
const LOG_WAIT_LUA = `
local entry = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES', 'LIMIT', mustLeave - 1, 1)
local wait = tonumber(entry[2]) + window - now
`;

/**
 * Declares `args`, the ZADD arguments admitting `n` at score `stamp` to a set
 * of `card` entries: members "<stamp>:<seq>", unique since at one instant the
 * set only grows, so card + k never repeats.
 */
const LOG_ADMISSIONS_LUA = `
local args = {}
for k = 1, n do
  args[2 * k - 1] = stamp
  args[2 * k] = stamp .. ':' .. (card + k)
end
`;

/** Sets `newest` (declared by the includer) to the time of `key`'s newest entry; leaves it alone for an empty set. */
const LOG_NEWEST_LUA = `
local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if last[2] then newest = tonumber(last[2]) end
`;

/**
 * The counter's fragments work in µs of Redis TIME on one policy: `limit` per
 * window `w`, at the fixed window `idx` that starts at `start`. This one rolls
 * the stored window `s` (counts `c`, `p`; any of them nil when absent or
 * unreadable) to `idx`: `c` and `p` become the current and previous window's counts.
 */
const COUNTER_ROLL_LUA = `
if s == nil or c == nil or p == nil then
  c, p = 0, 0
elseif s ~= idx then
  if idx - s == 1 then p = c else p = 0 end
  c = 0
end
`;

/** Declares `at`: when a refused `n` fits, i.e. the estimate p · (1 - elapsed share of the window) + c leaves room under `limit`. */
const COUNTER_FITS_AT_LUA = `
local at
if c + n <= limit + 1e-9 then
  at = start + w * (1 - (limit - n - c) / p)
else
  local share = 0
  if c > 0 then share = 1 - (limit - n) / c end
  if share < 0 then share = 0 end
  at = start + w + w * share
end
`;

/** Declares `idle`: µs until the key holds nothing that counts (two windows after the start of one with admissions, one after a window whose previous count remains). */
const COUNTER_IDLE_LUA = `
local idle = 0
if c > 0 then idle = start + 2 * w - now elseif p > 0 then idle = start + w - now end
`;

/**
 * Sets `value` (declared by the includer) to the stored "window count
 * previous" of `idx`, `c`, `p`: %d when whole (cheap), %.17g otherwise
 * (exact). Needs `format` (string.format).
 */
const COUNTER_VALUE_LUA = `
if c % 1 == 0 and p % 1 == 0 and c < 1e15 and p < 1e15 then
  value = format('%d %d %d', idx, c, p)
else
  value = format('%d %.17g %.17g', idx, c, p)
end
`;

/**
 * One single-policy counter tryTake: the decision of WINDOW_COUNTER_TRY_LUA
 * and of each slot of WINDOW_COUNTER_BATCH_LUA. Reads `raw` (the stored value,
 * false when absent), `n`, and the script's `now` (µs), `limit`, `w` (µs),
 * `idx`, `start`, `weight` (1 - (now - start) / w), `find` and `format`.
 * Declares `allowed` (1/0), `remaining`, `retry` and `reset` (µs), `value`
 * (what to store when admitted, else nil) and `keepTtl` (the key was last
 * written in this window, whose first write set a PX that outlasts it).
 */
const COUNTER_TAKE_LUA = `
local allowed, remaining, retry, reset, value, keepTtl
do
  local s, c, p
  if raw then
    local a, b, x, y, z = find(raw, '^(%S+) (%S+) (%S+)$')
    if a then s, c, p = tonumber(x), tonumber(y), tonumber(z) end
  end
  ${COUNTER_ROLL_LUA}
  local estimate = p * weight + c
  if estimate + n <= limit + 1e-9 then
    c = c + n
    ${COUNTER_VALUE_LUA}
    keepTtl = s == idx
    allowed, retry = 1, 0
    remaining = math.floor(limit - estimate - n + 1e-9)
    reset = math.floor(start + 2 * w - now + 0.5)
  else
    ${COUNTER_FITS_AT_LUA}
    retry = at - now
    if retry < 0 then retry = 0 end
    retry = math.floor(retry + 0.5)
    ${COUNTER_IDLE_LUA}
    allowed, reset = 0, math.floor(idle + 0.5)
    remaining = math.floor(limit - estimate + 1e-9)
  end
  if remaining < 0 then remaining = 0 end
end
`;

const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local limits, windows = {}, {}
local maxWindow, minLimit = 0, math.huge
for i = 1, count do
  limits[i] = tonumber(ARGV[1 + 2 * i])
  windows[i] = tonumber(ARGV[2 + 2 * i])
  if windows[i] > maxWindow then maxWindow = windows[i] end
  if limits[i] < minLimit then minLimit = limits[i] end
end
${LOG_MS_LUA}`;

/**
 * Exact sliding log: a sorted set of admission times (score = ms), shared by
 * all policies (entries are kept for the longest window). Members are
 * "<time>:<seq>", seq counting up from the set's size.
 */
export const SLIDING_LOG_LUA = `${PRELUDE}
local key = KEYS[1]
redis.call('ZREMRANGEBYSCORE', key, '-inf', ms(now - maxWindow))
local card = redis.call('ZCARD', key)
local allowed, remaining, retry, reset = 1, math.huge, 0, 0
local counts = {}
for i = 1, count do
  local c = card
  if windows[i] < maxWindow then c = redis.call('ZCOUNT', key, '(' .. ms(now - windows[i]), '+inf') end
  counts[i] = c
  local mustLeave = c + n - limits[i]
  if mustLeave > 0 then
    allowed = 0
    local since, window = '(' .. ms(now - windows[i]), windows[i]
    ${LOG_WAIT_LUA}
    if wait > retry then retry = wait end
  end
end
local newest = nil
if allowed == 1 then
  local stamp = ms(now)
  ${LOG_ADMISSIONS_LUA}
  redis.call('ZADD', key, unpack(args))
  redis.call('PEXPIRE', key, math.ceil(maxWindow) + 1000)
  newest = now
else
  ${LOG_NEWEST_LUA}
end
for i = 1, count do
  local left = limits[i] - counts[i]
  if allowed == 1 then left = left - n end
  if left < remaining then remaining = left end
  if newest ~= nil then
    local r = newest + windows[i] - now
    if r > reset then reset = r end
  end
end
if remaining < 0 then remaining = 0 end
return { allowed, remaining, math.floor(retry * 1000 + 0.5), math.floor(reset * 1000 + 0.5), tonumber(t[1]) * 1000000 + tonumber(t[2]) }
`;

/**
 * Approximate sliding-window counter, in whole microseconds of Redis TIME: one
 * string holding, per policy, the index of the current fixed window
 * (floor(now / window)), its count and the previous window's count,
 * space-separated ("w1 c1 p1 w2 c2 p2 …"): TIME + GET (+ SET … PX when admitted).
 * ARGV[3 + 2P] is the key's TTL in ms, ceil(2 · longest window) + 1000.
 */
export const WINDOW_COUNTER_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local key = KEYS[1]
local format = string.format
local stored = {}
local raw = redis.call('GET', key)
if raw then
  for x in string.gmatch(raw, '%S+') do stored[#stored + 1] = tonumber(x) end
end
-- a value written for other policies starts afresh
if #stored ~= 3 * count then stored = {} end
local allowed, remaining, retry, reset = 1, math.huge, 0, 0
local limits, windows = {}, {}
local indexes, currents, previouses, estimates = {}, {}, {}, {}
for i = 1, count do
  local limit = tonumber(ARGV[1 + 2 * i])
  local w = tonumber(ARGV[2 + 2 * i])
  limits[i], windows[i] = limit, w
  local idx = math.floor(now / w)
  local start = idx * w
  local s = stored[3 * i - 2]
  local c = stored[3 * i - 1] or 0
  local p = stored[3 * i] or 0
  ${COUNTER_ROLL_LUA}
  indexes[i], currents[i], previouses[i] = idx, c, p
  local estimate = p * (1 - (now - start) / w) + c
  estimates[i] = estimate
  if estimate + n > limit + 1e-9 then
    allowed = 0
    ${COUNTER_FITS_AT_LUA}
    if at - now > retry then retry = at - now end
  end
end
local parts = {}
for i = 1, count do
  local c = currents[i]
  local p = previouses[i]
  local w = windows[i]
  local idx = indexes[i]
  local start = idx * w
  local left = limits[i] - estimates[i]
  if allowed == 1 then
    c = c + n
    left = left - n
  end
  left = math.floor(left + 1e-9)
  if left < remaining then remaining = left end
  ${COUNTER_IDLE_LUA}
  if idle > reset then reset = idle end
  local value
  ${COUNTER_VALUE_LUA}
  parts[i] = value
end
if allowed == 1 then
  redis.call('SET', key, table.concat(parts, ' '), 'PX', ARGV[3 + 2 * count])
end
if remaining < 0 then remaining = 0 end
return { allowed, remaining, math.floor(retry + 0.5), math.floor(reset + 0.5), now }
`;

/**
 * The counter with a single policy, the common case: the same rules and
 * storage ("window count previous") as WINDOW_COUNTER_LUA, written
 * straight-line (COUNTER_TAKE_LUA, shared with WINDOW_COUNTER_BATCH_LUA) in
 * integer microseconds so a decision costs little more than its TIME + GET
 * (+ SET … PX).
 * ARGV: n, limit, window µs, TTL ms. Returns like the other scripts.
 */
export const WINDOW_COUNTER_TRY_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local w = tonumber(ARGV[3])
local idx = math.floor(now / w)
local start = idx * w
local weight = 1 - (now - start) / w
local find, format = string.find, string.format
local raw = redis.call('GET', KEYS[1])
${COUNTER_TAKE_LUA}
if value then
  if keepTtl then
    -- The first write in this window set PX (2 windows + 1 s) at or after its
    -- start, which already keeps the key past this window's end: keep that TTL.
    redis.call('SET', KEYS[1], value, 'KEEPTTL')
  else
    redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
  end
end
return { allowed, remaining, retry, reset, now }
`;

// Several single-policy `tryTake`s in one call (see @bulwark/token-bucket's
// ScriptBatcher): the decisions of the single-policy script, one per key in
// KEYS order, each reading what the previous ones wrote (a key may appear
// more than once), all at one Redis TIME (the script runs atomically). Every
// command on a caller's key goes through redis.pcall, so a failing key fails
// only its own decision. ARGV: the policy's arguments, then n per decision.
// Returns Redis TIME in µs, then 4 integers per decision { allowed (1/0),
// remaining, retryAfter µs, reset µs }, or { -1, error message, 0, 0 } for a
// decision that failed.

/**
 * The counter (WINDOW_COUNTER_TRY_LUA) for several keys. ARGV: limit, window µs,
 * TTL ms, then n per decision.
 */
export const WINDOW_COUNTER_BATCH_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local w = tonumber(ARGV[2])
local ttl = ARGV[3]
local idx = math.floor(now / w)
local start = idx * w
local weight = 1 - (now - start) / w
local find, format = string.find, string.format
local out = { now }
for i = 1, #KEYS do
  local key = KEYS[i]
  local n = tonumber(ARGV[3 + i])
  local j = 4 * i - 2
  local raw = redis.pcall('GET', key)
  local failed
  if type(raw) == 'table' then
    failed = raw.err
  else
    ${COUNTER_TAKE_LUA}
    if value then
      -- as in WINDOW_COUNTER_TRY_LUA: the window's first write set a TTL that outlasts it
      local set
      if keepTtl then set = redis.pcall('SET', key, value, 'KEEPTTL') else set = redis.pcall('SET', key, value, 'PX', ttl) end
      failed = set.err
    end
    out[j], out[j + 1], out[j + 2], out[j + 3] = allowed, remaining, retry, reset
  end
  if failed then out[j], out[j + 1], out[j + 2], out[j + 3] = -1, failed, 0, 0 end
end
return out
`;

/**
 * The exact log (SLIDING_LOG_LUA with one policy) for several keys: times in ms
 * as there (members "<time>:<seq>"). ARGV: limit, window ms, then n per decision.
 */
export const SLIDING_LOG_BATCH_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
${LOG_MS_LUA}
local stamp = ms(now)
local oldest = ms(now - window)
local since = '(' .. oldest
local ttl = math.ceil(window) + 1000
local out = { tonumber(t[1]) * 1000000 + tonumber(t[2]) }
for i = 1, #KEYS do
  local key = KEYS[i]
  local n = tonumber(ARGV[2 + i])
  local j = 4 * i - 2
  local removed = redis.pcall('ZREMRANGEBYSCORE', key, '-inf', oldest)
  if type(removed) == 'table' then
    out[j], out[j + 1], out[j + 2], out[j + 3] = -1, removed.err, 0, 0
  else
    local card = redis.call('ZCARD', key)
    local mustLeave = card + n - limit
    if mustLeave > 0 then
      ${LOG_WAIT_LUA}
      if wait < 0 then wait = 0 end
      local reset, newest = 0, nil
      ${LOG_NEWEST_LUA}
      if newest then
        reset = newest + window - now
        if reset < 0 then reset = 0 end
      end
      local left = limit - card
      if left < 0 then left = 0 end
      out[j], out[j + 1], out[j + 2], out[j + 3] = 0, left, math.floor(wait * 1000 + 0.5), math.floor(reset * 1000 + 0.5)
    else
      ${LOG_ADMISSIONS_LUA}
      local added = redis.pcall('ZADD', key, unpack(args))
      if type(added) == 'table' then
        out[j], out[j + 1], out[j + 2], out[j + 3] = -1, added.err, 0, 0
      else
        redis.pcall('PEXPIRE', key, ttl)
        out[j], out[j + 1], out[j + 2], out[j + 3] = 1, limit - card - n, 0, math.floor(window * 1000 + 0.5)
      end
    end
  end
end
return out
`;
