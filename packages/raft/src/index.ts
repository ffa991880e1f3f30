export { RawNode } from './raw-node.js';
export type { Ready, RaftStatus } from './raw-node.js';
export type { RaftOptions, ReadOnlyOption } from './raft.js';
export { MemoryStorage } from './storage.js';
export type { Storage, WritableStorage } from './storage.js';
export { seededRandom } from './random.js';
export type { RandomSource } from './random.js';
export { encodeConfChange, decodeConfChange } from './conf-change.js';
export type { ConfChange, ConfChangeSingle, ConfChangeType, ConfChangeTransition } from './conf-change.js';
export { NONE, message, isEmptyHardState, isEmptySnapshot, emptyConfState } from './types.js';
export type {
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NodeId,
  ReadState,
  Snapshot,
  SnapshotChunk,
  SnapshotMetadata,
  SoftState,
  StateType,
} from './types.js';
export type { ProgressState } from './progress.js';
export {
  RaftError,
  ProposalDroppedError,
  CompactedError,
  UnavailableError,
  SnapshotOutOfDateError,
  SnapshotTemporarilyUnavailableError,
  ConfChangeError,
  isRaftError,
  isProposalDroppedError,
  isCompactedError,
  isUnavailableError,
  isSnapshotOutOfDateError,
  isSnapshotTemporarilyUnavailableError,
  isConfChangeError,
} from './errors.js';
export type { ProposalDropReason } from './errors.js';
