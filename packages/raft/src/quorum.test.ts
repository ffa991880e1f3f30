import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jointCommitted, jointVoteResult, majorityCommitted, majorityVoteResult } from './quorum.js';

describe('quorum', () => {
  it('majorityCommitted is the largest index a majority has reached', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 100 }), { minLength: 1, maxLength: 9 }), (matches) => {
        const voters = new Set(matches.map((_, i) => i + 1));
        const c = majorityCommitted(voters, (id) => matches[id - 1] ?? 0);
        const atLeast = (x: number): number => matches.filter((m) => m >= x).length;
        const q = Math.floor(matches.length / 2) + 1;
        expect(atLeast(c)).toBeGreaterThanOrEqual(q);
        expect(atLeast(c + 1)).toBeLessThan(q);
      }),
    );
  });

  it('a joint configuration needs both majorities', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 6, maxLength: 6 }), (matches) => {
        const incoming = new Set([1, 2, 3]);
        const outgoing = new Set([3, 4, 5, 6]);
        const acked = (id: number): number => matches[id - 1] ?? 0;
        const c = jointCommitted({ incoming, outgoing }, acked);
        expect(c).toBe(Math.min(majorityCommitted(incoming, acked), majorityCommitted(outgoing, acked)));
      }),
    );
    expect(jointCommitted({ incoming: new Set([1]), outgoing: new Set() }, () => 7)).toBe(7);
  });

  it('vote results: won, lost and pending', () => {
    const voters = new Set([1, 2, 3]);
    expect(majorityVoteResult(voters, new Map([[1, true], [2, true]]))).toBe('won');
    expect(majorityVoteResult(voters, new Map([[1, true], [2, false]]))).toBe('pending');
    expect(majorityVoteResult(voters, new Map([[1, false], [2, false]]))).toBe('lost');
    const joint = { incoming: new Set([1, 2, 3]), outgoing: new Set([1, 4, 5]) };
    expect(jointVoteResult(joint, new Map([[1, true], [2, true]]))).toBe('pending');
    expect(jointVoteResult(joint, new Map([[1, true], [2, true], [4, true]]))).toBe('won');
    expect(jointVoteResult(joint, new Map([[1, true], [2, true], [4, false], [5, false]]))).toBe('lost');
  });
});
