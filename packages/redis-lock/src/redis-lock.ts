// A lock on one Redis: one Lua round trip to acquire (SET NX PX + fencing INCR),
// compare-owner scripts to extend and release, validity on a monotonic clock.
import { randomUUID } from 'node:crypto';
import { monotonicClock, type Clock } from './clock.js';
import { InvalidOptionsError, LockHeldError, StoreUnavailableError } from './errors.js';
import { Emitter, type LockEvents, type Listener } from './events.js';
import { ManagedLease, type Lease, type LeaseBackend, type LeaseTiming } from './lease.js';
import { checkClock, checkFunction, checkNumber } from './options.js';
import { planRetry, resolveRetry, type RetryOptions, type RetryPolicy } from './retry.js';
import { acquireOnce, extendOnce, lockKeys, releaseOnce, type AcquireReply, type LockKeys, type RedisClient } from './scripts.js';
import { ignore, sleep, withDeadline } from './timing.js';
import { driftMs, hasMinValidity, validUntil } from './validity.js';

/** Auto-extension: `true` (extend when half the TTL is left), `false`, or when `beforeExpiryMs` remain. */
export type AutoExtendOptions = boolean | { beforeExpiryMs?: number };

/** Options shared by redis-lock and redlock. */
export interface LockTimingOptions {
  /** Lock name. Stored as `<keyPrefix>{<key>}` plus `<keyPrefix>{<key>}:fence`. */
  key: string;
  /** Prefix of both Redis keys. Default `'lock:'`. Must not contain `{` or `}`. */
  keyPrefix?: string;
  /** Lease TTL in ms (integer 10 .. 2^31-1). */
  ttlMs: number;
  /** Retry policy for acquire. Default `{ attempts: 10, delayMs: 200, jitterMs: 100 }`. */
  retry?: RetryOptions;
  /** Never hand back a lease with less validity than this. Default `ttlMs / 10`. */
  minValidityMs?: number;
  /** Clock-rate drift allowance: validity loses `ttlMs * driftFactor + 2` ms. Default 0.01, range [0, 0.5). */
  driftFactor?: number;
  /** Per-attempt deadline for every Redis round trip (acquire, extend, release). Default `min(2000, ttlMs - drift - minValidityMs)`. */
  attemptTimeoutMs?: number;
  /** Default `true`. */
  autoExtend?: AutoExtendOptions;
  /** Cap on automatic extensions per lease (manual `extend()` is not capped). Default unlimited. */
  maxExtensions?: number;
  /** Monotonic ms source. Default `performance.now()`. */
  clock?: Clock;
  /** Random source in [0, 1) for retry jitter. Default `Math.random`. */
  random?: () => number;
}

export interface RedisLockOptions extends LockTimingOptions {
  /** An ioredis `Redis` or `Cluster` (both keys of a lock share a hash tag, hence a slot). */
  redis: RedisClient;
}

/** Validated timing options, shared with @bulwark/redlock. */
export interface ResolvedLockTiming extends LeaseTiming {
  readonly key: string;
  readonly keys: LockKeys;
  readonly ttlMs: number;
  readonly retry: RetryPolicy;
  readonly minValidityMs: number;
  readonly driftFactor: number;
  readonly attemptTimeoutMs: number;
  readonly autoExtend: false | { beforeExpiryMs: number };
  readonly maxExtensions: number;
  readonly clock: Clock;
  readonly random: () => number;
}

/** Validates the options common to redis-lock and redlock (throws InvalidOptionsError naming the option). */
export function resolveLockTiming(options: LockTimingOptions): ResolvedLockTiming {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionsError('options', 'an object', options);
  if (options.keyPrefix !== undefined && (typeof options.keyPrefix !== 'string' || /[{}]/.test(options.keyPrefix))) {
    throw new InvalidOptionsError('keyPrefix', 'a string without "{" or "}"', options.keyPrefix);
  }
  const keys = lockKeys(options.key, options.keyPrefix);
  const ttlMs = checkNumber('ttlMs', options.ttlMs, { min: 10, max: 2 ** 31 - 1, integer: true });
  const driftFactor = options.driftFactor === undefined ? 0.01 : checkNumber('driftFactor', options.driftFactor, { min: 0, max: 0.49 });
  const usable = ttlMs - driftMs(ttlMs, driftFactor);
  const minValidityMs =
    options.minValidityMs === undefined
      ? Math.max(1, Math.floor(ttlMs / 10))
      : checkNumber('minValidityMs', options.minValidityMs, { min: 0, max: Math.max(0, usable - 1) });
  if (minValidityMs >= usable) {
    throw new InvalidOptionsError('ttlMs', `large enough to leave minValidityMs (${minValidityMs}) after the drift allowance`, ttlMs);
  }
  const attemptTimeoutMs =
    options.attemptTimeoutMs === undefined
      ? Math.max(1, Math.min(2000, usable - minValidityMs))
      : checkNumber('attemptTimeoutMs', options.attemptTimeoutMs, { min: 1, max: 2 ** 31 - 1 });
  const retry = resolveRetry(options.retry);
  let autoExtend: false | { beforeExpiryMs: number } = { beforeExpiryMs: ttlMs / 2 };
  if (options.autoExtend === false) autoExtend = false;
  else if (typeof options.autoExtend === 'object' && options.autoExtend !== null) {
    autoExtend = {
      beforeExpiryMs:
        options.autoExtend.beforeExpiryMs === undefined
          ? ttlMs / 2
          : checkNumber('autoExtend.beforeExpiryMs', options.autoExtend.beforeExpiryMs, { min: 1, max: usable }),
    };
  } else if (options.autoExtend !== undefined && options.autoExtend !== true) {
    throw new InvalidOptionsError('autoExtend', 'a boolean or { beforeExpiryMs }', options.autoExtend);
  }
  const maxExtensions =
    options.maxExtensions === undefined ? Infinity : checkNumber('maxExtensions', options.maxExtensions, { min: 0, integer: true });
  if (options.clock !== undefined) checkClock('clock', options.clock);
  if (options.random !== undefined) checkFunction('random', options.random);
  return {
    key: options.key,
    keys,
    ttlMs,
    retry,
    minValidityMs,
    driftFactor,
    attemptTimeoutMs,
    autoExtend,
    maxExtensions,
    clock: options.clock ?? monotonicClock,
    random: options.random ?? Math.random,
  };
}

