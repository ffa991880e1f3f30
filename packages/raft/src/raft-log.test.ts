import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RaftLog } from './raft-log.js';
import { MemoryStorage } from './storage.js';
import type { Entry } from './types.js';

const ent = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array() });

/** A log with non-decreasing terms built from a list of term increments. */
const termsArb = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: 20 }).map((incs) => {
  let t = 1;
  return incs.map((d) => (t += d));
});

function logWith(terms: number[]): RaftLog {
  const log = new RaftLog(new MemoryStorage());
  log.append(terms.map((t, i) => ent(i + 1, t)));
  return log;
}

describe('RaftLog', () => {
  it('after a successful maybeAppend, the follower holds the leader entries in place', () => {
    fc.assert(
      fc.property(termsArb, termsArb, fc.nat(), (followerTerms, leaderTerms, cut) => {
        const follower = logWith(followerTerms);
        const prev = leaderTerms.length === 0 ? 0 : cut % (leaderTerms.length + 1);
        const prevTerm = prev === 0 ? 0 : (leaderTerms[prev - 1] ?? 0);
        const sent = leaderTerms.slice(prev).map((t, i) => ent(prev + 1 + i, t));
        const lastNew = follower.maybeAppend(prev, prevTerm, 0, sent);
        const matched = follower.termOf(prev) === prevTerm;
        expect(lastNew).toBe(matched ? prev + sent.length : undefined);
        const held = sent.map((e) => follower.termOf(e.index));
        const expected = sent.map((e) => (matched ? e.term : follower.termOf(e.index)));
        expect(held).toEqual(expected);
      }),
    );
  });

  it('findConflictByTerm returns the last index whose term is <= the given term', () => {
    fc.assert(
      fc.property(termsArb, fc.nat(), fc.integer({ min: 0, max: 50 }), (terms, at, term) => {
        const log = logWith(terms);
        const index = terms.length === 0 ? 0 : at % (terms.length + 1);
        const hint = log.findConflictByTerm(index, term);
        expect(hint.index).toBeLessThanOrEqual(index);
        expect(log.termOf(hint.index)).toBe(hint.term);
        expect(hint.term).toBeLessThanOrEqual(term);
        for (let i = hint.index + 1; i <= index; i++) expect(log.termOf(i)!).toBeGreaterThan(term);
      }),
    );
  });

  it('refuses to overwrite committed entries', () => {
    const log = logWith([1, 1, 2]);
    log.commitTo(3);
    expect(() => log.maybeAppend(1, 1, 3, [ent(2, 5)])).toThrow(/conflicts with committed/);
  });

  it('only commits entries of the current term by counting (§5.4.2)', () => {
    const log = logWith([1, 1, 2]);
    expect(log.maybeCommit(2, 2)).toBe(false);
    expect(log.committed).toBe(0);
    expect(log.maybeCommit(3, 2)).toBe(true);
    expect(log.committed).toBe(3);
  });
});
