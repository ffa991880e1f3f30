// The token-bucket arithmetic, free of I/O and of clocks: every function takes
// `now` from its caller. The in-memory limiter and the Redis Lua script
// (redis-script.ts) implement the same formulas.
//
// A bucket is described by `emptyAt`: the instant at which it held (or, when
// that lies in the future, will again hold) zero tokens under continuous
// refill. Tokens at `now` are min(capacity, (now - emptyAt) / msPerToken).
// Refill is never accumulated call by call, so fractional rates do not drift;
// taking n tokens moves `emptyAt` forward by n · msPerToken, and a future
// `emptyAt` is a debt owed by reservations (Go's x/time/rate does the same with
// negative tokens).
import { InvalidArgumentError } from './errors.js';

export interface BucketConfig {
  /** Maximum tokens the bucket holds: the largest burst. */
  readonly capacity: number;
  /** Milliseconds to refill one token. */
  readonly msPerToken: number;
  /** Milliseconds to refill an empty bucket: capacity · msPerToken. */
  readonly fillMs: number;
  /** Tokens a bucket starts with when its key is first seen (or after it was dropped). */
  readonly initialTokens: number;
}

/** Tolerance for float comparisons: one nanosecond. Over-admits at most 1e-6 ms worth of tokens, never a whole one. */
export const EPSILON_MS = 1e-6;

export interface BucketOptions {
  /** Maximum tokens (the burst size). > 0. */
  capacity: number;
  /** Tokens added per `intervalMs`. > 0, fractional allowed. */
  refillRate: number;
  /** Refill interval in ms. Default 1000. */
  intervalMs?: number;
  /** Tokens a new key starts with, 0..capacity. Default capacity. */
  initialTokens?: number;
}

function positiveFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a finite number > 0, got ${String(value)}`);
  }
  return value;
}

/** Validates options and precomputes the constants. Throws InvalidArgumentError naming the option. */
export function bucketConfig(options: BucketOptions, label = ''): BucketConfig {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${label}options must be an object`);
  const capacity = positiveFinite(`${label}capacity`, options.capacity);
  const refillRate = positiveFinite(`${label}refillRate`, options.refillRate);
  const intervalMs = positiveFinite(`${label}intervalMs`, options.intervalMs ?? 1000);
  const initialTokens = options.initialTokens ?? capacity;
  if (typeof initialTokens !== 'number' || !(initialTokens >= 0 && initialTokens <= capacity)) {
    throw new InvalidArgumentError(`${label}initialTokens must be a number in 0..capacity (${capacity}), got ${String(initialTokens)}`);
  }
  const msPerToken = intervalMs / refillRate;
  return { capacity, msPerToken, fillMs: capacity * msPerToken, initialTokens };
}

/** Throws InvalidArgumentError unless 0 < n ≤ capacity. */
export function checkCount(config: BucketConfig, n: number): void {
  if (!(n > 0 && n <= config.capacity)) {
    throw new InvalidArgumentError(`n must be a number in (0, ${config.capacity}] (the capacity), got ${String(n)}`);
  }
}

/**
 * One bucket's state. `emptyAt` = anchor + owed · msPerToken: `owed` only ever
 * changes by whole takes (n) and `anchor` only when the bucket is full, so the
 * instant is computed with one rounding instead of accumulating one per call.
 */
export interface BucketState {
  anchor: number;
  owed: number;
}

export function emptyAt(config: BucketConfig, state: BucketState): number {
  return state.anchor + state.owed * config.msPerToken;
}

/** State of a bucket seen for the first time at `now`. */
export function initialState(config: BucketConfig, now: number): BucketState {
  return { anchor: now, owed: -config.initialTokens };
}

/** Whether the bucket is full at `now`: it then equals a bucket never seen (when initialTokens = capacity). */
export function isFull(config: BucketConfig, state: BucketState, now: number): boolean {
  return emptyAt(config, state) <= now - config.fillMs + EPSILON_MS;
}

/**
 * Writes into `out` the state after taking `n` tokens at `now` (possibly in
 * debt: emptyAt in the future). A full bucket is re-anchored at `now` first so
 * it never holds more than `capacity`. Returns the new emptyAt.
 */
export function takeInto(config: BucketConfig, state: BucketState, now: number, n: number, out: BucketState): number {
  if (isFull(config, state, now)) {
    out.anchor = now;
    out.owed = n - config.capacity;
  } else {
    out.anchor = state.anchor;
    out.owed = state.owed + n;
  }
  return out.anchor + out.owed * config.msPerToken;
}

/** Whether a bucket whose emptyAt is this value owes nothing at `now`. */
export function isSettled(emptyAtValue: number, now: number): boolean {
  return emptyAtValue <= now + EPSILON_MS;
}

/** Whole tokens available at `now` (0 when in debt). */
export function tokensAt(config: BucketConfig, state: BucketState, now: number): number {
  if (isFull(config, state, now)) return Math.floor(config.capacity + 1e-9);
  const tokens = (now - emptyAt(config, state)) / config.msPerToken;
  return tokens <= 0 ? 0 : Math.floor(tokens + 1e-9);
}

/** Milliseconds until the bucket is full again. */
export function msUntilFull(config: BucketConfig, state: BucketState, now: number): number {
  const ms = emptyAt(config, state) + config.fillMs - now;
  return ms > 0 ? ms : 0;
}

/**
 * Tokens a cancelled reservation gives back (Go's rule): none once its act
 * time has passed; otherwise `n` minus the tokens that later takes already
 * drew after it (they were promised times that assumed this reservation).
 * `reserved` is the bucket state right after the reservation.
 */
export function refundTokens(state: BucketState, now: number, n: number, reserved: BucketState, actAt: number): number {
  if (now > actAt || state.anchor !== reserved.anchor) return 0;
  const laterTokens = state.owed - reserved.owed;
  const refund = n - (laterTokens > 0 ? laterTokens : 0);
  return refund > 0 ? refund : 0;
}
