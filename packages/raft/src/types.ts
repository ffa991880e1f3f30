/** A node id. `0` means "none" (no leader, no vote). */
export type NodeId = number;

/** The id that means "no node". */
export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'confChange';

/** One log entry. `data` is opaque to Raft, except for `confChange` entries (see `encodeConfChange`). */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be persisted before any message of the same Ready is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
}

export type StateType = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state, useful for logging and routing; never persisted. */
export interface SoftState {
  readonly lead: NodeId;
  readonly state: StateType;
}

/** The membership of the cluster as recorded in a snapshot. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  /** Voters of the outgoing configuration while in a joint configuration, else empty. */
  readonly votersOutgoing: readonly NodeId[];
  /** Nodes that become learners when the joint configuration is left. */
  readonly learnersNext: readonly NodeId[];
  readonly autoLeave: boolean;
}

export interface SnapshotMetadata {
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

/** An application snapshot of the state machine at `metadata.index`. */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}

/** The result of a linearizable read request: reads may be served once `applied >= index`. */
export interface ReadState {
  readonly index: number;
  readonly requestCtx: Uint8Array;
}

export type MessageType =
  | 'MsgHup'
  | 'MsgBeat'
  | 'MsgProp'
  | 'MsgApp'
  | 'MsgAppResp'
  | 'MsgVote'
  | 'MsgVoteResp'
  | 'MsgPreVote'
  | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat'
  | 'MsgHeartbeatResp'
  | 'MsgTransferLeader'
  | 'MsgTimeoutNow'
  | 'MsgReadIndex'
  | 'MsgReadIndexResp';

/** A Raft message. Fields not used by a message type are zero / empty. */
export interface Message {
  readonly type: MessageType;
  readonly to: NodeId;
  readonly from: NodeId;
  readonly term: number;
  /** Term of the entry at `index` (MsgApp), the candidate's last log term (votes), or a conflict hint (rejecting MsgAppResp). */
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly snapshot?: Snapshot;
  /**
   * On a chunked MsgSnap: where `snapshot.data` (one chunk) sits in the whole snapshot data of
   * `totalBytes`. The follower installs the snapshot once every chunk arrived.
   */
  readonly chunk?: SnapshotChunk;
  readonly context?: Uint8Array;
}

export interface SnapshotChunk {
  readonly offset: number;
  readonly totalBytes: number;
}

const NO_ENTRIES: readonly Entry[] = Object.freeze([]);

/** Fills the fields a message type does not use (one object shape for every message). */
export function message(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  const m: { -readonly [K in keyof Message]: Message[K] } = {
    type: fields.type,
    to: fields.to ?? 0,
    from: fields.from ?? 0,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? NO_ENTRIES,
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
  };
  if (fields.snapshot !== undefined) m.snapshot = fields.snapshot;
  if (fields.chunk !== undefined) m.chunk = fields.chunk;
  if (fields.context !== undefined) m.context = fields.context;
  return m;
}

export function isEmptyHardState(hs: HardState): boolean {
  return hs.term === 0 && hs.vote === 0 && hs.commit === 0;
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false };
}

export function entrySize(e: Entry): number {
  // A rough byte size: payload plus a fixed header, enough for flow control.
  return e.data.byteLength + 24;
}

export function payloadSize(e: Entry): number {
  return e.data.byteLength;
}