/** Options of one acquire / using call. */
export interface AcquireOptions {
  /** Aborts waiting for the lock (rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Counters since the lock was created. */
export interface LockStats {
  key: string;
  /** Leases currently held by this object. */
  held: number;
  acquired: number;
  /** Acquire calls that gave up because the lock was held. */
  contended: number;
  /** Acquire calls that gave up because the store was unavailable (or too slow). */
  unavailable: number;
  extended: number;
  lost: number;
  released: number;
  releaseFailed: number;
}

/** The common surface of RedisLock and Redlock. */
export interface DistributedLock extends AsyncDisposable {
  readonly key: string;
  acquire(options?: AcquireOptions): Promise<Lease>;
  using<T>(fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T, options?: AcquireOptions): Promise<T>;
  on<K extends keyof LockEvents>(event: K, listener: Listener<LockEvents[K]>): () => void;
  stats(): LockStats;
  close(): Promise<void>;
}

/**
 * Bookkeeping shared by RedisLock and Redlock: events, stats, active leases, `using`, `close`.
 * Exported for @bulwark/redlock; not needed by applications.
 */
export abstract class LockBase implements DistributedLock {
  readonly key: string;
  protected readonly events = new Emitter<LockEvents>();
  protected readonly active = new Set<ManagedLease>();
  protected closed = false;
  readonly #stats: LockStats;

