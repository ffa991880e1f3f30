/** A source of monotonic milliseconds. Default: `performance.now()`. */
export interface Clock {
  now(): number;
}

/** The outcome of one `tryTake`. */
export interface RateLimitResult {
  /** Whether the call was admitted (tokens taken / request recorded). A rejected call changes nothing. */
  allowed: boolean;
  /** Whole tokens (or requests in the window) left after this call (the smallest over all policies). */
  remaining: number;
  /** 0 when allowed; otherwise ms until `n` more could be admitted (assuming no other callers). */
  retryAfterMs: number;
  /** Ms until the limiter is back to its idle state (bucket full / window empty). */
  resetMs: number;
  /** The capacity or limit (of the tightest policy when several apply). */
  limit: number;
}

/** A reservation made by `reserve()`: act after `delayMs`, or `cancel()` to give the tokens back. */
export interface Reservation {
  /** How long the caller must wait before acting (0 = now). */
  readonly delayMs: number;
  /** Gives back the tokens if the reservation has not come due yet (later reservations keep their times). */
  cancel(): void;
}

/** What `take()` resolves to. */
export interface TakeResult {
  /** How long the call waited, in ms (by the limiter's clock). */
  waitedMs: number;
}

export interface TakeOptions {
  signal?: AbortSignal;
  /** Fail at once with WaitExceedsDeadlineError (consuming / recording nothing) if the wait would be longer. Default: no limit. */
  maxWaitMs?: number;
}

/** Anything with a synchronous or asynchronous `tryTake(key, n)`: e.g. an in-memory TokenBucket or SlidingLog used as a fallback. */
export interface FallbackLimiter {
  tryTake(key: string, n: number): RateLimitResult | Promise<RateLimitResult>;
}

/** Per-call options of the Redis limiters' `tryTake` (and `RedisReservation.cancel`). */
export interface RedisCallOptions {
  signal?: AbortSignal;
}

/** Payload of the Redis limiters' `storeError` event: Redis failed or timed out; `onStoreError` decided the call. */
export interface StoreErrorEvent {
  error: unknown;
  key: string;
}
