import { isCompactedError, isUnavailableError } from './errors.js';
import type { Storage } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { entrySize } from './types.js';

/**
 * The Raft log: durable entries in `Storage` followed by the unstable tail (entries and possibly
 * a snapshot the application has not persisted yet).
 */
export class RaftLog {
  committed: number;
  applied: number;
  /** Highest index handed out in a Ready but not yet advanced past. */
  applying: number;
  unstableSnapshot: Snapshot | undefined = undefined;
  unstableEntries: Entry[] = [];
  /** Index of `unstableEntries[0]`. */
  unstableOffset: number;

  constructor(readonly storage: Storage) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstableOffset = last + 1;
    this.committed = first - 1;
    this.applied = first - 1;
    this.applying = first - 1;
  }

  firstIndex(): number {
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.metadata.index + 1;
    return this.storage.firstIndex();
  }

  lastIndex(): number {
    if (this.unstableEntries.length > 0) return this.unstableOffset + this.unstableEntries.length - 1;
    if (this.unstableSnapshot !== undefined) return this.unstableSnapshot.metadata.index;
    return this.storage.lastIndex();
  }

  lastTerm(): number {
    const t = this.termOf(this.lastIndex());
    if (t === undefined) throw new Error(`raft log: no term for last index ${this.lastIndex()}`);
    return t;
  }

  /** The term of entry `i`, or undefined if it was compacted or does not exist. */
  termOf(i: number): number | undefined {
    if (i === 0) return 0;
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return undefined;
    if (i >= this.unstableOffset && this.unstableEntries.length > 0) {
      return this.unstableEntries[i - this.unstableOffset]?.term;
    }
    if (this.unstableSnapshot !== undefined && i === this.unstableSnapshot.metadata.index) return this.unstableSnapshot.metadata.term;
    if (this.unstableSnapshot !== undefined) return undefined;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (isCompactedError(e) || isUnavailableError(e)) return undefined;
      throw e;
    }
  }

  matchTerm(i: number, term: number): boolean {
    return this.termOf(i) === term;
  }

  isUpToDate(lastIndex: number, term: number): boolean {
    const myTerm = this.lastTerm();
    return term > myTerm || (term === myTerm && lastIndex >= this.lastIndex());
  }

  /** Follower-side append (§5.3). Returns the last new index, or undefined when the log does not match. */
  maybeAppend(index: number, logTerm: number, committed: number, entries: readonly Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) throw new Error(`raft log: entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      const first = entries[0];
      if (first === undefined) throw new Error('raft log: conflict without entries');
      this.append(entries.slice(conflict - first.index));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** The index of the first entry that is new or conflicts with the log, 0 if none. */
  findConflict(entries: readonly Entry[]): number {
    for (const e of entries) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term: the conflict hint
   * for fast backtracking (a leader with `term` at this index skips the whole mismatching term).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= 0; i--) {
      const t = this.termOf(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    const after = first.index - 1;
    if (after < this.committed) throw new Error(`raft log: append after ${after} is below committed ${this.committed}`);
    this.truncateAndAppend(entries);
    return this.lastIndex();
  }

  private truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const fromIndex = first.index;
    const end = this.unstableOffset + this.unstableEntries.length;
    if (fromIndex === end) {
      this.unstableEntries.push(...entries);
    } else if (fromIndex <= this.unstableOffset) {
      // Replaces the whole unstable tail (and possibly overwrites durable entries).
      this.unstableOffset = fromIndex;
      this.unstableEntries = [...entries];
    } else {
      this.unstableEntries = this.unstableEntries.slice(0, fromIndex - this.unstableOffset).concat(entries);
    }
  }

  /** Entries `[lo, hi)`, limited to `maxBytes` (at least one). Undefined if compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] | undefined {
    if (lo >= hi) return [];
    if (lo < this.firstIndex()) return undefined;
    if (hi > this.lastIndex() + 1) throw new Error(`raft log: slice [${lo}, ${hi}) out of bound ${this.lastIndex()}`);
    const out: Entry[] = [];
    let size = 0;
    if (lo < this.unstableOffset) {
      const storageHi = Math.min(hi, this.unstableOffset);
      let stored: Entry[];
      try {
        stored = this.storage.entries(lo, storageHi, maxBytes);
      } catch (e) {
        if (isCompactedError(e)) return undefined;
        throw e;
      }
      for (const e of stored) {
        size += entrySize(e);
        out.push(e);
      }
      if (stored.length < storageHi - lo) return out;
    }
    if (hi > this.unstableOffset) {
      for (let i = Math.max(lo, this.unstableOffset); i < hi; i++) {
        const e = this.unstableEntries[i - this.unstableOffset];
        if (e === undefined) break;
        size += entrySize(e);
        if (out.length > 0 && size > maxBytes) break;
        out.push(e);
      }
    }
    return out;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) throw new Error(`raft log: commit ${index} out of range [last ${this.lastIndex()}]`);
    this.committed = index;
  }

  /** §5.4.2: only an entry of the current term is committed by counting replicas. */
  maybeCommit(index: number, term: number): boolean {
    if (index > this.committed && this.termOf(index) === term) {
      this.commitTo(index);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    if (index > this.committed || index < this.applied) {
      throw new Error(`raft log: applied ${index} out of range [applied ${this.applied}, committed ${this.committed}]`);
    }
    this.applied = index;
    if (this.applying < index) this.applying = index;
  }

  hasNextCommittedEntries(): boolean {
    const lo = Math.max(this.applying + 1, this.firstIndex());
    return this.committed + 1 > lo;
  }

  nextCommittedEntries(maxBytes: number): Entry[] {
    const lo = Math.max(this.applying + 1, this.firstIndex());
    const hi = this.committed + 1;
    if (hi <= lo) return [];
    return this.slice(lo, hi, maxBytes) ?? [];
  }

  /** The application persisted entries up to (i, t). */
  stableTo(i: number, t: number): void {
    if (i < this.unstableOffset) return;
    const e = this.unstableEntries[i - this.unstableOffset];
    if (e === undefined || e.term !== t) return;
    this.unstableEntries = this.unstableEntries.slice(i + 1 - this.unstableOffset);
    this.unstableOffset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.unstableSnapshot !== undefined && this.unstableSnapshot.metadata.index === i) this.unstableSnapshot = undefined;
  }

  snapshot(): Snapshot {
    return this.unstableSnapshot ?? this.storage.snapshot();
  }

  restore(s: Snapshot): void {
    const index = s.metadata.index;
    this.committed = index;
    this.unstableOffset = index + 1;
    this.unstableEntries = [];
    this.unstableSnapshot = s;
  }

  /** Entries in `[from, last]`, or all if from <= first. Used when leaders must check pending conf changes. */
  allUnappliedCommitted(): Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    return this.slice(lo, this.committed + 1, Number.MAX_SAFE_INTEGER) ?? [];
  }
}
