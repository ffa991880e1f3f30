// Sliding windows of call outcomes. Sans-I/O: they never read a clock or start a
// timer; the time window is handed `now` and rotates its buckets lazily.

/** Outcome bits recorded per call. */
export const OUTCOME_FAILURE = 1;
export const OUTCOME_SLOW = 2;

/** Aggregates over the calls currently in a window; updated in O(1) per call. */
export interface SlidingWindow {
  /** Calls in the window (after the last `advance`/`record`). */
  readonly total: number;
  readonly failures: number;
  readonly slow: number;
  /** Record one outcome (a bit set of `OUTCOME_FAILURE | OUTCOME_SLOW`) at time `now`. */
  record(outcome: number, now: number): void;
  /** Drop what has left the window by `now` (no-op for the count window). */
  advance(now: number): void;
  reset(): void;
  toJSON(now: number): WindowSnapshot;
  /** Load a snapshot taken by `toJSON` (possibly in another process) as of `now`. */
  restore(snapshot: WindowSnapshot, now: number): void;
}

/** Serialised window content. Times are relative, so a snapshot survives a process restart. */
export type WindowSnapshot =
  | { type: 'count'; size: number; /** oldest first, each 0..3 (bit 1 failure, bit 2 slow) */ outcomes: number[] }
  | {
      type: 'time';
      durationMs: number;
      buckets: number;
      /** newest bucket first: `[total, failures, slow]` */
      counts: [number, number, number][];
    };

/**
 * The last `size` calls, in a ring buffer of one byte per call. Adding a call evicts the
 * oldest and adjusts the three aggregates, so every update is O(1).
 */
export class CountWindow implements SlidingWindow {
  total = 0;
  failures = 0;
  slow = 0;
  readonly size: number;
  #outcomes: Uint8Array;
  #next = 0;

  constructor(size: number) {
    this.size = size;
    this.#outcomes = new Uint8Array(size);
  }

  record(outcome: number, _now: number): void {
    const outcomes = this.#outcomes;
    const index = this.#next;
    if (this.total === this.size) {
      const evicted = outcomes[index]!;
      if ((evicted & OUTCOME_FAILURE) !== 0) this.failures--;
      if ((evicted & OUTCOME_SLOW) !== 0) this.slow--;
    } else {
      this.total++;
    }
    outcomes[index] = outcome;
    if ((outcome & OUTCOME_FAILURE) !== 0) this.failures++;
    if ((outcome & OUTCOME_SLOW) !== 0) this.slow++;
    this.#next = index + 1 === this.size ? 0 : index + 1;
  }

  /**
   * Record a success (outcome 0); returns whether the window holds any failure (whether the
   * caller has a failure rate to check).
   */
  recordSuccess(): boolean {
    // A full ring of successes is the same ring after any rotation: nothing to write.
    if (this.failures === 0 && this.slow === 0 && this.total === this.size) return false;
    this.record(0, 0);
    return this.failures !== 0;
  }

  advance(_now: number): void {
    // A count window only changes when a call is recorded.
  }

  reset(): void {
    this.total = 0;
    this.failures = 0;
    this.slow = 0;
    this.#next = 0;
  }

  toJSON(_now: number): WindowSnapshot {
    const outcomes: number[] = [];
    const start = this.total === this.size ? this.#next : 0;
    for (let i = 0; i < this.total; i++) outcomes.push(this.#outcomes[(start + i) % this.size]!);
    return { type: 'count', size: this.size, outcomes };
  }

  restore(snapshot: WindowSnapshot, now: number): void {
    this.reset();
    if (snapshot.type !== 'count') return;
    // Keep the newest outcomes that fit if the size changed.
    const outcomes = snapshot.outcomes.slice(Math.max(0, snapshot.outcomes.length - this.size));
    for (const outcome of outcomes) this.record(outcome & (OUTCOME_FAILURE | OUTCOME_SLOW), now);
  }
}

/**
 * Calls of the last `durationMs`, in `buckets` buckets of `durationMs / buckets` each. The
 * buckets rotate lazily from the `now` passed in: skipping k buckets costs O(min(k, buckets)),
 * amortised O(1) per call, with no timer. The window therefore covers between
 * `durationMs - bucketMs` and `durationMs` of history.
 */
export class TimeWindow implements SlidingWindow {
  total = 0;
  failures = 0;
  slow = 0;
  readonly durationMs: number;
  readonly buckets: number;
  readonly bucketMs: number;
  /** `[total, failures, slow]` per bucket. */
  #counts: Uint32Array;
  #head = 0;
  /** Absolute bucket number (`floor(now / bucketMs)`) the head bucket stands for. */
  #headEpoch = Number.NEGATIVE_INFINITY;

