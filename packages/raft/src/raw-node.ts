import type { ConfChange } from './conf-change.js';
import { encodeConfChange, validateConfChange } from './conf-change.js';
import { ProposalDroppedError } from './errors.js';
import type { RaftOptions } from './raft.js';
import { Raft } from './raft.js';
import type { ConfState, Entry, HardState, Message, NodeId, ReadState, Snapshot, SoftState } from './types.js';
import { message, NONE } from './types.js';

/**
 * Everything the application must do after a step or tick, in this order:
 *
 * 1. Persist `hardState` (if present), `entries` and `snapshot` (if present) to stable storage,
 *    fsyncing when `mustSync` is true.
 * 2. Only then send `messages` (persist-before-send: a vote or an append acknowledgement sent
 *    before it is durable could be forgotten by a crash and break safety).
 * 3. Apply `snapshot` and `committedEntries` to the state machine (conf-change entries through
 *    `RawNode.applyConfChange`), and serve `readStates` whose index is applied.
 * 4. Call `advance(ready)`.
 */
export interface Ready {
  readonly softState?: SoftState;
  readonly hardState?: HardState;
  readonly entries: readonly Entry[];
  readonly snapshot?: Snapshot;
  readonly committedEntries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

/** A snapshot of a node's state for observability. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly lead: NodeId;
  readonly state: SoftState['state'];
  readonly lastIndex: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId;
  /** Leader only: each peer's replication progress. */
  readonly progress: Readonly<Record<string, { match: number; next: number; state: string; inflight: number; recentActive: boolean }>>;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/**
 * The sans-I/O Raft node: feed it ticks, messages and proposals; drain `ready()`; persist, send,
 * apply; `advance()`. It never reads a clock, starts a timer, touches the disk or the network.
 */
export class RawNode {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private pending: { lastEntry?: { index: number; term: number }; snapshotIndex?: number; lastCommitted?: number } | undefined;

  constructor(options: RaftOptions) {
    this.raft = new Raft(options);
    this.prevSoft = this.raft.softState();
    this.prevHard = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances the logical clock by one tick (elections, heartbeats, check-quorum). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with pre-vote if enabled). A no-op on a leader or a non-voter. */
  campaign(): void {
    this.raft.step(message({ type: 'MsgHup', from: this.raft.id }));
  }

