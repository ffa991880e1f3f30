import { InMemoryWindowLimiter, type InMemoryWindowOptions } from './in-memory-limiter.js';
import { rateLimitResult } from '@bulwark/token-bucket';
import type { RateLimitResult } from '@bulwark/token-bucket';
import { appendLog, logResetMs, logRetryAfter, newLog, pruneLog, type LogState } from './window.js';

/**
 * The exact sliding log in memory: one timestamp per admitted request, so no
 * window of `windowMs` ever admits more than `limit`. Memory per busy key is
 * O(limit) (8 bytes per request in the window).
 */
export class SlidingLog extends InMemoryWindowLimiter<LogState> {
  readonly algorithm = 'log' as const;

  constructor(options: InMemoryWindowOptions) {
    super(options);
  }

  protected createState(): LogState {
    return newLog(this.config.limit);
  }

  protected evaluate(log: LogState, now: number, n: number, commit: boolean): RateLimitResult {
    const { limit, windowMs } = this.config;
    pruneLog(log, now, windowMs);
    if (log.size + n <= limit) {
      if (commit) appendLog(log, now, n, limit);
      const counted = commit ? log.size : log.size + n;
      return rateLimitResult(true, limit - counted, 0, commit ? logResetMs(log, now, windowMs) : windowMs, limit);
    }
    return rateLimitResult(false, limit - log.size, logRetryAfter(log, now, this.config, n), logResetMs(log, now, windowMs), limit);
  }

  protected isIdle(log: LogState, now: number): boolean {
    pruneLog(log, now, this.config.windowMs);
    return log.size === 0;
  }

  protected load(log: LogState): number {
    return log.size;
  }
}
