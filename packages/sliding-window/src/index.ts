export { SlidingLog } from './sliding-log.js';
export { SlidingWindowCounter } from './sliding-window-counter.js';
export { createSlidingWindow } from './create.js';
export type { CreateSlidingWindowOptions } from './create.js';
export type { InMemoryWindowLimiter, InMemoryWindowOptions, WindowLimiterStats, WindowLimiterEvents } from './in-memory-limiter.js';
export { RedisSlidingWindow } from './redis-sliding-window.js';
export type { RedisSlidingWindowOptions, RedisRateLimitResult, RedisSlidingWindowEvents } from './redis-sliding-window.js';
export {
  windowConfig,
  checkCount,
  newLog,
  pruneLog,
  appendLog,
  logEntry,
  logRetryAfter,
  logResetMs,
  newCounter,
  rollCounter,
  counterEstimate,
  counterRetryAfter,
  counterResetMs,
  EPSILON,
} from './window.js';
export type { WindowConfig, WindowOptions, LogState, CounterState } from './window.js';
export { SLIDING_LOG_BATCH_LUA, SLIDING_LOG_LUA, WINDOW_COUNTER_BATCH_LUA, WINDOW_COUNTER_LUA, WINDOW_COUNTER_TRY_LUA } from './redis-scripts.js';
// The shared limiter contract, defined once in @bulwark/token-bucket and re-exported
// here unchanged: the same classes, so e.g. isStoreUnavailableError works for both packages.
export {
  STORE_DENY_RETRY_MS,
  rateLimitHeader,
  rateLimitHeaders,
  rateLimitPolicyHeader,
  retryAfterHeader,
  InvalidArgumentError,
  LimiterClosedError,
  StoreUnavailableError,
  WaitExceedsDeadlineError,
  isInvalidArgumentError,
  isLimiterClosedError,
  isStoreUnavailableError,
  isWaitExceedsDeadlineError,
} from '@bulwark/token-bucket';
export type {
  Clock,
  FallbackLimiter,
  HeaderPolicy,
  RateLimitResult,
  RedisCallOptions,
  StoreErrorPolicy,
  TakeOptions,
  TakeResult,
} from '@bulwark/token-bucket';
export type { SlidingWindowAlgorithm } from './types.js';
