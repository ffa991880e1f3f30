// Sliding-window arithmetic, free of I/O and clocks (every function takes
// `now`). The in-memory limiters and the Redis Lua scripts (redis-scripts.ts)
// implement the same rules.
//
// A window of length W ending at `now` is the half-open interval (now − W, now]:
// a request admitted at t stops counting at t + W.
import { InvalidArgumentError } from '@bulwark/token-bucket';

export interface WindowOptions {
  /** Requests admitted per window. Integer ≥ 1. */
  limit: number;
  /** Window length in ms. > 0. */
  windowMs: number;
}

export interface WindowConfig {
  readonly limit: number;
  readonly windowMs: number;
}

/** Tolerance for float comparisons of estimates (the counter's weighted count). */
export const EPSILON = 1e-9;

export function windowConfig(options: WindowOptions, label = ''): WindowConfig {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError(`${label}options must be an object`);
  const { limit, windowMs } = options;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new InvalidArgumentError(`${label}limit must be an integer >= 1, got ${String(limit)}`);
  }
  if (typeof windowMs !== 'number' || !Number.isFinite(windowMs) || windowMs <= 0) {
    throw new InvalidArgumentError(`${label}windowMs must be a finite number > 0, got ${String(windowMs)}`);
  }
  return { limit, windowMs };
}

/** Throws InvalidArgumentError unless n is an integer in 1..limit. */
export function checkCount(config: WindowConfig, n: number): void {
  if (!(Number.isInteger(n) && n >= 1 && n <= config.limit)) {
    throw new InvalidArgumentError(`n must be an integer in 1..${config.limit} (the limit), got ${String(n)}`);
  }
}

// ---------------------------------------------------------------------------
// Exact sliding log: one timestamp per admitted request, oldest first, kept in
// a ring buffer that grows by doubling up to `limit` entries.

export interface LogState {
  times: Float64Array;
  /** Index of the oldest entry. */
  head: number;
  size: number;
}

export function newLog(limit: number): LogState {
  return { times: new Float64Array(Math.min(limit, 8)), head: 0, size: 0 };
}

/** Drops the entries that left the window at `now`. */
export function pruneLog(log: LogState, now: number, windowMs: number): void {
  const horizon = now - windowMs;
  const times = log.times;
  while (log.size > 0 && times[log.head]! <= horizon) {
    log.head = log.head + 1 === times.length ? 0 : log.head + 1;
    log.size--;
  }
}

/** The i-th oldest entry (0-based); the caller checks i < size. */
export function logEntry(log: LogState, i: number): number {
  const index = log.head + i;
  const length = log.times.length;
  return log.times[index >= length ? index - length : index]!;
}

/** Appends `n` entries at `now` (the caller checked size + n ≤ limit). */
export function appendLog(log: LogState, now: number, n: number, limit: number): void {
  if (log.size + n > log.times.length) {
    const grown = new Float64Array(Math.min(limit, Math.max(log.times.length * 2, log.size + n)));
    for (let i = 0; i < log.size; i++) grown[i] = logEntry(log, i);
    log.times = grown;
    log.head = 0;
  }
  const length = log.times.length;
  for (let i = 0; i < n; i++) {
    let index = log.head + log.size;
    if (index >= length) index -= length;
    log.times[index] = now;
    log.size++;
  }
}

/** Ms until `n` more fit, for a pruned log that is too full now: the entry that must leave last, plus W. */
export function logRetryAfter(log: LogState, now: number, config: WindowConfig, n: number): number {
  const mustLeave = log.size + n - config.limit;
  if (mustLeave <= 0) return 0;
  return logEntry(log, mustLeave - 1) + config.windowMs - now;
}

/** Ms until the (pruned) log is empty. */
export function logResetMs(log: LogState, now: number, windowMs: number): number {
  if (log.size === 0) return 0;
  return logEntry(log, log.size - 1) + windowMs - now;
}

// ---------------------------------------------------------------------------
// Approximate sliding-window counter (Cloudflare's): counts for the current and
// the previous fixed window; the previous one is weighted by the share of it
// the sliding window still overlaps: estimate = previous · (1 − elapsed/W) + current.

export interface CounterState {
  /** Start of the current fixed window: a multiple of W. */
  windowStart: number;
  previous: number;
  current: number;
}

export function newCounter(now: number, windowMs: number): CounterState {
  return { windowStart: Math.floor(now / windowMs) * windowMs, previous: 0, current: 0 };
}

/** Moves the counter to the fixed window that contains `now`. */
export function rollCounter(state: CounterState, now: number, windowMs: number): void {
  const start = Math.floor(now / windowMs) * windowMs;
  if (start === state.windowStart) return;
  state.previous = start - state.windowStart === windowMs ? state.current : 0;
  state.current = 0;
  state.windowStart = start;
}

/** The weighted count at `now` (state already rolled). */
export function counterEstimate(state: CounterState, now: number, windowMs: number): number {
  return state.previous * (1 - (now - state.windowStart) / windowMs) + state.current;
}

/** Ms until `n` more fit, assuming no other admissions (state already rolled). */
export function counterRetryAfter(state: CounterState, now: number, config: WindowConfig, n: number): number {
  const { limit, windowMs } = config;
  const { previous, current, windowStart } = state;
  let at: number;
  if (current + n <= limit + EPSILON) {
    // Within this window, once the previous window's weight has decayed enough.
    if (previous <= 0) return 0;
    at = windowStart + windowMs * (1 - (limit - n - current) / previous);
  } else {
    // In the next window, where this window's count becomes the decaying one.
    const share = current > 0 ? 1 - (limit - n) / current : 0;
    at = windowStart + windowMs + windowMs * (share > 0 ? share : 0);
  }
  return at > now ? at - now : 0;
}

/** Ms until the estimate is 0 again (state already rolled). */
export function counterResetMs(state: CounterState, now: number, windowMs: number): number {
  if (state.current > 0) return state.windowStart + 2 * windowMs - now;
  if (state.previous > 0) return state.windowStart + windowMs - now;
  return 0;
}
