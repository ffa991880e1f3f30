/** Stable codes of the errors this package throws. */
export const ERROR_CODES = {
  lockHeld: 'ETCD_LOCK_HELD',
  sessionExpired: 'ETCD_LOCK_SESSION_EXPIRED',
  storeUnavailable: 'ETCD_LOCK_STORE_UNAVAILABLE',
  invalidOptions: 'ETCD_LOCK_INVALID_OPTIONS',
  notLeader: 'ETCD_LOCK_NOT_LEADER',
} as const;

/** Who holds a lock, as read from etcd. */
export interface HolderInfo {
  /** The holder's waiter key, `<prefix>/<lease id in hex>-<n in hex>`. */
  readonly key: string;
  /** The holder's fencing token: the create revision of its key. */
  readonly fencingToken: bigint;
  /** The holder's lease id in hex. */
  readonly leaseId: string;
  /** The `holderId` the holder's session was created with. */
  readonly holderId: string;
}

/** `tryAcquire()` found the lock held (by another session, or by this session for another caller). */
export class LockHeldError extends Error {
  readonly code = ERROR_CODES.lockHeld;
  override readonly name = 'LockHeldError';
  constructor(
    readonly prefix: string,
    /** The current holder, when it could be read in the same round trip. */
    readonly holder: HolderInfo | undefined,
  ) {
    super(
      holder
        ? `lock ${prefix} is held by ${holder.holderId} (key ${holder.key}, fencing token ${holder.fencingToken})`
        : `lock ${prefix} is held by another caller of this session`,
    );
  }
}

/** Why a session ended. */
export type SessionEndReason = 'expired' | 'closed';

/**
 * The session's lease is gone (it expired, etcd reported it revoked, or the session
 * was closed). Every lock taken through it is lost; its keys are (or will be) deleted by etcd.
 */
export class SessionExpiredError extends Error {
  readonly code = ERROR_CODES.sessionExpired;
  override readonly name = 'SessionExpiredError';
  constructor(
    readonly leaseId: string,
    readonly reason: SessionEndReason,
    options?: { cause?: unknown },
  ) {
    super(
      reason === 'closed' ? `session ${leaseId} was closed` : `session ${leaseId} lost its lease`,
      options,
    );
  }
}

/** etcd did not answer within the request timeout (no quorum, no leader, unreachable) or failed. */
export class StoreUnavailableError extends Error {
  readonly code = ERROR_CODES.storeUnavailable;
  override readonly name = 'StoreUnavailableError';
  constructor(
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    super(`etcd ${operation} failed${detail}`, options);
  }
}

/** An option was missing or out of range. Thrown synchronously by the factory that received it. */
export class InvalidOptionsError extends RangeError {
  readonly code = ERROR_CODES.invalidOptions;
  override readonly name = 'InvalidOptionsError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`${option}: ${message}`);
  }
}

/** `proclaim()` on a leadership that was resigned or lost (its key is gone or no longer ours). */
export class NotLeaderError extends Error {
  readonly code = ERROR_CODES.notLeader;
  override readonly name = 'NotLeaderError';
  constructor(
    readonly prefix: string,
    readonly key: string,
  ) {
    super(`not the leader of ${prefix} any more (key ${key} was resigned, expired or replaced)`);
  }
}

function hasCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === code;
}

export function isLockHeldError(error: unknown): error is LockHeldError {
  return hasCode(error, ERROR_CODES.lockHeld);
}
export function isSessionExpiredError(error: unknown): error is SessionExpiredError {
  return hasCode(error, ERROR_CODES.sessionExpired);
}
export function isStoreUnavailableError(error: unknown): error is StoreUnavailableError {
  return hasCode(error, ERROR_CODES.storeUnavailable);
}
export function isInvalidOptionsError(error: unknown): error is InvalidOptionsError {
  return hasCode(error, ERROR_CODES.invalidOptions);
}
export function isNotLeaderError(error: unknown): error is NotLeaderError {
  return hasCode(error, ERROR_CODES.notLeader);
}
