import {
  InvalidArgumentError,
  LimiterClosedError,
  WaitExceedsDeadlineError,
  abortReason,
  evictionLimits,
  insertWithEviction,
  parseTakeArguments,
  rateLimitResult,
} from '@bulwark/token-bucket';
import type { Clock, EvictionCounters, EvictionPolicy, RateLimitResult, TakeOptions, TakeResult } from '@bulwark/token-bucket';
import { checkCount, windowConfig, type WindowConfig, type WindowOptions } from './window.js';

export interface InMemoryWindowOptions extends WindowOptions {
  /** Time source in ms. Default: monotonic `performance.now()`. */
  clock?: Clock;
  /**
   * Most keys held at once. Idle keys (nothing left in their window) are
   * dropped lazily; at the cap the scanned key counting the fewest requests
   * goes. Default 100 000.
   */
  maxKeys?: number;
  /**
   * A key that has counted nothing for this long is dropped lazily (nothing is
   * lost: an empty window equals an absent key; the delay only avoids
   * re-creating busy keys). Default 1000 ms.
   */
  idleMs?: number;
}

export interface WindowLimiterStats {
  keys: number;
  waiters: number;
  allowed: number;
  rejected: number;
  droppedIdle: number;
  droppedActive: number;
}

export interface WindowLimiterEvents {
  /** A key still counting requests was dropped to respect `maxKeys`. */
  dropActive: { key: string };
}

interface Waiter {
  n: number;
  deadline: number;
  startedAt: number;
  resolve: (result: TakeResult) => void;
  reject: (error: Error) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

interface Queue {
  waiters: Waiter[];
  timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer fires (by the limiter's clock). */
  wakeAt: number;
}

const DEFAULT_KEY = '';
const performanceClock: Clock = { now: () => performance.now() };

/**
 * The part both in-memory limiters share: many keys in one Map with no timer
 * per key (state is updated lazily on each call), bounded memory, and a FIFO
 * queue per key for `take` that only exists while someone waits.
 */
export abstract class InMemoryWindowLimiter<State> {
  readonly config: WindowConfig;
  protected readonly clock: Clock;
  readonly #eviction: EvictionPolicy<State>;
  readonly #evicted: EvictionCounters = { droppedIdle: 0, droppedActive: 0 };
  readonly #states = new Map<string, State>();
  readonly #queues = new Map<string, Queue>();
  readonly #dropListeners = new Set<(event: WindowLimiterEvents['dropActive']) => void>();
  #closed = false;
  #allowed = 0;
  #rejected = 0;

  constructor(options: InMemoryWindowOptions) {
    this.config = windowConfig(options);
    this.clock = options.clock ?? performanceClock;
    if (typeof this.clock.now !== 'function') throw new InvalidArgumentError('clock must have a now() method');
    // An idle window equals an absent key; keys with waiters stay; at maxKeys the
    // key counting the fewest requests goes, as its loss over-admits the least.
    this.#eviction = {
      ...evictionLimits(options),
      isIdle: (state, at) => this.isIdle(state, at),
      dropCost: (state, now) => this.load(state, now),
      isPinned: (key) => this.#queues.has(key),
    };
  }

  protected abstract createState(now: number): State;
  /** Brings the state to `now`, decides, and records `n` if allowed and `commit`. */
  protected abstract evaluate(state: State, now: number, n: number, commit: boolean): RateLimitResult;
  /** Whether nothing in the state counts any more at `now` (the key can be dropped). */
  protected abstract isIdle(state: State, now: number): boolean;
  /** How many requests the state still counts (dropping the smallest over-admits the least). */
  protected abstract load(state: State, now: number): number;

  /** Admits `n` requests (default 1) if the window has room; otherwise records nothing. Throws only for a bad `n`. */
  tryTake(n?: number): RateLimitResult;
  tryTake(key: string, n?: number): RateLimitResult;
  tryTake(keyOrN?: string | number, n?: number): RateLimitResult {
    let key = DEFAULT_KEY;
    let count: number;
    if (typeof keyOrN === 'string') {
      key = keyOrN;
      count = n ?? 1;
    } else count = keyOrN ?? 1;
    checkCount(this.config, count);
    const now = this.clock.now();
    let state = this.#states.get(key);
    const fresh = state === undefined;
    state ??= this.createState(now);
    if (this.#queues.size > 0) {
      const queue = this.#queues.get(key);
      if (queue !== undefined) {
        // Waiters come first (FIFO): report when the queue will be looked at next.
        const peek = this.evaluate(state, now, count, false);
        this.#rejected++;
        return rateLimitResult(false, peek.remaining, Math.max(peek.retryAfterMs, queue.wakeAt - now, 0), peek.resetMs, peek.limit);
      }
    }
    const result = this.evaluate(state, now, count, true);
    if (result.allowed) {
      this.#allowed++;
      if (fresh) this.#insert(key, state, now);
    } else this.#rejected++;
    return result;
  }

