import type { ConfChange, Membership } from './conf-change.js';
import {
  applyConfChange as applyMembershipChange,
  confStateOf,
  decodeConfChange,
  isJoint,
  isSimpleChange,
  membershipFromConfState,
} from './conf-change.js';
import { ConfChangeError, ProposalDroppedError } from './errors.js';
import { Progress } from './progress.js';
import type { VoteResult } from './quorum.js';
import { jointCommitted, jointVoteResult } from './quorum.js';
import { RaftLog } from './raft-log.js';
import type { RandomSource } from './random.js';
import { seededRandom } from './random.js';
import type { Storage } from './storage.js';
import type { ConfState, Entry, HardState, Message, MessageType, NodeId, ReadState, Snapshot, SoftState, StateType } from './types.js';
import { message, NONE, payloadSize } from './types.js';

export type ReadOnlyOption = 'safe' | 'leaseBased';

/** Options of a Raft node. Ticks are abstract: the application calls `tick()` at its own rate. */
export interface RaftOptions {
  /** This node's id, a positive integer. */
  id: NodeId;
  /** The durable log and state (see `Storage`). */
  storage: Storage;
  /** Ticks without hearing from a leader before a follower campaigns; randomized in [n, 2n). Default 10. */
  electionTicks?: number;
  /** Ticks between leader heartbeats; must be < electionTicks. Default 1. */
  heartbeatTicks?: number;
  /** The randomness for election timeouts. Default: a seeded PRNG seeded with `id` (deterministic). */
  random?: RandomSource;
  /** Pre-vote (thesis §9.6): a partitioned node cannot disrupt the cluster on rejoining. Default true. */
  preVote?: boolean;
  /** A leader steps down when it has not heard from a quorum for an election timeout. Default true. */
  checkQuorum?: boolean;
  /** `'safe'`: ReadIndex confirms leadership with a heartbeat round. `'leaseBased'`: relies on check-quorum and bounded clock drift. Default `'safe'`. */
  readOnlyOption?: ReadOnlyOption;
  /** Max bytes of entries per MsgApp (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsg?: number;
  /** Max MsgApp in flight to one follower in replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Max bytes of entries in flight to one follower (0 = no limit). Default 0. */
  maxInflightBytes?: number;
  /** Max total payload bytes of uncommitted entries the leader accepts (0 = no limit). Default 0. */
  maxUncommittedEntriesSize?: number;
  /** Max bytes of committed entries in one Ready. Default: maxSizePerMsg. */
  maxCommittedSizePerReady?: number;
  /** The last applied index when restarting (entries up to it are not handed out again). Default 0. */
  applied?: number;
  /**
   * Max snapshot data bytes per MsgSnap: larger snapshots are sent as several chunks that the
   * follower reassembles (0 = one message). Default 0.
   */
  maxSnapshotChunkBytes?: number;
  /** Followers drop proposals (ProposalDroppedError) instead of forwarding them to the leader. Default false. */
  disableProposalForwarding?: boolean;
}

