// The store-failure contract shared by Bulwark's Redis-backed limiters (this
// package's RedisTokenBucket and @bulwark/sliding-window's RedisSlidingWindow):
// bounded waiting on the store, the `onStoreError` policy, and abortable sleeps.
import { InvalidArgumentError, LimiterClosedError, StoreUnavailableError } from './errors.js';
import { rateLimitResult } from './result.js';
import type { FallbackLimiter, RateLimitResult, StoreErrorEvent } from './types.js';

/** What to do when Redis fails or does not answer within `timeoutMs`. */
export type StoreErrorPolicy = 'allow' | 'deny' | 'throw' | FallbackLimiter;

/** Retry-After handed out by `onStoreError: 'deny'`. */
export const STORE_DENY_RETRY_MS = 1000;

/** Checks an `onStoreError` option; throws InvalidArgumentError naming the accepted values. */
export function validateStorePolicy(policy: StoreErrorPolicy): StoreErrorPolicy {
  if (policy === 'allow' || policy === 'deny' || policy === 'throw') return policy;
  if (typeof policy === 'object' && policy !== null && typeof policy.tryTake === 'function') return policy;
  throw new InvalidArgumentError("onStoreError must be 'allow', 'deny', 'throw' or a limiter with tryTake(key, n)");
}

/** Checks the `client` option: anything with ioredis's `defineCommand` (a `Redis` or a `Cluster`). */
export function validateRedisClient<C>(client: C): C {
  const value = client as unknown;
  if (typeof value !== 'object' || value === null || typeof (value as { defineCommand?: unknown }).defineCommand !== 'function') {
    throw new InvalidArgumentError('client must be an ioredis Redis or Cluster instance');
  }
  return client;
}

