import {
  bucketConfig,
  checkCount,
  initialState,
  isFull,
  isSettled,
  refundTokens,
  takeInto,
  tokensAt,
  type BucketConfig,
  type BucketOptions,
  type BucketState,
} from './bucket.js';
import { InvalidArgumentError, LimiterClosedError, WaitExceedsDeadlineError } from './errors.js';
import { rateLimitResult } from './result.js';
import { abortReason } from './store.js';
import { evictionLimits, insertWithEviction, type EvictionCounters, type EvictionPolicy } from './key-eviction.js';
import type { Clock, RateLimitResult, Reservation, TakeOptions, TakeResult } from './types.js';

export interface TokenBucketOptions extends BucketOptions {
  /** Time source in ms. Default: monotonic `performance.now()`. */
  clock?: Clock;
  /**
   * Most keys held at once. When a new key would exceed it, idle buckets are
   * dropped first, then the examined key holding the most tokens. Default 100 000.
   */
  maxKeys?: number;
  /**
   * A bucket that has been full for this long is dropped lazily (a full bucket
   * is the same as an absent one, so nothing is lost; the delay only avoids
   * re-creating busy keys). Default 1000 ms.
   */
  idleMs?: number;
}

export interface TokenBucketStats {
  keys: number;
  waiters: number;
  allowed: number;
  rejected: number;
  /** Keys dropped because their bucket was full again (no information lost). */
  droppedIdle: number;
  /** Keys dropped while not full because `maxKeys` was reached (their next call sees a fresh bucket). */
  droppedActive: number;
}

export interface TokenBucketEvents {
  /** A key that was not full was dropped to respect `maxKeys`. */
  dropActive: { key: string };
}

const DEFAULT_KEY = '';

interface Waiter {
  timer: ReturnType<typeof setTimeout>;
  settle: (error: Error | undefined) => void;
}

const performanceClock: Clock = { now: () => performance.now() };

/**
 * An in-memory token bucket per key. `tryTake` and `reserve` are synchronous;
 * no timer exists per key (state is one number per key, refilled lazily) and
 * memory is bounded by `maxKeys`. Only `take` creates a timer, while it waits.
 */
export class TokenBucket {
  readonly config: BucketConfig;
  readonly #clock: Clock;
  readonly #eviction: EvictionPolicy<BucketState>;
  readonly #evicted: EvictionCounters = { droppedIdle: 0, droppedActive: 0 };
  /** key → state. Insertion-ordered, so the first entries are the oldest keys. */
  readonly #buckets = new Map<string, BucketState>();
  /** Scratch state for the next take, so the hot path allocates only its result. */
  readonly #next: BucketState = { anchor: 0, owed: 0 };
  readonly #waiters = new Set<Waiter>();
  readonly #dropListeners = new Set<(event: TokenBucketEvents['dropActive']) => void>();
  #closed = false;
  #allowed = 0;
  #rejected = 0;

  constructor(options: TokenBucketOptions) {
    this.config = bucketConfig(options);
    this.#clock = options.clock ?? performanceClock;
    if (typeof this.#clock.now !== 'function') throw new InvalidArgumentError('clock must have a now() method');
    const { maxKeys, idleMs } = evictionLimits(options);
    const config = this.config;
    // A full bucket equals an absent one; at maxKeys the bucket holding the most
    // tokens (earliest emptyAt) goes, as its loss over-admits the least.
    this.#eviction = {
      maxKeys,
      idleMs,
      isIdle: (state, at) => isFull(config, state, at),
      dropCost: (state) => state.anchor + state.owed * config.msPerToken,
      isPinned: () => false,
    };
  }

