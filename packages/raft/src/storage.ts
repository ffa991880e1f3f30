import { CompactedError, SnapshotOutOfDateError, UnavailableError } from './errors.js';
import type { ConfState, Entry, HardState, Snapshot } from './types.js';
import { emptyConfState, entrySize } from './types.js';

/**
 * The read side of the log storage, as the Raft core uses it. The application (or the future
 * disk runtime) owns the write side; the contract:
 *
 * - `entries(lo, hi, maxBytes)` returns entries `[lo, hi)`, at least one if `lo < hi`, stopping
 *   before the total size would exceed `maxBytes`. Throws `CompactedError` if `lo <= snapshot
 *   index` and `UnavailableError` if `hi > lastIndex() + 1`.
 * - `term(i)` is valid for `firstIndex() - 1 <= i <= lastIndex()` (the snapshot's own term at
 *   `firstIndex() - 1`), else throws `CompactedError` / `UnavailableError`.
 * - `firstIndex()` is the snapshot index + 1; `lastIndex()` may be `firstIndex() - 1` when empty.
 * - `snapshot()` returns the most recent snapshot (may throw
 *   `SnapshotTemporarilyUnavailableError`, Raft retries).
 * - Everything returned must be durable: Raft never reads back what the application has not
 *   persisted (unpersisted entries live in the core's unstable log until `advance`).
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  term(index: number): number;
  firstIndex(): number;
  lastIndex(): number;
  snapshot(): Snapshot;
}

/** The write side a durable storage provides (what the Ready loop calls). */
export interface WritableStorage extends Storage {
  setHardState(hardState: HardState): void;
  /** Appends entries, truncating any existing suffix that they overwrite. */
  append(entries: readonly Entry[]): void;
  /** Replaces the whole log by the snapshot. Throws `SnapshotOutOfDateError` if older. */
  applySnapshot(snapshot: Snapshot): void;
  /** Records an application snapshot at `index` (which must be applied). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot;
  /** Discards entries before `compactIndex` (the entry at `compactIndex` stays, as the log's dummy head). */
  compact(compactIndex: number): void;
}

/** In-memory `WritableStorage`, for tests, simulations and the core's own use. */
export class MemoryStorage implements WritableStorage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private snap: Snapshot = { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: new Uint8Array() };
  // ents[0] is a dummy entry carrying the snapshot's index and term.
  private ents: Entry[] = [{ index: 0, term: 0, type: 'normal', data: new Uint8Array() }];

  /** A storage whose initial snapshot holds the given voters (how a fresh cluster is bootstrapped). */
  static withVoters(voters: readonly number[], learners: readonly number[] = []): MemoryStorage {
    const s = new MemoryStorage();
    s.snap = { metadata: { index: 0, term: 0, confState: { ...emptyConfState(), voters: [...voters], learners: [...learners] } }, data: new Uint8Array() };
    return s;
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  private get offset(): number {
    return this.head.index;
  }

  private get head(): Entry {
    const h = this.ents[0];
    if (h === undefined) throw new Error('MemoryStorage: corrupt log');
    return h;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset;
    if (lo <= offset) throw new CompactedError(lo);
    if (hi > this.lastIndex() + 1) throw new UnavailableError(hi - 1);
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - offset];
      if (e === undefined) throw new UnavailableError(i);
      size += entrySize(e);
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  term(index: number): number {
    const offset = this.offset;
    if (index < offset) throw new CompactedError(index);
    const e = this.ents[index - offset];
    if (e === undefined) throw new UnavailableError(index);
    return e.term;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  applySnapshot(snapshot: Snapshot): void {
    const index = snapshot.metadata.index;
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    this.snap = snapshot;
    this.ents = [{ index, term: snapshot.metadata.term, type: 'normal', data: new Uint8Array() }];
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) throw new SnapshotOutOfDateError(index, this.snap.metadata.index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    const term = this.term(index);
    this.snap = { metadata: { index, term, confState }, data };
    return this.snap;
  }

  compact(compactIndex: number): void {
    const offset = this.offset;
    if (compactIndex <= offset) throw new CompactedError(compactIndex);
    if (compactIndex > this.lastIndex()) throw new UnavailableError(compactIndex);
    const i = compactIndex - offset;
    const kept = this.ents.slice(i);
    const first = kept[0];
    if (first === undefined) throw new UnavailableError(compactIndex);
    kept[0] = { index: first.index, term: first.term, type: 'normal', data: new Uint8Array() };
    this.ents = kept;
  }

  append(entries: readonly Entry[]): void {
    const firstNew = entries[0];
    if (firstNew === undefined) return;
    const first = this.firstIndex();
    const last = firstNew.index + entries.length - 1;
    if (last < first) return;
    let toAppend = entries;
    if (first > firstNew.index) toAppend = entries.slice(first - firstNew.index);
    const head = toAppend[0];
    if (head === undefined) return;
    const at = head.index - this.offset;
    if (at > this.ents.length) throw new UnavailableError(this.lastIndex() + 1);
    // Truncate a conflicting suffix in place, then append (no copy of the whole log).
    if (at < this.ents.length) this.ents.length = at;
    for (const e of toAppend) this.ents.push(e);
  }
}
