/** Base class of every error this package throws on purpose. */
export class RaftError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

export type ProposalDropReason =
  | 'no-leader'
  | 'forwarding-disabled'
  | 'not-leader'
  | 'leader-transfer-in-progress'
  | 'not-in-configuration'
  | 'uncommitted-size-limit'
  | 'conf-change-pending'
  | 'invalid-conf-change';

/**
 * The proposal (or read / transfer request) was not accepted: there is no known leader, a
 * leadership transfer is in progress, the uncommitted-size limit is reached, or a configuration
 * change is already pending. Nothing was appended; the caller may retry.
 */
export class ProposalDroppedError extends RaftError {
  readonly reason: ProposalDropReason;
  constructor(reason: ProposalDropReason) {
    super('ERR_RAFT_PROPOSAL_DROPPED', `raft proposal dropped: ${reason}`);
    this.reason = reason;
  }
}

/** The requested index is older than the storage's first index (it was compacted away). */
export class CompactedError extends RaftError {
  constructor(index: number) {
    super('ERR_RAFT_COMPACTED', `requested index ${index} is unavailable due to compaction`);
  }
}

/** The requested index is beyond the storage's last index. */
export class UnavailableError extends RaftError {
  constructor(index: number) {
    super('ERR_RAFT_UNAVAILABLE', `requested entry at index ${index} is unavailable`);
  }
}

/** A snapshot older than the one already held was handed to the storage. */
export class SnapshotOutOfDateError extends RaftError {
  constructor(index: number, current: number) {
    super('ERR_RAFT_SNAPSHOT_OUT_OF_DATE', `snapshot at ${index} is older than the current snapshot at ${current}`);
  }
}

/** The storage cannot produce a snapshot right now; Raft retries later. */
export class SnapshotTemporarilyUnavailableError extends RaftError {
  constructor() {
    super('ERR_RAFT_SNAPSHOT_TEMPORARILY_UNAVAILABLE', 'snapshot is temporarily unavailable');
  }
}

/** A configuration change that would break a safety rule (or is malformed). */
export class ConfChangeError extends RaftError {
  constructor(message: string) {
    super('ERR_RAFT_CONF_CHANGE', message);
  }
}

export function isRaftError(e: unknown): e is RaftError {
  return e instanceof RaftError;
}
export function isProposalDroppedError(e: unknown): e is ProposalDroppedError {
  return e instanceof ProposalDroppedError;
}
export function isCompactedError(e: unknown): e is CompactedError {
  return e instanceof CompactedError;
}
export function isUnavailableError(e: unknown): e is UnavailableError {
  return e instanceof UnavailableError;
}
export function isSnapshotOutOfDateError(e: unknown): e is SnapshotOutOfDateError {
  return e instanceof SnapshotOutOfDateError;
}
export function isSnapshotTemporarilyUnavailableError(e: unknown): e is SnapshotTemporarilyUnavailableError {
  return e instanceof SnapshotTemporarilyUnavailableError;
}
export function isConfChangeError(e: unknown): e is ConfChangeError {
  return e instanceof ConfChangeError;
}
