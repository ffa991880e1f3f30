// Public API of @bulwark/redlock.
export { createRedlock, Redlock } from './redlock.js';
export type { RedlockOptions } from './redlock.js';
export { QuorumUnavailableError, isQuorumUnavailableError } from './errors.js';
export { quorumOf, decide, runRound } from './quorum.js';
export type { Vote, RoundDecision, Tally } from './quorum.js';
// Shared with @bulwark/redis-lock, re-exported so one import covers a Redlock user.
export {
  LockHeldError,
  LockLostError,
  InvalidOptionsError,
  isLockHeldError,
  isLockLostError,
  isInvalidOptionsError,
  monotonicClock,
} from '@bulwark/redis-lock';
export type {
  Lease,
  LockEvents,
  LockStats,
  AcquireOptions,
  AutoExtendOptions,
  RetryOptions,
  Clock,
  RedisClient,
  DistributedLock,
} from '@bulwark/redis-lock';