  constructor(durationMs: number, buckets: number) {
    this.durationMs = durationMs;
    this.buckets = buckets;
    this.bucketMs = durationMs / buckets;
    this.#counts = new Uint32Array(buckets * 3);
  }

  advance(now: number): void {
    const epoch = Math.floor(now / this.bucketMs);
    // Same bucket, or a clock that went backwards: keep recording into the head bucket.
    if (!(epoch > this.#headEpoch)) return;
    const steps = Math.min(epoch - this.#headEpoch, this.buckets);
    const counts = this.#counts;
    let head = this.#head;
    for (let step = 0; step < steps; step++) {
      head = head + 1 === this.buckets ? 0 : head + 1;
      const at = head * 3;
      this.total -= counts[at]!;
      this.failures -= counts[at + 1]!;
      this.slow -= counts[at + 2]!;
      counts[at] = 0;
      counts[at + 1] = 0;
      counts[at + 2] = 0;
    }
    this.#head = head;
    this.#headEpoch = epoch;
  }

  record(outcome: number, now: number): void {
    this.advance(now);
    const counts = this.#counts;
    const at = this.#head * 3;
    counts[at]!++;
    this.total++;
    if ((outcome & OUTCOME_FAILURE) !== 0) {
      counts[at + 1]!++;
      this.failures++;
    }
    if ((outcome & OUTCOME_SLOW) !== 0) {
      counts[at + 2]!++;
      this.slow++;
    }
  }

  reset(): void {
    this.#counts.fill(0);
    this.total = 0;
    this.failures = 0;
    this.slow = 0;
  }

  toJSON(now: number): WindowSnapshot {
    this.advance(now);
    const counts: [number, number, number][] = [];
    const found = Number.isFinite(this.#headEpoch) ? this.buckets : 0;
    for (let age = 0; age < found; age++) {
      const at = ((this.#head - age + this.buckets) % this.buckets) * 3;
      counts.push([this.#counts[at]!, this.#counts[at + 1]!, this.#counts[at + 2]!]);
    }
    // Trailing empty buckets carry no information.
    while (counts.length > 0 && counts[counts.length - 1]![0] === 0) counts.pop();
    return { type: 'time', durationMs: this.durationMs, buckets: this.buckets, counts };
  }

  restore(snapshot: WindowSnapshot, now: number): void {
    this.reset();
    this.advance(now);
    // Bucket ages only mean the same thing with the same bucket width.
    if (snapshot.type !== 'time' || snapshot.durationMs / snapshot.buckets !== this.bucketMs) return;
    const ages = Math.min(snapshot.counts.length, this.buckets);
    for (let age = 0; age < ages; age++) {
      const [total, failures, slow] = snapshot.counts[age]!;
      const at = ((this.#head - age + this.buckets) % this.buckets) * 3;
      const safeTotal = toCount(total);
      const safeFailures = Math.min(toCount(failures), safeTotal);
      const safeSlow = Math.min(toCount(slow), safeTotal);
      this.#counts[at] = safeTotal;
      this.#counts[at + 1] = safeFailures;
      this.#counts[at + 2] = safeSlow;
      this.total += safeTotal;
      this.failures += safeFailures;
      this.slow += safeSlow;
    }
  }
}

function toCount(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? Math.min(value, 0xffff_ffff) : 0;
}