  /** Takes `n` tokens (default 1) if available now; otherwise takes nothing. Never throws except for a bad `n`. */
  tryTake(n?: number): RateLimitResult;
  tryTake(key: string, n?: number): RateLimitResult;
  tryTake(keyOrN?: string | number, n?: number): RateLimitResult {
    let key = DEFAULT_KEY;
    let count: number;
    if (typeof keyOrN === 'string') {
      key = keyOrN;
      count = n ?? 1;
    } else count = keyOrN ?? 1;
    const config = this.config;
    checkCount(config, count);
    const now = this.#clock.now();
    let state = this.#buckets.get(key);
    const fresh = state === undefined;
    state ??= initialState(config, now);
    const next = this.#next;
    const after = takeInto(config, state, now, count, next);
    if (isSettled(after, now)) {
      state.anchor = next.anchor;
      state.owed = next.owed;
      if (fresh) this.#insert(key, state, now);
      this.#allowed++;
      // `after` is the new emptyAt: tokens left and time to full follow directly.
      const left = (now - after) / config.msPerToken;
      return rateLimitResult(true, left <= 0 ? 0 : Math.floor(left + 1e-9), 0, after + config.fillMs - now, config.capacity);
    }
    // A key first seen with initialTokens < capacity starts counting now (a full one needs no entry).
    if (fresh && config.initialTokens < config.capacity) this.#insert(key, state, now);
    this.#rejected++;
    // Rejected implies not full (a full bucket has every n ≤ capacity), so no clamp is needed.
    const current = state.anchor + state.owed * config.msPerToken;
    const left = (now - current) / config.msPerToken;
    return rateLimitResult(false, left <= 0 ? 0 : Math.floor(left + 1e-9), after - now, current + config.fillMs - now, config.capacity);
  }

  /**
   * Takes `n` tokens now, going into debt if needed, and says how long to wait
   * before acting. Later callers queue behind the debt (FIFO). `cancel()` gives
   * the tokens back unless the reservation already came due.
   */
  reserve(n?: number): Reservation;
  reserve(key: string, n?: number): Reservation;
  reserve(keyOrN?: string | number, n?: number): Reservation {
    const { key, count } = parseKeyAndCount(keyOrN, n);
    checkCount(this.config, count);
    // With no limit on the delay a reservation is always made.
    return this.#reserve(key, count, Number.POSITIVE_INFINITY)!;
  }

