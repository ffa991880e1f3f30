export { TokenBucket, parseTakeArguments } from './token-bucket.js';
export { rateLimitResult } from './result.js';
export { evictionLimits, insertWithEviction } from './key-eviction.js';
export type { EvictionCounters, EvictionPolicy } from './key-eviction.js';
export type { TokenBucketOptions, TokenBucketStats, TokenBucketEvents } from './token-bucket.js';
export { RedisTokenBucket } from './redis-token-bucket.js';
export type { RedisTokenBucketOptions, RedisReservation, RedisTokenBucketEvents } from './redis-token-bucket.js';
export {
  bucketConfig,
  checkCount,
  emptyAt,
  initialState,
  isFull,
  isSettled,
  msUntilFull,
  refundTokens,
  takeInto,
  tokensAt,
  EPSILON_MS,
} from './bucket.js';
export type { BucketConfig, BucketOptions, BucketState } from './bucket.js';
export { TOKEN_BUCKET_BATCH_LUA, TOKEN_BUCKET_LUA, TOKEN_BUCKET_TRY_LUA } from './redis-script.js';
// Coalescing of same-tick decisions into one script call (also used by @bulwark/sliding-window).
export { MAX_BATCH, ScriptBatcher, ScriptSlotError, isSingleNodeClient } from './script-batch.js';
export type { ScriptBatcherOptions } from './script-batch.js';
// The shared limiter contract (also used by @bulwark/sliding-window): store-failure policy and bounded store calls.
export {
  STORE_DENY_RETRY_MS,
  DeadlineQueue,
  RedisLimiterLifecycle,
  abortReason,
  asStoreError,
  boundedCall,
  decideOnStoreError,
  emitStoreError,
  sleep,
  validateRedisClient,
  validateStorePolicy,
  validateStoreTimeout,
} from './store.js';
export type { StoreErrorPolicy } from './store.js';
export { rateLimitHeader, rateLimitHeaders, rateLimitPolicyHeader, retryAfterHeader } from './http.js';
export type { HeaderPolicy } from './http.js';
export {
  InvalidArgumentError,
  LimiterClosedError,
  StoreUnavailableError,
  WaitExceedsDeadlineError,
  isInvalidArgumentError,
  isLimiterClosedError,
  isStoreUnavailableError,
  isWaitExceedsDeadlineError,
} from './errors.js';
export type {
  Clock,
  FallbackLimiter,
  RateLimitResult,
  RedisCallOptions,
  Reservation,
  StoreErrorEvent,
  TakeOptions,
  TakeResult,
} from './types.js';