  /**
   * Proposes `data` for the log. On a follower, the proposal is forwarded to the leader (unless
   * `disableProposalForwarding`). Throws `ProposalDroppedError` when no leader is known, a
   * transfer is in progress, or the uncommitted-size limit is reached. Acceptance is not
   * commitment: the entry may still be lost with a leader change; watch `committedEntries`.
   */
  propose(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) throw new TypeError('raft: propose(data) needs a Uint8Array');
    this.raft.step(message({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'normal', data }] }));
  }

  /**
   * Proposes a membership change. Apply it when its entry is committed, with `applyConfChange`.
   * Throws `ConfChangeError` if malformed, `ProposalDroppedError` (`conf-change-pending`,
   * `invalid-conf-change`, ...) when the leader refuses it.
   */
  proposeConfChange(cc: ConfChange): void {
    validateConfChange(cc);
    this.raft.step(message({ type: 'MsgProp', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'confChange', data: encodeConfChange(cc) }] }));
  }

  /** Applies a committed conf change; returns the new configuration (to store with snapshots). */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Steps a message received from a peer. Local message types are refused. */
  step(m: Message): void {
    if (m.type === 'MsgHup' || m.type === 'MsgBeat') throw new TypeError(`raft: ${m.type} is a local message; use campaign()/tick()`);
    if (m.type === 'MsgProp' || m.type === 'MsgReadIndex' || m.type === 'MsgTransferLeader') {
      if (m.from === this.raft.id) throw new TypeError(`raft: ${m.type} from self must go through the API`);
    }
    if (m.from === NONE) throw new TypeError('raft: message without a sender');
    this.raft.step(m);
  }

  /**
   * Requests a linearizable read (§6.4). When the leader confirms its leadership, a ReadState
   * `{ index, requestCtx: context }` appears in a Ready: serve the read once applied >= index.
   * `context` must be unique per request. Throws `ProposalDroppedError` with no known leader.
   */
  readIndex(context: Uint8Array): void {
    if (!(context instanceof Uint8Array) || context.byteLength === 0) throw new TypeError('raft: readIndex(context) needs a non-empty Uint8Array');
    this.raft.step(message({ type: 'MsgReadIndex', from: this.raft.id, context }));
  }

  /** Asks the leader to hand leadership to `to` (§3.10). Proposals are dropped until it completes or times out. */
  transferLeadership(to: NodeId): void {
    if (!Number.isSafeInteger(to) || to <= 0) throw new RangeError(`raft: transferLeadership(to) needs a positive node id, got ${String(to)}`);
    if (this.raft.lead === NONE) throw new ProposalDroppedError('no-leader');
    this.raft.step(message({ type: 'MsgTransferLeader', from: to }));
  }

  /** The transport could not reach `id` (the leader stops pipelining to it). */
  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  /**
   * The transport finished sending a snapshot to `id` (`ok`), or failed to. With chunked
   * snapshots, report once, after the last chunk (`chunk.offset + data.byteLength === totalBytes`):
   * `ok` only if every chunk was sent.
   */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  hasReady(): boolean {
    const r = this.raft;
    if (this.pending !== undefined) return false;
    const soft = r.softState();
    if (soft.lead !== this.prevSoft.lead || soft.state !== this.prevSoft.state) return true;
    const hard = r.hardState();
    if (!sameHardState(hard, this.prevHard)) return true;
    if (r.log.unstableSnapshot !== undefined) return true;
    return r.msgs.length > 0 || r.log.unstableEntries.length > 0 || r.readStates.length > 0 || r.log.hasNextCommittedEntries();
  }

  /**
   * Returns the pending work. Call `advance(ready)` after handling it before the next `ready()`.
   */
  ready(): Ready {
    if (this.pending !== undefined) throw new Error('raft: ready() called again before advance()');
    const r = this.raft;
    const soft = r.softState();
    const hard = r.hardState();
    const entries = [...r.log.unstableEntries];
    const snapshot = r.log.unstableSnapshot;
    const committedEntries = r.log.nextCommittedEntries(r.maxCommittedSizePerReady);
    const messages = r.msgs;
    const readStates = r.readStates;
    r.msgs = [];
    r.readStates = [];
    const softChanged = soft.lead !== this.prevSoft.lead || soft.state !== this.prevSoft.state;
    const hardChanged = !sameHardState(hard, this.prevHard);
    const mustSync = entries.length > 0 || hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote;
    this.prevSoft = soft;
    this.prevHard = hard;
    const lastEntry = entries[entries.length - 1];
    const lastCommitted = committedEntries[committedEntries.length - 1];
    if (lastCommitted !== undefined) {
      r.log.applying = lastCommitted.index;
      r.reduceUncommitted(committedEntries);
    }
    if (snapshot !== undefined) r.log.applying = Math.max(r.log.applying, snapshot.metadata.index);
    this.pending = {
      ...(lastEntry !== undefined ? { lastEntry: { index: lastEntry.index, term: lastEntry.term } } : {}),
      ...(snapshot !== undefined ? { snapshotIndex: snapshot.metadata.index } : {}),
      ...(lastCommitted !== undefined ? { lastCommitted: lastCommitted.index } : {}),
    };
    return {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      entries,
      ...(snapshot !== undefined ? { snapshot } : {}),
      committedEntries,
      messages,
      readStates,
      mustSync,
    };
  }

  /** Tells the node the last Ready was persisted, sent and applied. */
  advance(): void {
    const p = this.pending;
    if (p === undefined) return;
    this.pending = undefined;
    const log = this.raft.log;
    if (p.snapshotIndex !== undefined) {
      log.stableSnapTo(p.snapshotIndex);
      if (p.snapshotIndex > log.applied) log.applied = p.snapshotIndex;
    }
    if (p.lastEntry !== undefined) log.stableTo(p.lastEntry.index, p.lastEntry.term);
    if (p.lastCommitted !== undefined) log.appliedTo(p.lastCommitted);
    this.raft.afterApplied();
  }

  /** A read-only view of the node's state. */
  status(): RaftStatus {
    const r = this.raft;
    const progress: Record<string, { match: number; next: number; state: string; inflight: number; recentActive: boolean }> = {};
    if (r.state === 'leader') {
      for (const [id, pr] of r.progress) {
        progress[String(id)] = { match: pr.match, next: pr.next, state: pr.state, inflight: pr.inflights.count(), recentActive: pr.recentActive };
      }
    }
    return {
      id: r.id,
      term: r.term,
      vote: r.vote,
      commit: r.log.committed,
      applied: r.log.applied,
      lead: r.lead,
      state: r.state,
      lastIndex: r.log.lastIndex(),
      confState: r.confState(),
      leadTransferee: r.leadTransferee,
      progress,
    };
  }

  toJSON(): RaftStatus {
    return this.status();
  }
}
