/** How the leader currently replicates to one peer. */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded window of in-flight MsgApp (identified by their last index) to one follower. */
export class Inflights {
  private readonly buffer: { index: number; bytes: number }[] = [];
  private bytes = 0;
  constructor(
    readonly maxCount: number,
    readonly maxBytes: number,
  ) {}

  add(index: number, bytes: number): void {
    this.buffer.push({ index, bytes });
    this.bytes += bytes;
  }

  /** Frees every in-flight message whose last index is <= `index` (acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    for (const f of this.buffer) {
      if (f.index > index) break;
      this.bytes -= f.bytes;
      n++;
    }
    if (n > 0) this.buffer.splice(0, n);
  }

  freeFirstOne(): void {
    const f = this.buffer.shift();
    if (f !== undefined) this.bytes -= f.bytes;
  }

  full(): boolean {
    return this.buffer.length >= this.maxCount || (this.maxBytes > 0 && this.bytes >= this.maxBytes);
  }

  count(): number {
    return this.buffer.length;
  }

  reset(): void {
    this.buffer.length = 0;
    this.bytes = 0;
  }
}

/** The leader's view of one follower (or learner). */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In `snapshot` state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = false;
  /** In `probe` state: one MsgApp is outstanding; wait for a response or heartbeat. */
  probeSent = false;
  /** Leader tick at which the latest acknowledged heartbeat to this peer was sent (lease reads). */
  leaseAckTick = Number.NEGATIVE_INFINITY;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An acknowledgement up to `n`; false if stale. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A rejection of the MsgApp at `rejected`; `matchHint` is the follower's conflict hint.
   * Returns false when the rejection is stale.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
