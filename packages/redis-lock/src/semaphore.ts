// A counting semaphore on one Redis: up to `limit` holders of one name at a time.
// Holders live in a sorted set scored by their expiry on Redis's clock; each
// script first drops expired holders, so a crashed holder frees its slot at its
// TTL. Same lease machinery, errors and fencing counter as the lock.
import { InvalidOptionsError } from './errors.js';
import { checkNumber } from './options.js';
import { SingleRedisLock, type LockTimingOptions } from './redis-lock.js';
import { runScript, type AcquireReply, type LockScript, type RedisClient } from './scripts.js';
import { createHash } from 'node:crypto';

function script(name: string, source: string): LockScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

// Milliseconds on Redis's clock, and the set's own TTL following its longest-lived holder.
const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)`;
const FOLLOW_LONGEST = `
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], last[2]) end`;

/**
 * Semaphore scripts. KEYS[1] = holders (sorted set: token -> expiry ms), KEYS[2] = fencing counter.
 * - acquire(token, ttlMs, limit): add a holder if fewer than `limit` are live -> {1, fencing token};
 *   else {0, ms until the earliest holder expires}.
 * - extend(token, ttlMs): re-arm only a live holder. - release(token): remove; 1 only if it was live.
 */
export const SEMAPHORE_SCRIPTS = {
  acquire: script(
    'semaphoreAcquire',
    `${NOW}
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[2])), ARGV[1])
  ${FOLLOW_LONGEST}
  local token = redis.call('INCR', KEYS[2])
  if token == 1 then
    redis.call('SET', KEYS[2], t[1] .. string.format('%06d', tonumber(t[2])))
    token = redis.call('INCR', KEYS[2])
  end
  return {1, token}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now}`,
  ),
  extend: script(
    'semaphoreExtend',
    `${NOW}
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], 'XX', string.format('%d', now + tonumber(ARGV[2])), ARGV[1])
  ${FOLLOW_LONGEST}
  return 1
end
return 0`,
  ),
  release: script(
    'semaphoreRelease',
    `${NOW}
return redis.call('ZREM', KEYS[1], ARGV[1])`,
  ),
} as const;

export interface RedisSemaphoreOptions extends LockTimingOptions {
  redis: RedisClient;
  /** Maximum simultaneous holders (integer 1 .. 1,000,000). */
  limit: number;
}

/** Up to `limit` holders of one name on one Redis. Create with `createSemaphore`. */
export class RedisSemaphore extends SingleRedisLock {
  readonly limit: number;

  constructor(options: RedisSemaphoreOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionsError('options', 'an object', options);
    super({ ...options, keyPrefix: options.keyPrefix ?? 'semaphore:' });
    this.limit = checkNumber('limit', options.limit, { min: 1, max: 1_000_000, integer: true });
  }

  protected async acquireOp(token: string): Promise<AcquireReply> {
    const reply = (await runScript(this.redis, SEMAPHORE_SCRIPTS.acquire, this.timing.keys, [token, Math.ceil(this.timing.ttlMs), this.limit])) as [number, number];
    if (reply[0] === 1) return { acquired: true, fencingToken: Number(reply[1]) };
    return { acquired: false, holderTtlMs: Math.max(0, Number(reply[1])) };
  }
  protected async extendOp(token: string, ttlMs: number): Promise<boolean> {
    return Number(await runScript(this.redis, SEMAPHORE_SCRIPTS.extend, this.timing.keys, [token, Math.ceil(ttlMs)])) === 1;
  }
  protected async releaseOp(token: string): Promise<boolean> {
    return Number(await runScript(this.redis, SEMAPHORE_SCRIPTS.release, this.timing.keys, [token])) === 1;
  }
}

/** Creates a counting semaphore on one Redis. Throws InvalidOptionsError for bad options. */
export function createSemaphore(options: RedisSemaphoreOptions): RedisSemaphore {
  return new RedisSemaphore(options);
}
