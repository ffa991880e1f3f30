import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decide, quorumOf, runRound, type Tally, type Vote } from './quorum.js';

const votes = fc.integer({ min: 1, max: 9 }).chain((n) => fc.array(fc.constantFrom<Vote>('yes', 'no', 'error'), { minLength: n, maxLength: n }));

describe('quorum decisions', () => {
  it('quorum is a strict majority: two quorums always share a master', () => {
    for (let n = 1; n <= 64; n++) {
      expect(quorumOf(n) * 2).toBeGreaterThan(n);
      expect(quorumOf(n)).toBe(Math.floor(n / 2) + 1);
    }
  });

  it('an early decision is never contradicted by the answers still to come', () => {
    fc.assert(
      fc.property(votes, (all) => {
        const n = all.length;
        const final: Tally = { yes: 0, no: 0, error: 0 };
        for (const v of all) final[v]++;
        const tally: Tally = { yes: 0, no: 0, error: 0 };
        let early: string | undefined;
        for (const v of all) {
          tally[v]++;
          early ??= decide(tally, n);
        }
        // Once everyone answered there is always a decision.
        expect(decide(final, n)).toBeDefined();
        expect(early).toBeDefined();
        // "yes" exactly when a quorum granted; never "yes" on fewer.
        expect(early === 'yes').toBe(final.yes >= quorumOf(n) && earliestQuorumBeforeImpossible(all));
        // A refusal is only decided when a quorum of yes has become impossible.
        expect(early !== 'yes' && final.yes >= quorumOf(n)).toBe(false);
      }),
    );
  });

  it('runRound resolves as soon as a quorum granted, without waiting for a hung master', async () => {
    const never = new Promise<boolean>(() => undefined);
    const round = await runRound([Promise.resolve(true), never, Promise.resolve(true), Promise.resolve(true), never], (r) =>
      r.status === 'fulfilled' && r.value ? 'yes' : 'no',
    );
    expect(round.decision).toBe('yes');
    expect(round.tally).toEqual({ yes: 3, no: 0, error: 0 });
  });

  it('runRound reports unavailable when errors alone rule out a quorum', async () => {
    const round = await runRound(
      [Promise.reject(new Error('down')), Promise.resolve(true), Promise.reject(new Error('down')), Promise.reject(new Error('down')), Promise.resolve(true)],
      (r) => (r.status === 'rejected' ? 'error' : 'yes'),
    );
    expect(round.decision).toBe('unavailable');
  });
});

/** True when the quorum of yes votes is reached before a quorum becomes impossible. */
function earliestQuorumBeforeImpossible(all: Vote[]): boolean {
  const n = all.length;
  const q = quorumOf(n);
  let yes = 0;
  let other = 0;
  for (const v of all) {
    if (v === 'yes') yes++;
    else other++;
    if (yes >= q) return true;
    if (other > n - q) return false;
  }
  return false;
}