function positiveInt(name: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw new RangeError(`raft: option ${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return v;
}

interface ReadIndexRequest {
  index: number;
  from: NodeId;
  context: Uint8Array;
  acks: Set<NodeId>;
}

function ctxKey(ctx: Uint8Array): string {
  let s = '';
  for (const b of ctx) s += b.toString(16).padStart(2, '0');
  return s;
}

const TRANSFER_CONTEXT = new TextEncoder().encode('transfer');

/** The Raft protocol state machine of one node (internal; use `RawNode`). */
export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  state: StateType = 'follower';
  readonly log: RaftLog;
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  membership: Membership;
  readonly progress = new Map<NodeId, Progress>();
  private votes = new Map<NodeId, boolean>();
  leadTransferee: NodeId = NONE;
  /** Index of the latest conf change the leader appended; no new one until it is applied. */
  pendingConfIndex = 0;
  private uncommittedSize = 0;
  private electionElapsed = 0;
  /** Ticks since this node started: the leader's lease clock. */
  private ticks = 0;
  /** Lease mode, after a restart: refuse votes for one election timeout (see `inStartupLease`). */
  private readonly startupLease: boolean;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private readonly readRequests = new Map<string, ReadIndexRequest>();
  private readQueue: string[] = [];
  private pendingReadIndexMessages: Message[] = [];

  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly readOnlyOption: ReadOnlyOption;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  readonly maxInflightBytes: number;
  readonly maxUncommittedEntriesSize: number;
  readonly maxCommittedSizePerReady: number;
  readonly disableProposalForwarding: boolean;
  readonly maxSnapshotChunkBytes: number;
  /** A chunked snapshot being received: identity and the chunks so far (by offset). */
  private snapshotChunks: { key: string; chunks: Map<number, Uint8Array>; bytes: number } | undefined;
  private readonly random: RandomSource;

  constructor(options: RaftOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('raft: options must be an object');
    this.id = positiveInt('id', options.id, 1);
    if (typeof options.storage !== 'object' || options.storage === null) throw new TypeError('raft: option storage is required');
    this.electionTicks = positiveInt('electionTicks', options.electionTicks ?? 10, 2);
    this.heartbeatTicks = positiveInt('heartbeatTicks', options.heartbeatTicks ?? 1, 1);
    if (this.heartbeatTicks >= this.electionTicks) {
      throw new RangeError(`raft: option heartbeatTicks must be < electionTicks (${this.electionTicks}), got ${this.heartbeatTicks}`);
    }
    this.preVote = options.preVote ?? true;
    this.checkQuorum = options.checkQuorum ?? true;
    this.readOnlyOption = options.readOnlyOption ?? 'safe';
    if (this.readOnlyOption !== 'safe' && this.readOnlyOption !== 'leaseBased') {
      throw new RangeError(`raft: option readOnlyOption must be 'safe' or 'leaseBased', got ${String(this.readOnlyOption)}`);
    }
    if (this.readOnlyOption === 'leaseBased' && !this.checkQuorum) {
      throw new RangeError("raft: option readOnlyOption 'leaseBased' requires checkQuorum: true");
    }
    this.maxSizePerMsg = positiveInt('maxSizePerMsg', options.maxSizePerMsg ?? 1024 * 1024, 1);
    this.maxInflightMsgs = positiveInt('maxInflightMsgs', options.maxInflightMsgs ?? 256, 1);
    this.maxInflightBytes = positiveInt('maxInflightBytes', options.maxInflightBytes ?? 0, 0);
    this.maxUncommittedEntriesSize = positiveInt('maxUncommittedEntriesSize', options.maxUncommittedEntriesSize ?? 0, 0);
    this.maxCommittedSizePerReady = positiveInt('maxCommittedSizePerReady', options.maxCommittedSizePerReady ?? this.maxSizePerMsg, 1);
    this.disableProposalForwarding = options.disableProposalForwarding ?? false;
    this.maxSnapshotChunkBytes = positiveInt('maxSnapshotChunkBytes', options.maxSnapshotChunkBytes ?? 0, 0);
    this.random = options.random ?? seededRandom(this.id);
    if (typeof this.random.next !== 'function') throw new TypeError('raft: option random must have a next(): number method');

    this.log = new RaftLog(options.storage);
    const { hardState, confState } = options.storage.initialState();
    this.membership = membershipFromConfState(confState);
    this.rebuildProgress();
    if (hardState.term !== 0 || hardState.vote !== 0 || hardState.commit !== 0) this.loadState(hardState);
    // A restarted voter may have acknowledged a lease-extending heartbeat just before it
    // crashed; it must not vote for a new leader until that lease could have expired.
    this.startupLease = this.readOnlyOption === 'leaseBased' && (hardState.term !== 0 || hardState.vote !== 0);
    const applied = options.applied ?? 0;
    if (applied > 0) this.log.appliedTo(applied);
    this.becomeFollower(this.term, NONE);
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RangeError(`raft: hard state commit ${hs.commit} is out of range [${this.log.committed}, ${this.log.lastIndex()}]`);
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  confState(): ConfState {
    return confStateOf(this.membership);
  }

  /** Voters of the current (possibly joint) configuration. */
  private isVoter(id: NodeId): boolean {
    return this.membership.incoming.has(id) || this.membership.outgoing.has(id);
  }

  promotable(): boolean {
    return this.isVoter(this.id) && !this.log.unstableSnapshot;
  }

  private rebuildProgress(): void {
    this.peerIdsCache = undefined;
    const ids = new Set<NodeId>([...this.membership.incoming, ...this.membership.outgoing, ...this.membership.learners, ...this.membership.learnersNext]);
    for (const id of [...this.progress.keys()]) if (!ids.has(id)) this.progress.delete(id);
    const last = this.log.lastIndex();
    for (const id of ids) {
      const isLearner = !this.isVoter(id);
      const pr = this.progress.get(id);
      if (pr) {
        pr.isLearner = isLearner;
      } else {
        const p = new Progress(last + 1, this.maxInflightMsgs, this.maxInflightBytes, isLearner);
        // A new peer is considered active so that check-quorum does not trip right after adding it.
        p.recentActive = true;
        if (id === this.id) p.match = last;
        this.progress.set(id, p);
      }
    }
  }

  private peerIdsCache: NodeId[] | undefined;

  /** Every node with a progress entry, ascending (cached; membership changes reset it). */
  private sortedPeers(): NodeId[] {
    this.peerIdsCache ??= [...this.progress.keys()].sort((a, b) => a - b);
    return this.peerIdsCache;
  }

  private send(m: Omit<Partial<Message>, 'from'> & Pick<Message, 'type' | 'to'>): void {
    const t: MessageType = m.type;
    let term = m.term ?? 0;
    if (t === 'MsgVote' || t === 'MsgPreVote' || t === 'MsgVoteResp' || t === 'MsgPreVoteResp') {
      if (term === 0) throw new Error(`raft: ${t} must carry a term`);
    } else if (t !== 'MsgProp' && t !== 'MsgReadIndex') {
      term = this.term;
    }
    const out = message(m);
    (out as { from: NodeId }).from = this.id;
    (out as { term: number }).term = term;
    this.msgs.push(out);
  }

  // ---- state transitions ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.electionTicks + Math.floor(this.random.next() * this.electionTicks);
    this.leadTransferee = NONE;
    this.votes = new Map();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.progress) {
      const fresh = new Progress(last + 1, this.maxInflightMsgs, this.maxInflightBytes, pr.isLearner);
      if (id === this.id) fresh.match = last;
      this.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readRequests.clear();
    this.readQueue = [];
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
  }

  private becomePreCandidate(): void {
    if (this.state === 'leader') throw new Error('raft: invalid transition leader -> preCandidate');
    // Pre-vote neither increments the term nor changes the vote.
    this.votes = new Map();
    this.lead = NONE;
    this.state = 'preCandidate';
  }

  private becomeCandidate(): void {
    if (this.state === 'leader') throw new Error('raft: invalid transition leader -> candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
  }

  private becomeLeader(): void {
    if (this.state === 'follower') throw new Error('raft: invalid transition follower -> leader');
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    this.progress.get(this.id)?.becomeReplicate();
    // An empty entry of the new term lets earlier entries commit (§5.4.2) and serves ReadIndex (§6.4).
    this.appendEntries([{ term: 0, index: 0, type: 'normal', data: new Uint8Array() }]);
    // No conf change until that entry is applied: every unapplied entry may be a conf change, and
    // a leader must commit an entry of its own term before changing the configuration (the fix
    // to the single-server change bug, Ongaro's raft-dev post of 2015).
    this.pendingConfIndex = this.log.lastIndex();
  }

  // ---- ticks ----

  tick(): void {
    this.ticks++;
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTicks) {
      this.electionElapsed = 0;
      if (this.checkQuorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, NONE);
          return;
        }
      }
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  /** Check-quorum: a quorum was heard from recently. Resets the activity flags. */
  private quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, id === this.id || pr.recentActive);
      if (id !== this.id) pr.recentActive = false;
    }
    return jointVoteResult(this.membership, votes) === 'won';
  }

  // ---- elections ----

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    return this.log.allUnappliedCommitted().some((e) => e.type === 'confChange');
  }

  hup(transfer: boolean): void {
    if (this.state === 'leader') return;
    if (!this.promotable()) return;
    // A node must not campaign with a configuration change committed but not applied.
    if (this.hasUnappliedConfChanges()) return;
    if (this.preVote && !transfer) this.campaign('pre');
    else this.campaign(transfer ? 'transfer' : 'election');
  }

  private campaign(kind: 'pre' | 'election' | 'transfer'): void {
    let term: number;
    let type: MessageType;
    if (kind === 'pre') {
      this.becomePreCandidate();
      type = 'MsgPreVote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      type = 'MsgVote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // Single-voter cluster.
      if (kind === 'pre') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.sortedPeers()) {
      if (id === this.id || !this.isVoter(id)) continue;
      this.send({
        type,
        to: id,
        term,
        index: lastIndex,
        logTerm: lastTerm,
        ...(kind === 'transfer' ? { context: TRANSFER_CONTEXT } : {}),
      });
    }
  }

  private poll(id: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(id)) this.votes.set(id, granted);
    return jointVoteResult(this.membership, this.votes);
  }

  // ---- the message dispatcher ----

  step(m: Message): void {
    if (m.term === 0) {
      // local message
    } else if (m.term > this.term) {
      if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
        const force = m.context !== undefined && ctxKey(m.context) === ctxKey(TRANSFER_CONTEXT);
        const inLease =
          this.checkQuorum && ((this.lead !== NONE && this.electionElapsed < this.electionTicks) || (this.startupLease && this.ticks < this.electionTicks));
        // §4.2.3 / check-quorum: ignore a vote while we believe a live leader exists.
        if (!force && inLease) return;
      }
      if (m.type === 'MsgPreVote') {
        // A pre-vote does not change our term.
      } else if (m.type === 'MsgPreVoteResp' && !m.reject) {
        // We bumped m.term ourselves; the term changes when the pre-vote wins.
      } else if (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
        // A stale leader (e.g. after a partition) learns the new term from this response and steps
        // down; without it, with check-quorum or pre-vote, a node whose term got ahead could never rejoin.
        this.send({ type: 'MsgAppResp', to: m.from });
      } else if (m.type === 'MsgPreVote') {
        this.send({ type: 'MsgPreVoteResp', to: m.from, term: this.term, reject: true });
      }
      return;
    }

    switch (m.type) {
      case 'MsgHup':
        this.hup(false);
        return;
      case 'MsgVote':
      case 'MsgPreVote': {
        const canVote =
          this.vote === m.from ||
          (this.vote === NONE && this.lead === NONE) ||
          (m.type === 'MsgPreVote' && m.term > this.term);
        const respType = m.type === 'MsgVote' ? 'MsgVoteResp' : 'MsgPreVoteResp';
        if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
          // §5.4.1 election restriction satisfied. A pre-vote response carries the candidate's
          // future term so it is not ignored as stale.
          this.send({ type: respType, to: m.from, term: m.term });
          if (m.type === 'MsgVote') {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.send({ type: respType, to: m.from, term: this.term, reject: true });
        }
        return;
      }
      default:
        break;
    }
    switch (this.state) {
      case 'leader':
        this.stepLeader(m);
        return;
      case 'candidate':
      case 'preCandidate':
        this.stepCandidate(m);
        return;
      case 'follower':
        this.stepFollower(m);
        return;
    }
  }

  // ---- leader ----

  private increaseUncommittedSize(entries: readonly Entry[]): boolean {
    let s = 0;
    for (const e of entries) s += payloadSize(e);
    // Always admit something when nothing is uncommitted, so a huge entry cannot wedge the leader.
    if (this.uncommittedSize > 0 && s > 0 && this.maxUncommittedEntriesSize > 0 && this.uncommittedSize + s > this.maxUncommittedEntriesSize) {
      return false;
    }
    this.uncommittedSize += s;
    return true;
  }

  private reduceUncommittedSize(entries: readonly Entry[]): void {
    if (this.state !== 'leader') return;
    let s = 0;
    for (const e of entries) s += payloadSize(e);
    this.uncommittedSize = Math.max(0, this.uncommittedSize - s);
  }

  private appendEntries(entries: readonly Entry[]): boolean {
    let li = this.log.lastIndex();
    const stamped = entries.map((e, i) => ({ term: this.term, index: li + 1 + i, type: e.type, data: e.data }));
    if (!this.increaseUncommittedSize(stamped)) return false;
    li = this.log.append(stamped);
    this.progress.get(this.id)?.maybeUpdate(li);
    this.maybeCommit();
    return true;
  }

  private maybeCommit(): boolean {
    const mci = jointCommitted(this.membership, (id) => this.progress.get(id)?.match ?? 0);
    // §5.4.2: only entries of the current term are committed by counting replicas.
    const committed = this.log.maybeCommit(mci, this.term);
    if (committed) this.onCommitInTerm();
    return committed;
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.termOf(this.log.committed) === this.term;
  }

  private onCommitInTerm(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.handleReadIndexAsLeader(m);
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'MsgBeat':
        this.bcastHeartbeat();
        return;
      case 'MsgProp':
        this.leaderPropose(m);
        return;
      case 'MsgReadIndex':
        this.handleReadIndexAsLeader(m);
        return;
      case 'MsgTransferLeader':
        this.handleTransferLeader(m.from);
        return;
      default:
        break;
    }
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case 'MsgAppResp':
        this.handleAppendResponse(m, pr);
        return;
      case 'MsgHeartbeatResp':
        pr.recentActive = true;
        pr.probeSent = false;
        // The heartbeat echoes the leader tick at which it was sent (see `leaseValid`).
        if (m.index > pr.leaseAckTick) pr.leaseAckTick = m.index;
        // A full window may be full of lost appends: free one slot so the follower is probed
        // again (a stale next index is corrected by its rejection).
        if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (m.context !== undefined && m.context.byteLength > 0) this.recvReadAck(m.from, m.context);
        return;
      default:
        return;
    }
  }

  private leaderPropose(m: Message): void {
    const local = m.from === this.id || m.from === NONE;
    const drop = (reason: ConstructorParameters<typeof ProposalDroppedError>[0]): void => {
      // Only a local caller can be told; a forwarded proposal is dropped (the proposer times out).
      if (local) throw new ProposalDroppedError(reason);
    };
    if (m.entries.length === 0) throw new Error('raft: MsgProp without entries');
    if (!this.progress.has(this.id) || !this.isVoter(this.id)) return drop('not-in-configuration');
    if (this.leadTransferee !== NONE) return drop('leader-transfer-in-progress');
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i];
      if (e === undefined || e.type !== 'confChange') continue;
      let cc: ConfChange;
      try {
        cc = decodeConfChange(e.data);
      } catch {
        return drop('invalid-conf-change');
      }
      const alreadyPending = this.pendingConfIndex > this.log.applied;
      const joint = isJoint(this.membership);
      const leave = cc.changes.length === 0;
      if (alreadyPending) return drop('conf-change-pending');
      if (joint && !leave) return drop('conf-change-pending');
      if (!joint && leave) return drop('invalid-conf-change');
      try {
        applyMembershipChange(this.membership, cc);
      } catch {
        return drop('invalid-conf-change');
      }
      this.pendingConfIndex = this.log.lastIndex() + i + 1;
    }
    if (!this.appendEntries(m.entries)) return drop('uncommitted-size-limit');
    this.bcastAppend();
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      // Fast backtracking (§5.3 optimisation): the follower's hint (index, term) lets us skip the
      // whole conflicting term in one round trip.
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index)) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      // The follower caught up (from the snapshot or otherwise): replicate from here.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.bcastAppend();
    } else if (wasPaused) {
      this.sendAppend(m.from);
    }
    // Fill the in-flight window.
    while (this.maybeSendAppend(m.from, false)) {
      /* keep sending */
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send({ type: 'MsgTimeoutNow', to: m.from });
    }
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    if (pr === undefined || to === this.id || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.termOf(prevIndex);
    const lastIndex = this.log.lastIndex();
    const entries = prevTerm === undefined ? undefined : this.log.slice(pr.next, lastIndex + 1, this.maxSizePerMsg);
    if (prevTerm === undefined || entries === undefined) {
      return this.maybeSendSnapshot(to, pr);
    }
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.send({ type: 'MsgApp', to, index: prevIndex, logTerm: prevTerm, entries, commit: this.log.committed });
    const last = entries[entries.length - 1];
    if (pr.state === 'replicate' && last !== undefined) {
      pr.next = last.index + 1;
      let bytes = 0;
      for (const e of entries) bytes += payloadSize(e);
      pr.inflights.add(last.index, bytes);
    } else if (pr.state === 'probe') {
      pr.probeSent = true;
    }
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // Only to peers we heard from recently: a dead peer would just waste the transfer.
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot();
    if (snapshot.metadata.index === 0) throw new Error('raft: need a snapshot but the storage has none');
    pr.becomeSnapshot(snapshot.metadata.index);
    const total = snapshot.data.byteLength;
    const size = this.maxSnapshotChunkBytes;
    if (size === 0 || total <= size) {
      this.send({ type: 'MsgSnap', to, snapshot });
      return true;
    }
    // InstallSnapshot in chunks (thesis §5.1 / Figure 5.3): every chunk carries the metadata.
    for (let offset = 0; offset < total; offset += size) {
      const data = snapshot.data.subarray(offset, Math.min(total, offset + size));
      this.send({ type: 'MsgSnap', to, snapshot: { metadata: snapshot.metadata, data }, chunk: { offset, totalBytes: total } });
    }
    return true;
  }

  private bcastAppend(): void {
    for (const id of this.sortedPeers()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(context?: Uint8Array): void {
    const ctx = context ?? this.lastPendingReadContext();
    for (const id of this.sortedPeers()) {
      if (id === this.id) continue;
      const pr = this.progress.get(id);
      if (pr === undefined) continue;
      // A follower must not learn a commit index beyond what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send({ type: 'MsgHeartbeat', to: id, commit, index: this.ticks, ...(ctx !== undefined ? { context: ctx } : {}) });
    }
  }

  private lastPendingReadContext(): Uint8Array | undefined {
    const key = this.readQueue[this.readQueue.length - 1];
    return key === undefined ? undefined : this.readRequests.get(key)?.context;
  }

  // ---- reads (§6.4) ----

  private handleReadIndexAsLeader(m: Message): void {
    const context = m.context ?? new Uint8Array();
    if (this.voterCount() <= 1 && this.isVoter(this.id)) {
      this.respondToRead(m.from, this.log.committed, context);
      return;
    }
    // §6.4 step 1: the leader must have committed an entry of its term before it knows the commit index.
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    if (this.readOnlyOption === 'leaseBased' && this.leaseValid()) {
      this.respondToRead(m.from, this.log.committed, context);
      return;
    }
    const key = ctxKey(context);
    if (!this.readRequests.has(key)) {
      this.readRequests.set(key, { index: this.log.committed, from: m.from, context, acks: new Set([this.id]) });
      this.readQueue.push(key);
    }
    this.bcastHeartbeat(context);
  }

  /**
   * The leader lease (§6.4.1): a follower that received a heartbeat sent at leader tick `s`
   * refuses votes until it has counted `electionTicks` ticks, so no other leader can exist
   * before about `s + electionTicks`. The lease holds while a quorum acknowledged heartbeats
   * sent within the last `electionTicks - 2` ticks (one tick of margin each for the phase of
   * the two tick counters). It assumes all nodes tick at the same rate (bounded drift: shrink
   * the margin accordingly) and is never used during a leadership transfer. When the lease has
   * lapsed, reads fall back to the safe quorum round.
   */
  private leaseValid(): boolean {
    if (this.leadTransferee !== NONE) return false;
    const votes = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      votes.set(id, id === this.id || this.ticks < pr.leaseAckTick + this.electionTicks - 2);
    }
    return jointVoteResult(this.membership, votes) === 'won';
  }

  private voterCount(): number {
    return new Set([...this.membership.incoming, ...this.membership.outgoing]).size;
  }

  private recvReadAck(from: NodeId, context: Uint8Array): void {
    const key = ctxKey(context);
    const req = this.readRequests.get(key);
    if (req === undefined) return;
    req.acks.add(from);
    const votes = new Map<NodeId, boolean>();
    for (const id of req.acks) votes.set(id, true);
    if (jointVoteResult(this.membership, votes) !== 'won') return;
    // A quorum acknowledged this request, and therefore every request queued before it.
    const at = this.readQueue.indexOf(key);
    const done = this.readQueue.slice(0, at + 1);
    this.readQueue = this.readQueue.slice(at + 1);
    for (const k of done) {
      const r = this.readRequests.get(k);
      this.readRequests.delete(k);
      if (r !== undefined) this.respondToRead(r.from, r.index, r.context);
    }
  }

  private respondToRead(from: NodeId, index: number, context: Uint8Array): void {
    if (from === NONE || from === this.id) {
      this.readStates.push({ index, requestCtx: context });
    } else {
      this.send({ type: 'MsgReadIndexResp', to: from, index, context });
    }
  }

  // ---- leadership transfer (§3.10) ----

  private handleTransferLeader(transferee: NodeId): void {
    const pr = this.progress.get(transferee);
    if (pr === undefined || pr.isLearner) return;
    if (this.leadTransferee === transferee) return;
    this.leadTransferee = NONE;
    if (transferee === this.id) return;
    // The transfer must finish within an election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'MsgTimeoutNow', to: transferee });
    else this.sendAppend(transferee);
  }

  // ---- candidate ----

  private stepCandidate(m: Message): void {
    const myResp = this.state === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgProp':
        if (m.from === this.id || m.from === NONE) throw new ProposalDroppedError('no-leader');
        return;
      case 'MsgReadIndex':
        if (m.from === this.id || m.from === NONE) throw new ProposalDroppedError('no-leader');
        return;
      case 'MsgApp':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        return;
      case 'MsgHeartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case 'MsgPreVoteResp':
      case 'MsgVoteResp': {
        if (m.type !== myResp) return;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.state === 'preCandidate') this.campaign('election');
          else {
            this.becomeLeader();
            this.bcastAppend();
          }
        } else if (result === 'lost') {
          // A pre-vote rejection with a higher term moves us to that term as a follower.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        return;
    }
  }

  // ---- follower ----

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'MsgProp':
        if (this.lead === NONE) {
          if (m.from === this.id || m.from === NONE) throw new ProposalDroppedError('no-leader');
          return;
        }
        if (this.disableProposalForwarding) {
          if (m.from === this.id || m.from === NONE) throw new ProposalDroppedError('forwarding-disabled');
          return;
        }
        this.msgs.push({ ...m, from: this.id, to: this.lead, term: 0 });
        return;
      case 'MsgApp':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        return;
      case 'MsgHeartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case 'MsgTransferLeader':
        // `from` is the transferee (RawNode checks for a leader before stepping).
        if (this.lead === NONE) return;
        this.msgs.push({ ...m, to: this.lead, term: 0 });
        return;
      case 'MsgTimeoutNow':
        // §3.10: start an election at once, bypassing pre-vote and the leader lease.
        this.hup(true);
        return;
      case 'MsgReadIndex':
        if (this.lead === NONE) {
          if (m.from === this.id || m.from === NONE) throw new ProposalDroppedError('no-leader');
          return;
        }
        this.msgs.push({ ...m, from: this.id, to: this.lead, term: 0 });
        return;
      case 'MsgReadIndexResp':
        this.readStates.push({ index: m.index, requestCtx: m.context ?? new Uint8Array() });
        return;
      default:
        return;
    }
  }

  private handleAppend(m: Message): void {
    if (m.index < this.log.committed) {
      this.send({ type: 'MsgAppResp', to: m.from, index: this.log.committed });
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send({ type: 'MsgAppResp', to: m.from, index: lastNew });
      return;
    }
    // Reject with a hint: the last index <= m.index whose term is <= m.logTerm.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send({ type: 'MsgAppResp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term });
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'MsgHeartbeatResp', to: m.from, index: m.index, ...(m.context !== undefined ? { context: m.context } : {}) });
  }

  /** Collects one chunk; returns the whole snapshot once every chunk arrived. */
  private assembleSnapshot(m: Message, s: Snapshot): Snapshot | undefined {
    const chunk = m.chunk;
    if (chunk === undefined) return s;
    const key = `${m.from}/${m.term}/${s.metadata.index}/${s.metadata.term}/${chunk.totalBytes}`;
    if (this.snapshotChunks === undefined || this.snapshotChunks.key !== key) {
      this.snapshotChunks = { key, chunks: new Map(), bytes: 0 };
    }
    const acc = this.snapshotChunks;
    if (chunk.offset < 0 || chunk.offset + s.data.byteLength > chunk.totalBytes) return undefined;
    if (!acc.chunks.has(chunk.offset)) {
      acc.chunks.set(chunk.offset, s.data.slice());
      acc.bytes += s.data.byteLength;
    }
    if (acc.bytes < chunk.totalBytes) return undefined;
    const data = new Uint8Array(chunk.totalBytes);
    for (const [offset, bytes] of acc.chunks) data.set(bytes, offset);
    this.snapshotChunks = undefined;
    return { metadata: s.metadata, data };
  }

  private handleSnapshot(m: Message): void {
    if (m.snapshot === undefined) return;
    const s = this.assembleSnapshot(m, m.snapshot);
    // A partial snapshot is not acknowledged; the leader retries after reportSnapshot().
    if (s === undefined) return;
    if (this.restore(s)) {
      this.send({ type: 'MsgAppResp', to: m.from, index: this.log.lastIndex() });
    } else {
      this.send({ type: 'MsgAppResp', to: m.from, index: this.log.committed });
    }
  }

  /** Installs a snapshot from the leader; false if it is not newer than what we hold. */
  private restore(s: Snapshot): boolean {
    const index = s.metadata.index;
    if (index <= this.log.committed) return false;
    if (this.state !== 'follower') {
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    if (this.log.matchTerm(index, s.metadata.term)) {
      // We already have the entries: just fast-forward the commit index.
      this.log.commitTo(index);
      return false;
    }
    this.log.restore(s);
    this.membership = membershipFromConfState(s.metadata.confState);
    this.progress.clear();
    this.rebuildProgress();
    return true;
  }

  // ---- membership ----

  /** Applies a committed conf change (called by the application when it applies the entry). */
  applyConfChange(cc: ConfChange): ConfState {
    this.membership = applyMembershipChange(this.membership, cc);
    this.rebuildProgress();
    if (this.state === 'leader') {
      if (!this.isVoter(this.id)) {
        // The thesis (§4.2.2): a leader removed from the configuration steps down once Cnew is committed.
        this.becomeFollower(this.term, NONE);
        return this.confState();
      }
      if (this.leadTransferee !== NONE && !this.isVoter(this.leadTransferee)) this.leadTransferee = NONE;
      if (this.maybeCommit()) this.bcastAppend();
      else for (const id of this.sortedPeers()) if (id !== this.id) this.maybeSendAppend(id, false);
    }
    return this.confState();
  }

  /** After the application applied up to `index`: auto-leave a joint configuration when due. */
  afterApplied(): void {
    if (this.state === 'leader' && this.membership.autoLeave && isJoint(this.membership) && this.log.applied >= this.pendingConfIndex) {
      try {
        this.step(message({ type: 'MsgProp', from: this.id, entries: [{ term: 0, index: 0, type: 'confChange', data: new TextEncoder().encode(JSON.stringify({ changes: [], transition: 'auto' })) }] }));
      } catch {
        // Dropped (e.g. a transfer is in progress): retried after the next apply.
      }
    }
  }

  reduceUncommitted(entries: readonly Entry[]): void {
    this.reduceUncommittedSize(entries);
  }

  /** The leader was told a peer is unreachable: stop pipelining to it. */
  reportUnreachable(id: NodeId): void {
    const pr = this.progress.get(id);
    if (this.state === 'leader' && pr !== undefined && pr.state === 'replicate') pr.becomeProbe();
  }

  /** The transport finished (or failed) sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.progress.get(id);
    if (this.state !== 'leader' || pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for a heartbeat response (or the append response) before probing again.
    pr.probeSent = true;
  }

  isSimple(cc: ConfChange): boolean {
    return isSimpleChange(cc);
  }

  assertConfChangeAllowed(cc: ConfChange): void {
    applyMembershipChange(this.membership, cc);
    if (cc.changes.length === 0 && !isJoint(this.membership)) throw new ConfChangeError('not in a joint configuration');
  }
}
