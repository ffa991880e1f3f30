// The single-master lock operations. Each is one Lua script (one round trip)
// that touches two keys sharing a hash tag: the lock itself and its fencing
// counter. @bulwark/redlock runs the same operations on every master.
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { InvalidOptionsError } from './errors.js';
import { keySlot } from './slot.js';

/** An ioredis client: a standalone `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/** A Lua script and its SHA-1, run with EVALSHA and loaded with EVAL on NOSCRIPT. */
export interface LockScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

function script(name: string, source: string): LockScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

// Raises the fencing counter to ARGV[floorIndex] when it is lower (never lowers it).
const RAISE_FENCE = (floorIndex: number): string => `
local floor = tonumber(ARGV[${floorIndex}])
if floor and floor > 0 then
  local current = tonumber(redis.call('GET', KEYS[2]) or '0') or 0
  if current < floor then redis.call('SET', KEYS[2], ARGV[${floorIndex}]) end
end`;

/**
 * The Lua scripts. KEYS[1] = lock key, KEYS[2] = fencing counter key (same hash tag).
 * - acquire(token, ttlMs): SET NX PX; on success INCR the counter (seeded from the
 *   server's TIME in microseconds when missing, so a Redis that restarted empty
 *   still hands out larger tokens) and return the token (> 0); otherwise return
 *   `-1 - PTTL` (<= 0), from which the holder's remaining TTL is decoded.
 * - extend(token, ttlMs, floor): PEXPIRE only if the value is still our token.
 * - release(token, floor): DEL only if the value is still our token.
 * - raiseFence(floor): counter = max(counter, floor).
 * `floor` (0 = none) lets Redlock keep the counters of all masters in step.
 */
export const LOCK_SCRIPTS = {
  acquire: script(
    'acquire',
    `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local token = redis.call('INCR', KEYS[2])
  if token == 1 then
    local t = redis.call('TIME')
    redis.call('SET', KEYS[2], t[1] .. string.format('%06d', tonumber(t[2])))
    token = redis.call('INCR', KEYS[2])
  end
  return token
end
return -1 - redis.call('PTTL', KEYS[1])`,
  ),
  extend: script(
    'extend',
    `${RAISE_FENCE(3)}
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`,
  ),
  release: script(
    'release',
    `${RAISE_FENCE(2)}
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`,
  ),
  raiseFence: script(
    'raiseFence',
    `${RAISE_FENCE(1)}
return tonumber(redis.call('GET', KEYS[2]) or '0')`,
  ),
} as const;

/** The two Redis keys behind one lock name. */
export interface LockKeys {
  /** Holds the owner token, with the lease TTL. */
  readonly lock: string;
  /** The fencing counter (no TTL). */
  readonly fence: string;
}

/**
 * The keys for lock `name`: `<prefix>{<name>}` and `<prefix>{<name>}:fence`. The
 * braces are a Redis Cluster hash tag, so both keys live in one slot. Throws
 * InvalidOptionsError (before anything is sent) if they would not.
 */
export function lockKeys(name: string, prefix = 'lock:'): LockKeys {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidOptionsError('key', 'a non-empty string', name);
  if (typeof prefix !== 'string') throw new InvalidOptionsError('keyPrefix', 'a string', prefix);
  const lock = `${prefix}{${name}}`;
  const fence = `${lock}:fence`;
  if (keySlot(lock) !== keySlot(fence)) {
    throw new InvalidOptionsError(
      'key',
      'a name whose lock and fencing keys share one cluster slot (avoid "{" / "}" in keyPrefix and a leading "}" in key)',
      name,
    );
  }
  return { lock, fence };
}

interface ScriptRunner {
  evalsha(sha: string, numKeys: number, ...args: string[]): Promise<unknown>;
  eval(source: string, numKeys: number, ...args: string[]): Promise<unknown>;
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/** Runs `lockScript` with EVALSHA, falling back to EVAL (which also caches it) when Redis answers NOSCRIPT. */
export async function runScript(client: RedisClient, lockScript: LockScript, keys: LockKeys, args: (string | number)[]): Promise<unknown> {
  const runner = client as unknown as ScriptRunner;
  const strings = args.map(String);
  try {
    return await runner.evalsha(lockScript.sha, 2, keys.lock, keys.fence, ...strings);
  } catch (error) {
    if (isNoScript(error)) return runner.eval(lockScript.source, 2, keys.lock, keys.fence, ...strings);
    throw error;
  }
}

// The hot paths below call EVALSHA with a fixed argument list (no rest/spread arrays),
// arguments already strings (ioredis sends strings as they are).

async function run2(client: RedisClient, lockScript: LockScript, keys: LockKeys, a: string, b: string): Promise<unknown> {
  const runner = client as unknown as ScriptRunner;
  try {
    return await runner.evalsha(lockScript.sha, 2, keys.lock, keys.fence, a, b);
  } catch (error) {
    if (isNoScript(error)) return runner.eval(lockScript.source, 2, keys.lock, keys.fence, a, b);
    throw error;
  }
}

async function run3(client: RedisClient, lockScript: LockScript, keys: LockKeys, a: string, b: string, c: string): Promise<unknown> {
  const runner = client as unknown as ScriptRunner;
  try {
    return await runner.evalsha(lockScript.sha, 2, keys.lock, keys.fence, a, b, c);
  } catch (error) {
    if (isNoScript(error)) return runner.eval(lockScript.source, 2, keys.lock, keys.fence, a, b, c);
    throw error;
  }
}

export type AcquireReply =
  | { readonly acquired: true; readonly fencingToken: number }
  | { readonly acquired: false; /** The holder's remaining TTL, when Redis reported one. */ readonly holderTtlMs: number | undefined };

/** Decodes the acquire script's single integer: > 0 is the fencing token, <= 0 is `-(holder PTTL + 1)`. */
export function decodeAcquireReply(reply: unknown): AcquireReply {
  const n = Number(reply);
  if (n > 0) return { acquired: true, fencingToken: n };
  const pttl = -n - 1;
  return { acquired: false, holderTtlMs: pttl >= 0 ? pttl : undefined };
}

function ms(value: number): string {
  return String(Math.ceil(value));
}

/** One acquire attempt on one Redis: SET NX PX + fencing INCR in a single round trip. */
export function acquireOnce(client: RedisClient, keys: LockKeys, token: string, ttlMs: number): Promise<AcquireReply> {
  return run2(client, LOCK_SCRIPTS.acquire, keys, token, ms(ttlMs)).then(decodeAcquireReply);
}

/** Re-arms the TTL if `token` still owns the lock. Resolves false when it does not (never touches another owner's lock). */
export function extendOnce(client: RedisClient, keys: LockKeys, token: string, ttlMs: number, fenceFloor = 0): Promise<boolean> {
  return run3(client, LOCK_SCRIPTS.extend, keys, token, ms(ttlMs), String(fenceFloor)).then(isOne);
}

/** Deletes the lock if `token` still owns it. Resolves false when it did not. */
export function releaseOnce(client: RedisClient, keys: LockKeys, token: string, fenceFloor = 0): Promise<boolean> {
  return run2(client, LOCK_SCRIPTS.release, keys, token, String(fenceFloor)).then(isOne);
}

function isOne(reply: unknown): boolean {
  return Number(reply) === 1;
}

/** Raises the fencing counter to at least `floor`; resolves with the counter's value afterwards. */
export async function raiseFence(client: RedisClient, keys: LockKeys, floor: number): Promise<number> {
  return Number(await runScript(client, LOCK_SCRIPTS.raiseFence, keys, [floor]));
}