/** Checks a store `timeoutMs` option (default 1000) and returns it. */
export function validateStoreTimeout(timeoutMs: number | undefined): number {
  const value = timeoutMs ?? 1000;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`timeoutMs must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

/** `signal.reason` as an Error (it is one unless a caller aborted with something else). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(typeof reason === 'string' ? reason : 'This operation was aborted', 'AbortError');
}

interface Pending {
  deadline: number;
  done: boolean;
  fail: (error: Error) => void;
}

/**
 * Deadlines for store calls without a timer per call: every call gets the same
 * timeout, so deadlines arrive in insertion order and one unref'd timer, armed
 * for the oldest pending call, serves them all. Settled calls are dropped from
 * the head as they settle (Redis answers in order), so the queue stays short
 * and its entries die young instead of piling up for a whole `timeoutMs`.
 */
export class DeadlineQueue {
  #items: Pending[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly timeoutMs: number) {}

  add(fail: (error: Error) => void): Pending {
    const pending: Pending = { deadline: performance.now() + this.timeoutMs, done: false, fail };
    this.#items.push(pending);
    if (this.#timer === undefined) this.#arm(pending.deadline);
    return pending;
  }

  /** Marks `pending` settled (it will not fail) and drops settled calls from the head. */
  settle(pending: Pending): void {
    pending.done = true;
    const items = this.#items;
    let head = this.#head;
    while (head < items.length && items[head]!.done) head++;
    if (head === items.length) {
      items.length = 0;
      head = 0;
    } else if (head > 1024 && head * 2 > items.length) {
      this.#items = items.slice(head);
      head = 0;
    }
    this.#head = head;
  }

  #arm(deadline: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, Math.ceil(deadline - performance.now())));
    this.#timer.unref();
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    const items = this.#items;
    while (this.#head < items.length) {
      const pending = items[this.#head]!;
      if (!pending.done && pending.deadline > now) break;
      this.#head++;
      if (!pending.done) {
        pending.done = true;
        pending.fail(new StoreUnavailableError(`the store did not answer within ${this.timeoutMs} ms`));
      }
    }
    if (this.#head === items.length) {
      this.#items = [];
      this.#head = 0;
    } else {
      if (this.#head > 1024) {
        this.#items = items.slice(this.#head);
        this.#head = 0;
      }
      this.#arm(this.#items[this.#head]!.deadline);
    }
  }
}

/** Resolves like `promise`, or rejects when its deadline passes / on abort. Never leaves a rejection unhandled. */
export function boundedCall<T>(promise: Promise<T>, deadlines: DeadlineQueue, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      if (pending.done) return;
      deadlines.settle(pending);
      reject(abortReason(signal));
    };
    const pending = deadlines.add((error) => {
      signal?.removeEventListener('abort', onAbort);
      reject(error);
    });
    if (signal !== undefined) signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        if (pending.done) return;
        deadlines.settle(pending);
        signal?.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        if (pending.done) return;
        deadlines.settle(pending);
        signal?.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** The decision `onStoreError` prescribes for one call. */
export async function decideOnStoreError(
  policy: StoreErrorPolicy,
  error: unknown,
  key: string,
  n: number,
  limit: number,
): Promise<RateLimitResult> {
  if (policy === 'allow') return rateLimitResult(true, 0, 0, 0, limit);
  if (policy === 'deny') return rateLimitResult(false, 0, STORE_DENY_RETRY_MS, STORE_DENY_RETRY_MS, limit);
  if (policy === 'throw') throw asStoreError(error);
  return await policy.tryTake(key, n);
}

/** `error` as a StoreUnavailableError (kept as `cause`), unless it already is one. */
export function asStoreError(error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(`the store failed: ${message}`, { cause: error });
}

/** Sleeps `ms` with an unref'd timer; rejects with `signal.reason` on abort or `closed()` when the owner closes. */
export function sleep(ms: number, signal: AbortSignal | undefined, register: (cancel: (error: Error) => void) => () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const onAbort = (): void => finish(abortReason(signal));
    const timer = setTimeout(() => finish(undefined), Math.ceil(ms));
    timer.unref();
    const unregister = register((error) => finish(error));
    function finish(error: Error | undefined): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unregister();
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error);
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Tells every `storeError` listener; a throwing listener must not change the decision, so its error is dropped. */
export function emitStoreError(listeners: Iterable<(event: StoreErrorEvent) => void>, error: unknown, key: string): void {
  for (const listener of listeners) {
    try {
      listener({ error, key });
    } catch {
      // a throwing listener must not change the decision
    }
  }
}

/**
 * What a Redis limiter keeps besides its scripts, shared by RedisTokenBucket and
 * the sliding-window Redis limiters: `storeError` listeners, the `take`s sleeping
 * before a retry or their reservation's time (close() rejects them), and whether
 * it is closed.
 */
export class RedisLimiterLifecycle {
  readonly #waiters = new Set<(error: Error) => void>();
  readonly #storeErrorListeners = new Set<(event: StoreErrorEvent) => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  /** How many `take`s are sleeping. */
  get waiting(): number {
    return this.#waiters.size;
  }

  /** Adds a `storeError` listener (the only event); returns a function that removes it. */
  on(event: string, listener: (event: StoreErrorEvent) => void): () => void {
    if (event !== 'storeError') throw new InvalidArgumentError(`unknown event ${String(event)}`);
    this.#storeErrorListeners.add(listener);
    return () => {
      this.#storeErrorListeners.delete(listener);
    };
  }

  emitStoreError(error: unknown, key: string): void {
    emitStoreError(this.#storeErrorListeners, error, key);
  }

  /** Sleeps `ms` (rejecting on abort, or with LimiterClosedError when the limiter closes meanwhile). */
  sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return sleep(ms, signal, (cancel) => {
      this.#waiters.add(cancel);
      return () => this.#waiters.delete(cancel);
    });
  }

  /** Marks the limiter closed and rejects every sleeping `take` with LimiterClosedError. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const cancel of [...this.#waiters]) cancel(new LimiterClosedError());
    await Promise.resolve();
  }
}
