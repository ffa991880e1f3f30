import * as tokenBucket from '@bulwark/token-bucket';
import { describe, expect, it } from 'vitest';
import * as slidingWindow from './index.js';

describe('the limiter contract shared with @bulwark/token-bucket', () => {
  it('re-exports the very same error classes, guards and header helpers', () => {
    expect(slidingWindow.StoreUnavailableError).toBe(tokenBucket.StoreUnavailableError);
    expect(slidingWindow.InvalidArgumentError).toBe(tokenBucket.InvalidArgumentError);
    expect(slidingWindow.LimiterClosedError).toBe(tokenBucket.LimiterClosedError);
    expect(slidingWindow.WaitExceedsDeadlineError).toBe(tokenBucket.WaitExceedsDeadlineError);
    expect(slidingWindow.isStoreUnavailableError).toBe(tokenBucket.isStoreUnavailableError);
    expect(slidingWindow.rateLimitHeaders).toBe(tokenBucket.rateLimitHeaders);
    expect(slidingWindow.STORE_DENY_RETRY_MS).toBe(tokenBucket.STORE_DENY_RETRY_MS);
  });

  it("a sliding-window error is recognised by token-bucket's guard", () => {
    let caught: unknown;
    try {
      new slidingWindow.SlidingLog({ limit: 0, windowMs: 1000 });
    } catch (error) {
      caught = error;
    }
    expect(tokenBucket.isInvalidArgumentError(caught)).toBe(true);
    expect(caught).toBeInstanceOf(tokenBucket.InvalidArgumentError);
  });

  it('the headers of a sliding-window result name its window', () => {
    const limiter = new slidingWindow.SlidingLog({ limit: 2, windowMs: 60_000, clock: { now: () => 0 } });
    limiter.tryTake();
    limiter.tryTake();
    const headers = slidingWindow.rateLimitHeaders(limiter.tryTake(), { windowMs: 60_000 });
    expect(headers['RateLimit-Policy']).toBe('"default";q=2;w=60');
    expect(headers.RateLimit).toBe('"default";r=0;t=60');
    expect(headers['Retry-After']).toBe('60');
  });
});
