// The Lua scripts behind RedisSlidingWindow: window.ts's rules run atomically
// inside Redis with Redis's own clock (TIME; Redis 7 replicates script effects,
// so TIME is allowed). Each call touches one key, so ioredis Cluster routes it
// to one slot, and every policy (limit per window) is checked before any is
// charged: all-or-nothing. Times are ms with µs precision, always formatted by
// hand: Lua would turn numbers into strings with only 14 digits.
//
// ARGV[1] n, ARGV[2] policy count P, then per policy: limit, windowMs.
// Returns { allowed (1/0), remaining, retryAfterMs, resetMs, nowMs } (strings where fractional).

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
return { allowed, remaining, ms(retry), ms(reset), ms(now) }
`;

/**
 * Approximate sliding-window counter: one string holding, per policy, the
 * start of the current fixed window, its count and the previous window's count,
 * space-separated ("s1 c1 p1 s2 c2 p2 …"): TIME + GET (+ SET … PX when admitted).
 */
export const WINDOW_COUNTER_LUA = `${PRELUDE}
local key = KEYS[1]
local stored = {}
local raw = redis.call('GET', key)
if raw then
  for x in string.gmatch(raw, '%S+') do stored[#stored + 1] = tonumber(x) end
end
-- a value written for other policies starts afresh
if #stored ~= 3 * count then stored = {} end
local allowed, remaining, retry, reset = 1, math.huge, 0, 0
local starts, currents, previouses, estimates = {}, {}, {}, {}
for i = 1, count do
  local w = windows[i]
  local start = math.floor(now / w) * w
  local s = stored[3 * i - 2]
  local c = stored[3 * i - 1] or 0
  local p = stored[3 * i] or 0
  if s == nil then
    c, p = 0, 0
  elseif s ~= start then
    if start - s == w then p = c else p = 0 end
    c = 0
  end
  starts[i], currents[i], previouses[i] = start, c, p
  local estimate = p * (1 - (now - start) / w) + c
  estimates[i] = estimate
  if estimate + n > limits[i] + 1e-9 then
    allowed = 0
    local at
    if c + n <= limits[i] + 1e-9 then
      at = start + w * (1 - (limits[i] - n - c) / p)
    else
      local share = 0
      if c > 0 then share = 1 - (limits[i] - n) / c end
      if share < 0 then share = 0 end
      at = start + w + w * share
    end
    if at - now > retry then retry = at - now end
  end
end
local args = {}
for i = 1, count do
  local c = currents[i]
  local left = limits[i] - estimates[i]
  if allowed == 1 then
    c = c + n
    left = left - n
  end
  left = math.floor(left + 1e-9)
  if left < remaining then remaining = left end
  local r = 0
  if c > 0 then r = starts[i] + 2 * windows[i] - now elseif previouses[i] > 0 then r = starts[i] + windows[i] - now end
  if r > reset then reset = r end
  args[#args + 1] = string.format('%.17g', starts[i])
  args[#args + 1] = string.format('%.17g', c)
  args[#args + 1] = string.format('%.17g', previouses[i])
end
if allowed == 1 then
  redis.call('SET', key, table.concat(args, ' '), 'PX', math.ceil(2 * maxWindow) + 1000)
end
if remaining < 0 then remaining = 0 end
return { allowed, remaining, ms(retry), ms(reset), ms(now) }
`;

/**
 * The counter with a single policy, the common case: the same rules and
 * storage ("start count previous") as WINDOW_COUNTER_LUA, written straight-line
 * so a decision costs little more than its TIME + GET (+ SET … PX).
 * ARGV: n, limit, windowMs. Returns like the other scripts.
 */
export const WINDOW_COUNTER_TRY_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local n = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local w = tonumber(ARGV[3])
local start = math.floor(now / w) * w
local raw = redis.call('GET', KEYS[1])
local s, c, p
if raw then
  local a, b, x, y, z = string.find(raw, '^(%S+) (%S+) (%S+)$')
  if a then s, c, p = tonumber(x), tonumber(y), tonumber(z) end
end
if s == nil or c == nil or p == nil then
  s, c, p = start, 0, 0
elseif s ~= start then
  if start - s == w then p = c else p = 0 end
  c = 0
end
local estimate = p * (1 - (now - start) / w) + c
if estimate + n <= limit + 1e-9 then
  c = c + n
  redis.call('SET', KEYS[1], string.format('%.17g %.17g %.17g', start, c, p), 'PX', math.ceil(2 * w) + 1000)
  local left = math.floor(limit - estimate - n + 1e-9)
  if left < 0 then left = 0 end
  return { 1, left, '0', string.format('%.3f', start + 2 * w - now), string.format('%.3f', now) }
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
return { 0, left, string.format('%.3f', retry), string.format('%.3f', reset), string.format('%.3f', now) }
`;