  /**
   * Waits (FIFO) until `n` tokens are available and takes them. Rejects at once,
   * consuming nothing, with WaitExceedsDeadlineError when the wait would exceed
   * `maxWaitMs`; rejects with `signal.reason` on abort (the tokens are given back).
   */
  take(n?: number, options?: TakeOptions): Promise<TakeResult>;
  take(key: string, n?: number, options?: TakeOptions): Promise<TakeResult>;
  take(keyOrN?: string | number, nOrOptions?: number | TakeOptions, maybeOptions?: TakeOptions): Promise<TakeResult> {
    try {
      const { key, count, options } = parseTakeArguments(keyOrN, nOrOptions, maybeOptions);
      checkCount(this.config, count);
      const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
      if (!(maxWaitMs >= 0)) throw new InvalidArgumentError(`maxWaitMs must be a number >= 0, got ${String(maxWaitMs)}`);
      const signal = options.signal;
      if (this.#closed) throw new LimiterClosedError();
      signal?.throwIfAborted();
      const startedAt = this.#clock.now();
      const reservation = this.#reserve(key, count, maxWaitMs);
      if (reservation === undefined) {
        throw new WaitExceedsDeadlineError(this.#waitFor(key, count), maxWaitMs);
      }
      if (reservation.delayMs <= 0) return Promise.resolve({ waitedMs: 0 });
      return new Promise<TakeResult>((resolve, reject) => {
        const onAbort = (): void => waiter.settle(abortReason(signal));
        const waiter: Waiter = {
          timer: setTimeout(() => waiter.settle(undefined), Math.ceil(reservation.delayMs)),
          settle: (error) => {
            clearTimeout(waiter.timer);
            this.#waiters.delete(waiter);
            signal?.removeEventListener('abort', onAbort);
            if (error === undefined) resolve({ waitedMs: this.#clock.now() - startedAt });
            else {
              reservation.cancel();
              reject(error);
            }
          },
        };
        waiter.timer.unref();
        this.#waiters.add(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    } catch (error) {
      // Re-rejects exactly what was thrown above (our errors or the caller's abort reason).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** Tokens available for `key` now (whole tokens, 0 when in debt). Does not take any. */
  available(key: string = DEFAULT_KEY): number {
    const now = this.#clock.now();
    return tokensAt(this.config, this.#buckets.get(key) ?? initialState(this.config, now), now);
  }

  /** Listens for events; returns a function that removes the listener. */
  on<E extends keyof TokenBucketEvents>(event: E, listener: (payload: TokenBucketEvents[E]) => void): () => void {
    if (event !== 'dropActive') throw new InvalidArgumentError(`unknown event ${String(event)}`);
    this.#dropListeners.add(listener);
    return () => {
      this.#dropListeners.delete(listener);
    };
  }

  stats(): TokenBucketStats {
    return {
      keys: this.#buckets.size,
      waiters: this.#waiters.size,
      allowed: this.#allowed,
      rejected: this.#rejected,
      droppedIdle: this.#evicted.droppedIdle,
      droppedActive: this.#evicted.droppedActive,
    };
  }

  toJSON(): TokenBucketStats & { capacity: number; msPerToken: number } {
    return { ...this.stats(), capacity: this.config.capacity, msPerToken: this.config.msPerToken };
  }

  /** Rejects every waiting `take` with LimiterClosedError (giving their tokens back); later `take`s reject too. */
  close(): Promise<void> {
    this.#closed = true;
    for (const waiter of [...this.#waiters]) waiter.settle(new LimiterClosedError());
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Reserves unless the delay would exceed `maxWaitMs`; returns undefined then (nothing taken). */
  #reserve(key: string, count: number, maxWaitMs: number): Reservation | undefined {
    const config = this.config;
    const now = this.#clock.now();
    let state = this.#buckets.get(key);
    const fresh = state === undefined;
    state ??= initialState(config, now);
    const reserved: BucketState = { anchor: 0, owed: 0 };
    const after = takeInto(config, state, now, count, reserved);
    const delayMs = after > now ? after - now : 0;
    if (delayMs > maxWaitMs) return undefined;
    state.anchor = reserved.anchor;
    state.owed = reserved.owed;
    if (fresh) this.#insert(key, state, now);
    this.#allowed++;
    const actAt = now + delayMs;
    let cancelled = false;
    return {
      delayMs,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        const current = this.#buckets.get(key);
        if (current === undefined) return; // dropped: nothing to give back to
        current.owed -= refundTokens(current, this.#clock.now(), count, reserved, actAt);
      },
    };
  }

  #waitFor(key: string, count: number): number {
    const now = this.#clock.now();
    const after = takeInto(this.config, this.#buckets.get(key) ?? initialState(this.config, now), now, count, this.#next);
    return after > now ? after - now : 0;
  }

  /** Adds a key, evicting idle (full) buckets without a timer; see key-eviction.ts. */
  #insert(key: string, state: BucketState, now: number): void {
    const dropped = insertWithEviction(this.#buckets, key, state, now, this.#eviction, this.#evicted);
    if (dropped !== undefined) for (const listener of this.#dropListeners) listener({ key: dropped });
  }
}

export function parseKeyAndCount(keyOrN: string | number | undefined, n: number | undefined): { key: string; count: number } {
  return typeof keyOrN === 'string' ? { key: keyOrN, count: n ?? 1 } : { key: DEFAULT_KEY, count: keyOrN ?? 1 };
}

/**
 * Reads the `(n?, options?)` / `(key, n?, options?)` overloads every Bulwark
 * limiter method takes: no key means the default key `''`, no `n` means 1.
 */
export function parseTakeArguments<O extends object>(
  keyOrN: string | number | undefined,
  nOrOptions: number | O | undefined,
  maybeOptions: O | undefined,
): { key: string; count: number; options: Partial<O> } {
  if (typeof keyOrN === 'string') {
    if (typeof nOrOptions === 'object') return { key: keyOrN, count: 1, options: nOrOptions };
    return { key: keyOrN, count: nOrOptions ?? 1, options: maybeOptions ?? {} };
  }
  const options = typeof nOrOptions === 'object' ? nOrOptions : (maybeOptions ?? {});
  return { key: DEFAULT_KEY, count: keyOrN ?? 1, options };
}
