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
local function ms(x) return string.format('%.3f', x) end
`;

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
    local entry = redis.call('ZRANGEBYSCORE', key, '(' .. ms(now - windows[i]), '+inf', 'WITHSCORES', 'LIMIT', mustLeave - 1, 1)
    local wait = tonumber(entry[2]) + windows[i] - now
    if wait > retry then retry = wait end
  end
end
local newest = nil
if allowed == 1 then
  local stamp = ms(now)
  local args = {}
  for j = 1, n do
    -- unique: at one instant the set only grows, so card + j never repeats
    args[#args + 1] = stamp
    args[#args + 1] = stamp .. ':' .. (card + j)
  end
  redis.call('ZADD', key, unpack(args))
  redis.call('PEXPIRE', key, math.ceil(maxWindow) + 1000)
  newest = now
else
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then newest = tonumber(last[2]) end
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
  if s == nil then
    c, p = 0, 0
  elseif s ~= idx then
    if idx - s == 1 then p = c else p = 0 end
    c = 0
  end
  indexes[i], currents[i], previouses[i] = idx, c, p
  local estimate = p * (1 - (now - start) / w) + c
  estimates[i] = estimate
  if estimate + n > limit + 1e-9 then
    allowed = 0
    local at
    if c + n <= limit + 1e-9 then
      at = start + w * (1 - (limit - n - c) / p)
    else
      local share = 0
      if c > 0 then share = 1 - (limit - n) / c end
      if share < 0 then share = 0 end
      at = start + w + w * share
    end
    if at - now > retry then retry = at - now end
  end
end
local parts = {}
for i = 1, count do
  local c = currents[i]
  local p = previouses[i]
  local w = windows[i]
  local start = indexes[i] * w
  local left = limits[i] - estimates[i]
  if allowed == 1 then
    c = c + n
    left = left - n
  end
  left = math.floor(left + 1e-9)
  if left < remaining then remaining = left end
  local r = 0
  if c > 0 then r = start + 2 * w - now elseif p > 0 then r = start + w - now end
  if r > reset then reset = r end
  if c % 1 == 0 and p % 1 == 0 and c < 1e15 and p < 1e15 then
    parts[i] = string.format('%d %d %d', indexes[i], c, p)
  else
    parts[i] = string.format('%d %.17g %.17g', indexes[i], c, p)
  end
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
 * straight-line in integer microseconds so a decision costs little more than
 * its TIME + GET (+ SET … PX).
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
local raw = redis.call('GET', KEYS[1])
local s, c, p
if raw then
  local a, b, x, y, z = string.find(raw, '^(%S+) (%S+) (%S+)$')
  if a then s, c, p = tonumber(x), tonumber(y), tonumber(z) end
end
if s == nil or c == nil or p == nil then
  c, p = 0, 0
elseif s ~= idx then
  if idx - s == 1 then p = c else p = 0 end
  c = 0
end
local estimate = p * (1 - (now - start) / w) + c
if estimate + n <= limit + 1e-9 then
  c = c + n
  local value
  if c % 1 == 0 and p % 1 == 0 and c < 1e15 and p < 1e15 then
    value = string.format('%d %d %d', idx, c, p)
  else
    value = string.format('%d %.17g %.17g', idx, c, p)
  end
  if s == idx then
    -- The first write in this window set PX (2 windows + 1 s) at or after its
    -- start, which already keeps the key past this window's end: keep that TTL.
    redis.call('SET', KEYS[1], value, 'KEEPTTL')
  else
    redis.call('SET', KEYS[1], value, 'PX', ARGV[4])
  end
  local left = math.floor(limit - estimate - n + 1e-9)
  if left < 0 then left = 0 end
  return { 1, left, 0, math.floor(start + 2 * w - now + 0.5), now }
end
local at
if c + n <= limit + 1e-9 then
  at = start + w * (1 - (limit - n - c) / p)
else
  local share = 0
  if c > 0 then share = 1 - (limit - n) / c end
  if share < 0 then share = 0 end
  at = start + w + w * share
end
local retry = at - now
if retry < 0 then retry = 0 end
local reset = 0
if c > 0 then reset = start + 2 * w - now elseif p > 0 then reset = start + w - now end
local left = math.floor(limit - estimate + 1e-9)
if left < 0 then left = 0 end
return { 0, left, math.floor(retry + 0.5), math.floor(reset + 0.5), now }
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
  if type(raw) == 'table' then
    out[j], out[j + 1], out[j + 2], out[j + 3] = -1, raw.err, 0, 0
  else
    local s, c, p
    if raw then
      local a, b, x, y, z = find(raw, '^(%S+) (%S+) (%S+)$')
      if a then s, c, p = tonumber(x), tonumber(y), tonumber(z) end
    end
    if s == nil or c == nil or p == nil then
      c, p = 0, 0
    elseif s ~= idx then
      if idx - s == 1 then p = c else p = 0 end
      c = 0
    end
    local estimate = p * weight + c
    if estimate + n <= limit + 1e-9 then
      c = c + n
      local value
      if c % 1 == 0 and p % 1 == 0 and c < 1e15 and p < 1e15 then
        value = format('%d %d %d', idx, c, p)
      else
        value = format('%d %.17g %.17g', idx, c, p)
      end
      local set
      if s == idx then
        -- as in WINDOW_COUNTER_TRY_LUA: the window's first write set a TTL that outlasts it
        set = redis.pcall('SET', key, value, 'KEEPTTL')
      else
        set = redis.pcall('SET', key, value, 'PX', ttl)
      end
      if set.err then
        out[j], out[j + 1], out[j + 2], out[j + 3] = -1, set.err, 0, 0
      else
        local left = math.floor(limit - estimate - n + 1e-9)
        if left < 0 then left = 0 end
        out[j], out[j + 1], out[j + 2], out[j + 3] = 1, left, 0, math.floor(start + 2 * w - now + 0.5)
      end
    else
      local at
      if c + n <= limit + 1e-9 then
        at = start + w * (1 - (limit - n - c) / p)
      else
        local share = 0
        if c > 0 then share = 1 - (limit - n) / c end
        if share < 0 then share = 0 end
        at = start + w + w * share
      end
      local retry = at - now
      if retry < 0 then retry = 0 end
      local reset = 0
      if c > 0 then reset = start + 2 * w - now elseif p > 0 then reset = start + w - now end
      local left = math.floor(limit - estimate + 1e-9)
      if left < 0 then left = 0 end
      out[j], out[j + 1], out[j + 2], out[j + 3] = 0, left, math.floor(retry + 0.5), math.floor(reset + 0.5)
    end
  end
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
local format = string.format
local stamp = format('%.3f', now)
local oldest = format('%.3f', now - window)
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
      local entry = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES', 'LIMIT', mustLeave - 1, 1)
      local retry = tonumber(entry[2]) + window - now
      if retry < 0 then retry = 0 end
      local reset = 0
      local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
      if last[2] then
        reset = tonumber(last[2]) + window - now
        if reset < 0 then reset = 0 end
      end
      local left = limit - card
      if left < 0 then left = 0 end
      out[j], out[j + 1], out[j + 2], out[j + 3] = 0, left, math.floor(retry * 1000 + 0.5), math.floor(reset * 1000 + 0.5)
    else
      local args = {}
      for k = 1, n do
        -- unique: at one instant the set only grows, so card + k never repeats
        args[2 * k - 1] = stamp
        args[2 * k] = stamp .. ':' .. (card + k)
      end
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
