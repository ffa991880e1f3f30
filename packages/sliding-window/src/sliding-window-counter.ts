import { InMemoryWindowLimiter, type InMemoryWindowOptions } from './in-memory-limiter.js';
import type { RateLimitResult } from '@bulwark/token-bucket';
import {
  EPSILON,
  counterEstimate,
  counterResetMs,
  counterRetryAfter,
  newCounter,
  rollCounter,
  type CounterState,
} from './window.js';

/**
 * The approximate sliding-window counter in memory (Cloudflare's): two counts
 * per key, the previous fixed window weighted by how much of it the sliding
 * window still covers. O(1) memory per key; exact when traffic within a window
 * is even, and off by at most the previous window's unevenness otherwise.
 */
export class SlidingWindowCounter extends InMemoryWindowLimiter<CounterState> {
  readonly algorithm = 'counter' as const;

  constructor(options: InMemoryWindowOptions) {
    super(options);
  }

  protected createState(now: number): CounterState {
    return newCounter(now, this.config.windowMs);
  }

  protected evaluate(state: CounterState, now: number, n: number, commit: boolean): RateLimitResult {
    const { limit, windowMs } = this.config;
    rollCounter(state, now, windowMs);
    const estimate = counterEstimate(state, now, windowMs);
    if (estimate + n <= limit + EPSILON) {
      if (commit) state.current += n;
      const remaining = Math.floor(limit - estimate - n + EPSILON);
      return { allowed: true, remaining: remaining > 0 ? remaining : 0, retryAfterMs: 0, resetMs: counterResetMs(state, now, windowMs), limit };
    }
    const remaining = Math.floor(limit - estimate + EPSILON);
    return {
      allowed: false,
      remaining: remaining > 0 ? remaining : 0,
      retryAfterMs: counterRetryAfter(state, now, this.config, n),
      resetMs: counterResetMs(state, now, windowMs),
      limit,
    };
  }

  protected isIdle(state: CounterState, now: number): boolean {
    return now >= state.windowStart + 2 * this.config.windowMs || (state.current === 0 && state.previous === 0);
  }

  protected load(state: CounterState, now: number): number {
    rollCounter(state, now, this.config.windowMs);
    return counterEstimate(state, now, this.config.windowMs);
  }
}
