// Public API of @bulwark/redis-lock.

// Application API.
export { createLock, RedisLock } from './redis-lock.js';
export { createSemaphore, RedisSemaphore, SEMAPHORE_SCRIPTS } from './semaphore.js';
export type { RedisSemaphoreOptions } from './semaphore.js';
export type {
  RedisLockOptions,
  LockTimingOptions,
  AutoExtendOptions,
  AcquireOptions,
  LockStats,
  DistributedLock,
} from './redis-lock.js';
export type { Lease } from './lease.js';
export type { LockEvents, Listener } from './events.js';
export type { RetryOptions, RetryPolicy, RetryDecision } from './retry.js';
export type { Clock } from './clock.js';
export type { RedisClient, LockKeys, LockScript, AcquireReply } from './scripts.js';
export { monotonicClock } from './clock.js';
export {
  LockHeldError,
  LockLostError,
  StoreUnavailableError,
  InvalidOptionsError,
  isLockHeldError,
  isLockLostError,
  isStoreUnavailableError,
  isInvalidOptionsError,
} from './errors.js';
export type { LockLostReason } from './errors.js';

// Building blocks: the single-master operations and lease machinery that
// @bulwark/redlock runs on each of its masters. Stable, documented in the README.
export { LOCK_SCRIPTS, lockKeys, runScript, acquireOnce, extendOnce, releaseOnce, raiseFence } from './scripts.js';
export { keySlot } from './slot.js';
export { ManagedLease } from './lease.js';
export type { LeaseBackend, LeaseTiming, ManagedLeaseOptions } from './lease.js';
export { LockBase, SingleRedisLock, resolveLockTiming } from './redis-lock.js';
export type { ResolvedLockTiming } from './redis-lock.js';
export { Emitter } from './events.js';
export { resolveRetry, planRetry, DEFAULT_RETRY } from './retry.js';
export { driftMs, validUntil, hasMinValidity } from './validity.js';
export { withDeadline, sleep, DeadlineExceededError, isDeadlineExceededError } from './timing.js';
export { checkNumber } from './options.js';
