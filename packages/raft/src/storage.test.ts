import { describe, expect, it } from 'vitest';
import { isCompactedError, isSnapshotOutOfDateError, isUnavailableError } from './errors.js';
import { MemoryStorage } from './storage.js';
import type { Entry } from './types.js';
import { emptyConfState } from './types.js';

const ent = (index: number, term: number, text = ''): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(text) });

function storageWith(last: number): MemoryStorage {
  const s = new MemoryStorage();
  s.append(Array.from({ length: last }, (_, i) => ent(i + 1, Math.ceil((i + 1) / 3), `e${i + 1}`)));
  return s;
}

describe('MemoryStorage', () => {
  it('starts empty with a dummy entry at index 0', () => {
    const s = new MemoryStorage();
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.initialState().hardState).toEqual({ term: 0, vote: 0, commit: 0 });
  });

  it('returns entries [lo, hi) within maxBytes, always at least one', () => {
    const s = storageWith(9);
    expect(s.entries(2, 5, Number.MAX_SAFE_INTEGER).map((e) => e.index)).toEqual([2, 3, 4]);
    expect(s.entries(2, 5, 0).map((e) => e.index)).toEqual([2]);
    expect(s.entries(2, 9, 2 * 26).map((e) => e.index)).toEqual([2, 3]);
  });

  it('throws CompactedError below the first index and UnavailableError past the last', () => {
    const s = storageWith(9);
    s.compact(4);
    expect(s.firstIndex()).toBe(5);
    expect(s.term(4)).toBe(2);
    expect(() => s.term(3)).toThrow(expect.objectContaining({ code: 'ERR_RAFT_COMPACTED' }) as Error);
    let err: unknown;
    try {
      s.entries(4, 6, 100);
    } catch (e) {
      err = e;
    }
    expect(isCompactedError(err)).toBe(true);
    try {
      s.entries(5, 11, 100);
    } catch (e) {
      err = e;
    }
    expect(isUnavailableError(err)).toBe(true);
    expect(() => s.term(10)).toThrow(/unavailable/);
  });

  it('append truncates a conflicting suffix and ignores entries already compacted', () => {
    const s = storageWith(6);
    s.append([ent(4, 9, 'new4'), ent(5, 9, 'new5')]);
    expect(s.lastIndex()).toBe(5);
    expect(s.term(4)).toBe(9);
    s.compact(3);
    s.append([ent(2, 9), ent(3, 9), ent(4, 9, 'again'), ent(5, 9), ent(6, 9)]);
    expect(s.firstIndex()).toBe(4);
    expect(s.lastIndex()).toBe(6);
    expect(() => s.append([ent(9, 9)])).toThrow(/unavailable/);
  });

  it('creates and applies snapshots, refusing older ones', () => {
    const s = storageWith(6);
    const snap = s.createSnapshot(5, { ...emptyConfState(), voters: [1, 2] }, new Uint8Array([1]));
    expect(snap.metadata).toMatchObject({ index: 5, term: 2 });
    expect(() => s.createSnapshot(4, emptyConfState(), new Uint8Array())).toThrow(expect.objectContaining({ code: 'ERR_RAFT_SNAPSHOT_OUT_OF_DATE' }) as Error);
    const follower = new MemoryStorage();
    follower.applySnapshot(snap);
    expect(follower.firstIndex()).toBe(6);
    expect(follower.lastIndex()).toBe(5);
    expect(follower.term(5)).toBe(2);
    expect(follower.initialState().confState.voters).toEqual([1, 2]);
    let err: unknown;
    try {
      follower.applySnapshot(snap);
    } catch (e) {
      err = e;
    }
    expect(isSnapshotOutOfDateError(err)).toBe(true);
  });
});