  /**
   * Waits (FIFO per key) until `n` requests fit, and records them. Rejects at
   * once, recording nothing, with WaitExceedsDeadlineError when the wait would
   * exceed `maxWaitMs`; rejects with `signal.reason` on abort.
   */
  take(n?: number, options?: TakeOptions): Promise<TakeResult>;
  take(key: string, n?: number, options?: TakeOptions): Promise<TakeResult>;
  take(keyOrN?: string | number, nOrOptions?: number | TakeOptions, maybeOptions?: TakeOptions): Promise<TakeResult> {
    try {
      const { key, count, options } = parseTakeArguments(keyOrN, nOrOptions, maybeOptions);
      checkCount(this.config, count);
      const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
      if (!(maxWaitMs >= 0)) throw new InvalidArgumentError(`maxWaitMs must be a number >= 0, got ${String(maxWaitMs)}`);
      if (this.#closed) throw new LimiterClosedError();
      const signal = options.signal;
      signal?.throwIfAborted();
      const now = this.clock.now();
      let queue = this.#queues.get(key);
      if (queue === undefined) {
        const result = this.tryTake(key, count);
        if (result.allowed) return Promise.resolve({ waitedMs: 0 });
        if (result.retryAfterMs > maxWaitMs) throw new WaitExceedsDeadlineError(result.retryAfterMs, maxWaitMs);
        queue = { waiters: [], timer: undefined, wakeAt: now };
        this.#queues.set(key, queue);
        this.#schedule(key, queue, result.retryAfterMs);
      } else if (queue.wakeAt - now > maxWaitMs) {
        // Everyone ahead waits at least until then: fail fast.
        throw new WaitExceedsDeadlineError(queue.wakeAt - now, maxWaitMs);
      }
      const waitingQueue = queue;
      return new Promise<TakeResult>((resolve, reject) => {
        const waiter: Waiter = {
          n: count,
          deadline: now + maxWaitMs,
          startedAt: now,
          resolve,
          reject,
          signal,
          onAbort: () => {
            const index = waitingQueue.waiters.indexOf(waiter);
            if (index >= 0) waitingQueue.waiters.splice(index, 1);
            this.#settle(waiter, abortReason(signal));
            if (waitingQueue.waiters.length === 0) this.#dropQueue(key, waitingQueue);
          },
        };
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        waitingQueue.waiters.push(waiter);
      });
    } catch (error) {
      // Re-rejects exactly what was thrown above (our errors or the caller's abort reason).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** Listens for events; returns a function that removes the listener. */
  on<E extends keyof WindowLimiterEvents>(event: E, listener: (payload: WindowLimiterEvents[E]) => void): () => void {
    if (event !== 'dropActive') throw new InvalidArgumentError(`unknown event ${String(event)}`);
    this.#dropListeners.add(listener);
    return () => {
      this.#dropListeners.delete(listener);
    };
  }

  stats(): WindowLimiterStats {
    let waiters = 0;
    for (const queue of this.#queues.values()) waiters += queue.waiters.length;
    return {
      keys: this.#states.size,
      waiters,
      allowed: this.#allowed,
      rejected: this.#rejected,
      droppedIdle: this.#evicted.droppedIdle,
      droppedActive: this.#evicted.droppedActive,
    };
  }

  toJSON(): WindowLimiterStats & WindowConfig {
    return { ...this.stats(), ...this.config };
  }

  /** Rejects every waiting `take` with LimiterClosedError; later `take`s reject too. */
  close(): Promise<void> {
    this.#closed = true;
    for (const [key, queue] of [...this.#queues]) {
      const waiters = queue.waiters.splice(0);
      this.#dropQueue(key, queue);
      for (const waiter of waiters) this.#settle(waiter, new LimiterClosedError());
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #schedule(key: string, queue: Queue, delayMs: number): void {
    const ms = Math.max(1, Math.ceil(delayMs));
    queue.wakeAt = this.clock.now() + ms;
    queue.timer = setTimeout(() => this.#pump(key, queue), ms);
    queue.timer.unref();
  }

  /** Serves the queue head as far as the window allows, fails waiters whose deadline cannot be met, re-arms the timer. */
  #pump(key: string, queue: Queue): void {
    queue.timer = undefined;
    const now = this.clock.now();
    let state = this.#states.get(key);
    const fresh = state === undefined;
    state ??= this.createState(now);
    while (queue.waiters.length > 0) {
      const head = queue.waiters[0]!;
      const result = this.evaluate(state, now, head.n, true);
      if (result.allowed) {
        queue.waiters.shift();
        this.#allowed++;
        if (fresh && !this.#states.has(key)) this.#insert(key, state, now);
        this.#settle(head, undefined, now);
        continue;
      }
      const wakeAt = now + Math.max(1, result.retryAfterMs);
      for (const waiter of [...queue.waiters]) {
        if (waiter.deadline < wakeAt) {
          queue.waiters.splice(queue.waiters.indexOf(waiter), 1);
          this.#settle(waiter, new WaitExceedsDeadlineError(wakeAt - waiter.startedAt, waiter.deadline - waiter.startedAt));
        }
      }
      if (queue.waiters.length > 0) {
        this.#schedule(key, queue, result.retryAfterMs);
        return;
      }
    }
    this.#dropQueue(key, queue);
  }

  #settle(waiter: Waiter, error: Error | undefined, now = this.clock.now()): void {
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    if (error === undefined) waiter.resolve({ waitedMs: now - waiter.startedAt });
    else waiter.reject(error);
  }

  #dropQueue(key: string, queue: Queue): void {
    if (queue.timer !== undefined) clearTimeout(queue.timer);
    queue.timer = undefined;
    if (this.#queues.get(key) === queue) this.#queues.delete(key);
  }

  /** Adds a key, evicting idle keys without a timer (see @bulwark/token-bucket's insertWithEviction). */
  #insert(key: string, state: State, now: number): void {
    const dropped = insertWithEviction(this.#states, key, state, now, this.#eviction, this.#evicted);
    if (dropped !== undefined) for (const listener of this.#dropListeners) listener({ key: dropped });
  }
}