  protected constructor(key: string) {
    this.key = key;
    this.#stats = { key, held: 0, acquired: 0, contended: 0, unavailable: 0, extended: 0, lost: 0, released: 0, releaseFailed: 0 };
    this.events.on('acquired', () => this.#stats.acquired++);
    this.events.on('extended', () => this.#stats.extended++);
    this.events.on('lost', () => this.#stats.lost++);
    this.events.on('released', () => this.#stats.released++);
    this.events.on('releaseFailed', () => this.#stats.releaseFailed++);
  }

  abstract acquire(options?: AcquireOptions): Promise<Lease>;

  /** Acquires, runs `fn(lease.signal, lease)`, and always releases (a failed release is reported as `releaseFailed`). */
  async using<T>(fn: (signal: AbortSignal, lease: Lease) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError('fn must be a function');
    const lease = await this.acquire(options);
    try {
      return await fn(lease.signal, lease);
    } finally {
      // The lock expires by TTL if this fails; `releaseFailed` has been emitted.
      await lease.release().catch(ignore);
    }
  }

  on<K extends keyof LockEvents>(event: K, listener: Listener<LockEvents[K]>): () => void {
    return this.events.on(event, listener);
  }

  stats(): LockStats {
    return { ...this.#stats, held: this.active.size };
  }

  toJSON(): LockStats {
    return this.stats();
  }

  /** Rejects further acquires and releases every lease still held (failures are reported as `releaseFailed`). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.active].map((lease) => lease.release()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  protected countFailure(kind: 'contended' | 'unavailable'): void {
    this.#stats[kind]++;
  }

  protected assertOpen(): void {
    if (this.closed) throw new Error(`lock "${this.key}" is closed`);
  }
}

// Set in SingleRedisLock's static block (see TokenBackend).
let extendFor: (lock: SingleRedisLock, token: string, ttlMs: number) => Promise<boolean>;
let releaseFor: (lock: SingleRedisLock, token: string) => Promise<boolean>;

type AttemptFailure = { kind: 'held'; holderTtlMs: number | undefined } | { kind: 'unavailable'; message: string; cause?: unknown };

/**
 * The acquire/extend/release loop over one Redis, shared by RedisLock and RedisSemaphore;
 * subclasses supply the three single-round-trip operations.
 */
export abstract class SingleRedisLock extends LockBase {
  protected readonly redis: RedisClient;
  protected readonly timing: ResolvedLockTiming;

  protected constructor(options: LockTimingOptions & { redis: RedisClient }) {
    const timing = resolveLockTiming(options);
    super(timing.key);
    if (typeof options.redis !== 'object' || options.redis === null || typeof (options.redis as { evalsha?: unknown }).evalsha !== 'function') {
      throw new InvalidOptionsError('redis', 'an ioredis Redis or Cluster client', options.redis);
    }
    this.redis = options.redis;
    this.timing = timing;
  }

  protected abstract acquireOp(token: string): Promise<AcquireReply>;
  protected abstract extendOp(token: string, ttlMs: number): Promise<boolean>;
  protected abstract releaseOp(token: string): Promise<boolean>;

  /**
   * Takes the lock, retrying per the retry policy. Resolves with a Lease holding at least
   * `minValidityMs` of validity. Rejects with LockHeldError (still contended after the
   * last attempt), StoreUnavailableError (Redis down, paused or too slow), or the
   * signal's reason.
   */
  async acquire(options?: AcquireOptions): Promise<Lease> {
    this.assertOpen();
    const signal = options?.signal;
    signal?.throwIfAborted();
    const { clock, ttlMs, driftFactor, attemptTimeoutMs, minValidityMs, retry, random } = this.timing;
    const startedAt = clock.now();
    let attempts = 0;
    for (;;) {
      attempts++;
      const token = randomUUID();
      const sentAt = clock.now();
      let failure: AttemptFailure;
      try {
        const reply = await withDeadline(this.acquireOp(token), attemptTimeoutMs, signal);
        if (reply.acquired) {
          const until = validUntil(sentAt, ttlMs, driftFactor);
          if (hasMinValidity(until, clock.now(), minValidityMs)) return this.#lease(token, reply.fencingToken, until, attempts);
          this.#forget(token);
          failure = { kind: 'unavailable', message: `acquired too late: less than minValidityMs (${minValidityMs} ms) of validity left` };
        } else {
          failure = { kind: 'held', holderTtlMs: reply.holderTtlMs };
        }
      } catch (error) {
        // The script may still run (queued on a slow or paused server): undo it if it does.
        this.#forget(token);
        if (signal?.aborted && error === signal.reason) throw error;
        failure = { kind: 'unavailable', message: error instanceof Error ? error.message : String(error), cause: error };
      }
      const decision = planRetry(retry, { attemptsMade: attempts, startedAt, now: clock.now(), random: random() });
      if (!decision.retry) throw this.#failure(failure, attempts, clock.now() - startedAt);
      await sleep(decision.delayMs, signal);
    }
  }

  #lease(token: string, fencingToken: number, until: number, attempts: number): Lease {
    const t = this.timing;
    const lease = new ManagedLease({
      timing: t,
      fencingToken,
      validUntil: until,
      events: this.events,
      backend: new TokenBackend(this, token),
      onSettled: this.#onSettled,
    });
    this.active.add(lease);
    this.events.emit('acquired', { key: t.key, fencingToken, validUntil: until, attempts });
    return lease;
  }

  readonly #onSettled = (settled: ManagedLease): void => {
    this.active.delete(settled);
  };

  static {
    // Lets TokenBackend reach the protected operations without making them public.
    extendFor = (lock, token, ttlMs) => lock.extendOp(token, ttlMs);
    releaseFor = (lock, token) => lock.releaseOp(token);
  }

  #forget(token: string): void {
    this.releaseOp(token).catch(ignore);
  }

  #failure(failure: AttemptFailure, attempts: number, elapsedMs: number): Error {
    if (failure.kind === 'held') {
      this.countFailure('contended');
      return new LockHeldError({ key: this.key, attempts, elapsedMs, retryAfterMs: failure.holderTtlMs });
    }
    this.countFailure('unavailable');
    return new StoreUnavailableError({ key: this.key, message: failure.message, attempts, cause: failure.cause });
  }
}

/** A lease's I/O: one small object per lease instead of two closures. */
class TokenBackend implements LeaseBackend {
  constructor(
    private readonly lock: SingleRedisLock,
    private readonly token: string,
  ) {}
  extend(ttlMs: number): Promise<boolean> {
    return extendFor(this.lock, this.token, ttlMs);
  }
  release(): Promise<boolean> {
    return releaseFor(this.lock, this.token);
  }
}

/** A lock on a single Redis. Create with `createLock`. */
export class RedisLock extends SingleRedisLock {
  constructor(options: RedisLockOptions) {
    super(options);
  }

  protected acquireOp(token: string): Promise<AcquireReply> {
    return acquireOnce(this.redis, this.timing.keys, token, this.timing.ttlMs);
  }
  protected extendOp(token: string, ttlMs: number): Promise<boolean> {
    return extendOnce(this.redis, this.timing.keys, token, ttlMs);
  }
  protected releaseOp(token: string): Promise<boolean> {
    return releaseOnce(this.redis, this.timing.keys, token);
  }
}

/** Creates a lock on one Redis. Throws InvalidOptionsError for bad options. */
export function createLock(options: RedisLockOptions): RedisLock {
  return new RedisLock(options);
}
