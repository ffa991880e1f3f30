import { InMemoryWindowLimiter, type InMemoryWindowOptions } from './in-memory-limiter.js';
import { rateLimitResult } from '@bulwark/token-bucket';
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
    const allowed = estimate + n <= limit + EPSILON;
    let left = limit - estimate;
    let retryAfterMs = 0;
    if (allowed) {
      if (commit) state.current += n;
      left -= n;
    } else retryAfterMs = counterRetryAfter(state, now, this.config, n);
    // One exit for both outcomes (one result call, one reset computation): with an
    // exit per outcome the rejected path measured up to 1.17× the allowed one in
    // interleaved probes (1.23× in the bench); with one, 0.95–1.03×.
    const remaining = Math.floor(left + EPSILON);
    return rateLimitResult(allowed, remaining > 0 ? remaining : 0, retryAfterMs, counterResetMs(state, now, windowMs), limit);
  }

  protected isIdle(state: CounterState, now: number): boolean {
    return now >= state.windowStart + 2 * this.config.windowMs || (state.current === 0 && state.previous === 0);
  }

  protected load(state: CounterState, now: number): number {
    rollCounter(state, now, this.config.windowMs);
    return counterEstimate(state, now, this.config.windowMs);
  }
}
