export { createSession, Session } from './session.js';
export type { SessionOptions, SessionState, SessionStats, SessionEvents, RpcKind } from './session.js';
export { mutex } from './mutex.js';
export type { Mutex, Lease, AcquireOptions } from './mutex.js';
export { rwlock } from './rwlock.js';
export type { RwLock } from './rwlock.js';
export { election } from './election.js';
export type { Election, Leadership, LeaderInfo } from './election.js';
export {
  ERROR_CODES,
  LockHeldError,
  SessionExpiredError,
  StoreUnavailableError,
  InvalidOptionsError,
  NotLeaderError,
  isLockHeldError,
  isSessionExpiredError,
  isStoreUnavailableError,
  isInvalidOptionsError,
  isNotLeaderError,
} from './errors.js';
export type { HolderInfo, SessionEndReason } from './errors.js';
export type { Clock } from './clock.js';
