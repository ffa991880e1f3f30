// The Lua script behind RedisTokenBucket: the formulas of bucket.ts, run
// atomically inside Redis with Redis's own clock (TIME; Redis 7 replicates
// script effects, so TIME is allowed). One key per call holding, per policy,
// an anchor and the tokens owed, so all policies are checked and charged
// all-or-nothing and ioredis Cluster routes the call to one slot.
// emptyAt = anchor + owed · msPerToken, as in bucket.ts (computed here in ms).
//
// Stored as one string "anchor1 owed1 anchor2 owed2 …": anchors are Redis
// TIME in whole microseconds (an anchor is only ever set to "now", so it is
// always whole), owed is written with %d when whole (the common case, cheap to
// format) and %.17g otherwise, so every value reads back exactly.

// Lua fragments shared by the scripts below: statements interpolated into
// their sources (inline, so a decision makes no Lua function call), each
// reading and setting the locals it names.

/**
 * Sets `value` (declared by the includer) to the stored "anchor owed" of one
 * policy from `a` (anchor, whole µs) and `o` (tokens owed): owed with %d when
 * whole (cheap to format), %.17g otherwise (exact). Needs `format` (string.format).
 */
const BUCKET_VALUE_LUA = `
if o % 1 == 0 and o > -1e15 and o < 1e15 then value = format('%d %d', a, o) else value = format('%d %.17g', a, o) end
`;

/**
 * One single-policy tryTake in integer microseconds: the decision of
 * TOKEN_BUCKET_TRY_LUA and of each slot of TOKEN_BUCKET_BATCH_LUA. Reads `raw`
 * (the stored value, false when absent), `n`, and the script's `now` (Redis
 * TIME, µs), `cap`, `upt` (µs per token), `initial`, `fill` (cap · upt),
 * `find`, `sub` and `format`. Declares `allowed` (1/0), `remaining`, `retry`
 * and `reset` (µs), and `value`: what to store, or nil to store nothing (a
 * bucket first seen with initialTokens < capacity is stored even when refused,
 * so it starts counting now).
 */
const TRY_TAKE_LUA = `
local allowed, remaining, retry, reset, value
do
  local a, o
  if raw then
    local space = find(raw, ' ', 1, true)
    if space then
      a = tonumber(sub(raw, 1, space - 1))
      o = tonumber(sub(raw, space + 1))
    end
  end
  local fresh = false
  if a == nil or o == nil then
    a, o = now, -initial
    fresh = initial < cap
  end
  if a + o * upt <= now - fill + 0.001 then a, o = now, -cap end
  local e = a + o * upt
  local after = e + n * upt
  local admit = after <= now + 0.001
  if admit then
    o = o + n
    e = after
  end
  if admit or fresh then ${BUCKET_VALUE_LUA} end
  local left = (now - e) / upt
  if left < 0 then left = 0 end
  remaining = math.floor(left + 1e-9)
  reset = math.floor(e + fill - now + 0.5)
  if admit then allowed, retry = 1, 0 else allowed, retry = 0, math.floor(after - now + 0.5) end
end
`;

