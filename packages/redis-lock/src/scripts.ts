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
 * - compareAndExpire(token, ttlMs) / compareAndDelete(token): extend / release without a
 *   floor, on KEYS[1] only: what a single-Redis lock sends (less work for Redis per call).
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
  compareAndExpire: script(
    'compareAndExpire',
    `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
  ),
  compareAndDelete: script(
    'compareAndDelete',
    `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
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

// Write coalescing. ioredis writes every command to its socket at once: one write(2) per
// command, and on loopback that syscall (with the TCP work it sets off on both ends) is
// most of what a command costs in CPU, in Node and in Redis. When many lock operations run
// at once on one connection, their replies arrive together and their next commands are
// issued together, in one tick. So when a command is sent while BUSY or more others still
// await their replies on the same connection, the socket is corked, and what is written to
// it in this tick (ours or the application's, in the order issued) leaves in one write per
// WRITE_CHUNK commands, the rest when the tick ends (process.nextTick, after the
// microtasks that issued them). Chunks rather than one write per tick keep Redis working on
// the first commands while Node still issues the next ones. A command sent on an idle or
// nearly idle connection (a lone caller; Redlock's one slow master) goes out at once, as
// before. Command order, replies, timeouts and errors are ioredis's as before. A Cluster
// client has no single socket and is left alone.
const WRITE_CHUNK = 16;
/** Commands awaiting replies on a connection from which on it counts as busy. */
const BUSY = 2;
/** Commands corked on a socket in the current tick (no entry: the socket is not corked by us). */
const corkedThisTick = new WeakMap<object, number>();

interface CorkableStream {
  cork(): void;
  uncork(): void;
}

function coalesceWrites(client: RedisClient): void {
  const { stream, commandQueue } = client as { stream?: unknown; commandQueue?: { length: number } };
  if (typeof stream !== 'object' || stream === null) return;
  const corked = corkedThisTick.get(stream);
  if (corked === undefined) {
    if (commandQueue === undefined || commandQueue.length < BUSY || typeof (stream as Partial<CorkableStream>).cork !== 'function') return;
    (stream as CorkableStream).cork();
    corkedThisTick.set(stream, 1);
    process.nextTick(endTick, stream);
    return;
  }
  if (corked % WRITE_CHUNK === 0) {
    (stream as CorkableStream).uncork(); // writes the chunk buffered so far
    (stream as CorkableStream).cork();
  }
  corkedThisTick.set(stream, corked + 1);
}

function endTick(stream: object): void {
  corkedThisTick.delete(stream);
  (stream as CorkableStream).uncork();
}

function send(client: RedisClient, lockScript: LockScript, numKeys: number, args: string[], viaEval: boolean): Promise<unknown> {
  const runner = client as unknown as ScriptRunner;
  coalesceWrites(client);
  return viaEval ? runner.eval(lockScript.source, numKeys, ...args) : runner.evalsha(lockScript.sha, numKeys, ...args);
}

/**
 * EVALSHA, EVAL on NOSCRIPT (which also caches the script), the reply mapped by `decode`:
 * one promise over ioredis's on the common path.
 */
function run<T>(client: RedisClient, lockScript: LockScript, numKeys: number, args: string[], decode: (reply: unknown) => T): Promise<T> {
  let sent: Promise<unknown>;
  try {
    sent = send(client, lockScript, numKeys, args, false);
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a client that threw: pass its failure on unchanged
    return Promise.reject(error);
  }
  return sent.then(decode, (error: unknown) => {
    if (!isNoScript(error)) throw error;
    return send(client, lockScript, numKeys, args, true).then(decode);
  });
}

function same(reply: unknown): unknown {
  return reply;
}

/** Runs `lockScript` with EVALSHA, falling back to EVAL (which also caches it) when Redis answers NOSCRIPT. */
export function runScript(client: RedisClient, lockScript: LockScript, keys: LockKeys, args: (string | number)[]): Promise<unknown> {
  return run(client, lockScript, 2, [keys.lock, keys.fence, ...args.map(String)], same);
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
  return run(client, LOCK_SCRIPTS.acquire, 2, [keys.lock, keys.fence, token, ms(ttlMs)], decodeAcquireReply);
}

/** Re-arms the TTL if `token` still owns the lock. Resolves false when it does not (never touches another owner's lock). */
export function extendOnce(client: RedisClient, keys: LockKeys, token: string, ttlMs: number, fenceFloor = 0): Promise<boolean> {
  if (fenceFloor > 0) return run(client, LOCK_SCRIPTS.extend, 2, [keys.lock, keys.fence, token, ms(ttlMs), String(fenceFloor)], isOne);
  return run(client, LOCK_SCRIPTS.compareAndExpire, 1, [keys.lock, token, ms(ttlMs)], isOne);
}

/** Deletes the lock if `token` still owns it. Resolves false when it did not. */
export function releaseOnce(client: RedisClient, keys: LockKeys, token: string, fenceFloor = 0): Promise<boolean> {
  if (fenceFloor > 0) return run(client, LOCK_SCRIPTS.release, 2, [keys.lock, keys.fence, token, String(fenceFloor)], isOne);
  return run(client, LOCK_SCRIPTS.compareAndDelete, 1, [keys.lock, token], isOne);
}

function isOne(reply: unknown): boolean {
  return Number(reply) === 1;
}

/** Raises the fencing counter to at least `floor`; resolves with the counter's value afterwards. */
export function raiseFence(client: RedisClient, keys: LockKeys, floor: number): Promise<number> {
  return run(client, LOCK_SCRIPTS.raiseFence, 2, [keys.lock, keys.fence, String(floor)], Number);
}