// TOKEN_BUCKET_LUA, for every mode and any number of policies:
// KEYS[1]  the bucket key
// ARGV[1]  mode: 't' try, 'r' reserve (delay up to ARGV[3] ms, or 'inf'), 'c' cancel
// ARGV[2]  n
// ARGV[3]  'r': max delay in ms or 'inf'; 'c': the reservation's act-at time (Redis ms)
// ARGV[4]  policy count P, then per policy: capacity, msPerToken, initialTokens
// ARGV[5 + 3P ..]  'c' only: anchor and owed of each policy right after the reservation
//
// Returns { allowed (1/0), remaining, retryAfterMs, resetMs } and, for 'r', nowMs and
// anchor_1, owed_1, …; fractional numbers as strings (Redis truncates Lua numbers).
export const TOKEN_BUCKET_LUA = `
local t = redis.call('TIME')
local now = (tonumber(t[1]) * 1000000 + tonumber(t[2])) / 1000
local format = string.format
local mode = ARGV[1]
local n = tonumber(ARGV[2])
local count = tonumber(ARGV[4])
local eps = 1e-6
local stored = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  for x in string.gmatch(raw, '%S+') do stored[#stored + 1] = tonumber(x) end
end
-- a value written for other policies starts afresh
if #stored ~= 2 * count then stored = {} end
-- anchors are stored in whole µs
for i = 1, #stored, 2 do stored[i] = stored[i] / 1000 end
local caps, mpts = {}, {}
local curA, curO, baseA, baseO = {}, {}, {}, {}
local fresh = false
local limit, wait = math.huge, 0
for i = 1, count do
  local cap = tonumber(ARGV[5 + (i - 1) * 3])
  local mpt = tonumber(ARGV[6 + (i - 1) * 3])
  local initial = tonumber(ARGV[7 + (i - 1) * 3])
  caps[i], mpts[i] = cap, mpt
  local a, o = stored[2 * i - 1], stored[2 * i]
  if a == nil or o == nil then
    a, o = now, -initial
    if initial < cap then fresh = true end
  end
  curA[i], curO[i] = a, o
  if a + o * mpt <= now - cap * mpt + eps then
    baseA[i], baseO[i] = now, -cap
  else
    baseA[i], baseO[i] = a, o
  end
  local after = baseA[i] + (baseO[i] + n) * mpt
  if after - now > wait then wait = after - now end
  if cap < limit then limit = cap end
end

local function fmt(x) return string.format('%.17g', x) end

local function finish(allowed, A, O, withState)
  local out = { allowed, 0, '0', '0' }
  local remaining, reset = math.huge, 0
  for i = 1, count do
    local e = A[i] + O[i] * mpts[i]
    local tokens = (now - e) / mpts[i]
    if tokens > caps[i] then tokens = caps[i] end
    if tokens < remaining then remaining = tokens end
    local untilFull = e + caps[i] * mpts[i] - now
    if untilFull > reset then reset = untilFull end
    if withState then
      out[4 + 2 * i] = fmt(A[i])
      out[5 + 2 * i] = fmt(O[i])
    end
  end
  if withState then out[5] = fmt(now) end
  if remaining < 0 then remaining = 0 end
  out[2] = math.floor(remaining + 1e-9)
  out[4] = string.format('%.3f', reset)
  return out, reset
end

local function write(A, O, reset)
  local parts = {}
  for i = 1, count do
    local a, o, value = math.floor(A[i] * 1000 + 0.5), O[i]
    ${BUCKET_VALUE_LUA}
    parts[i] = value
  end
  redis.call('SET', KEYS[1], table.concat(parts, ' '), 'PX', math.ceil(reset) + 1000)
end

if mode == 'c' then
  -- Go's rule: no refund once the reservation came due; otherwise n minus what
  -- later takes drew after it (only comparable while the anchor is unchanged).
  if now > tonumber(ARGV[3]) or raw == false then
    return (finish(0, baseA, baseO))
  end
  local O = {}
  for i = 1, count do
    local resA = tonumber(ARGV[5 + count * 3 + 2 * (i - 1)])
    local resO = tonumber(ARGV[6 + count * 3 + 2 * (i - 1)])
    local refund = 0
    if resA == curA[i] then
      local later = curO[i] - resO
      if later < 0 then later = 0 end
      refund = n - later
      if refund < 0 then refund = 0 end
    end
    O[i] = curO[i] - refund
  end
  local out, reset = finish(1, curA, O)
  write(curA, O, reset)
  return out
end

if wait <= eps or (mode == 'r' and (ARGV[3] == 'inf' or wait <= tonumber(ARGV[3]) + eps)) then
  local O = {}
  for i = 1, count do O[i] = baseO[i] + n end
  local out, reset = finish(1, baseA, O, mode == 'r')
  if mode == 'r' then out[3] = string.format('%.3f', wait) end
  write(baseA, O, reset)
  return out
end
local out, reset = finish(0, baseA, baseO)
out[3] = string.format('%.3f', wait)
-- a bucket first seen with initialTokens < capacity starts counting now
if fresh then write(curA, curO, reset) end
return out
`;

/**
 * `tryTake` with a single policy, the common case: the same rules and storage
 * ("anchor owed", anchor in whole µs) as TOKEN_BUCKET_LUA, written
 * straight-line (TRY_TAKE_LUA, shared with TOKEN_BUCKET_BATCH_LUA) in integer
 * microseconds so a decision costs little more than its TIME + GET
 * (+ SET … PX): no float formatting on the hot path.
 *
 * KEYS[1] the bucket key; ARGV: n, capacity, µs per token, initialTokens, and
 * the key's TTL in ms, ceil(fill time) + 1000: this script never goes into
 * debt, so that always covers the time until the bucket is full again, and an
 * idle key vanishes at most a second after it would be full anyway.
 * Returns integers { allowed (1/0), remaining, retryAfter µs, reset µs }.
 */
export const TOKEN_BUCKET_TRY_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local upt = tonumber(ARGV[3])
local initial = tonumber(ARGV[4])
local fill = cap * upt
local find, sub, format = string.find, string.sub, string.format
local raw = redis.call('GET', KEYS[1])
${TRY_TAKE_LUA}
if value then redis.call('SET', KEYS[1], value, 'PX', ARGV[5]) end
return { allowed, remaining, retry, reset }
`;

/**
 * Several single-policy `tryTake`s in one call (see script-batch.ts): the
 * decisions of TOKEN_BUCKET_TRY_LUA (the same TRY_TAKE_LUA), one per key in
 * KEYS order, each reading what the previous ones wrote (a key may appear more
 * than once), all at one Redis TIME (the script runs atomically). GET and SET
 * go through redis.pcall so a failing key fails only its own decision.
 *
 * KEYS: one bucket per decision. ARGV: capacity, µs per token, initialTokens,
 * the key's TTL in ms (as for TOKEN_BUCKET_TRY_LUA), then n per decision.
 * Returns 4 integers per decision { allowed (1/0), remaining, retryAfter µs,
 * reset µs }, or { -1, error message, 0, 0 } for a decision that failed.
 */
export const TOKEN_BUCKET_BATCH_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap = tonumber(ARGV[1])
local upt = tonumber(ARGV[2])
local initial = tonumber(ARGV[3])
local ttl = ARGV[4]
local fill = cap * upt
local find, sub, format = string.find, string.sub, string.format
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local n = tonumber(ARGV[4 + i])
  local j = 4 * i - 3
  local raw = redis.pcall('GET', key)
  local failed
  if type(raw) == 'table' then
    failed = raw.err
  else
    ${TRY_TAKE_LUA}
    if value then failed = redis.pcall('SET', key, value, 'PX', ttl).err end
    out[j], out[j + 1], out[j + 2], out[j + 3] = allowed, remaining, retry, reset
  end
  if failed then out[j], out[j + 1], out[j + 2], out[j + 3] = -1, failed, 0, 0 end
end
return out
`;
