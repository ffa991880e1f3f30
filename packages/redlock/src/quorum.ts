// Counting the masters' answers to one round (acquire, extend or release) and
// deciding as soon as the outcome is certain, so one paused master never makes
// the others wait for its timeout.

export type Vote = 'yes' | 'no' | 'error';

export type RoundDecision = 'yes' | 'no' | 'unavailable';

export interface Tally {
  yes: number;
  no: number;
  error: number;
}

/** The quorum of N masters: ⌊N/2⌋ + 1. */
export function quorumOf(masters: number): number {
  return Math.floor(masters / 2) + 1;
}

/**
 * The decision for `tally` out of `masters`, or undefined while it could still go either way.
 * yes: a quorum said yes. Otherwise, once a quorum of yes is impossible: `unavailable` if the
 * errors alone make it impossible, else `no`. When everyone has answered a decision always exists.
 */
export function decide(tally: Tally, masters: number): RoundDecision | undefined {
  const quorum = quorumOf(masters);
  if (tally.yes >= quorum) return 'yes';
  if (tally.no + tally.error > masters - quorum) return tally.error > masters - quorum ? 'unavailable' : 'no';
  if (tally.yes + tally.no + tally.error === masters) return tally.error > 0 ? 'unavailable' : 'no';
  return undefined;
}

/**
 * Runs one round: resolves with the decision as soon as it is certain, or when every
 * promise settled, with a snapshot of the answers known at that moment. Never rejects.
 */
export function runRound<T>(
  tasks: readonly Promise<T>[],
  vote: (result: PromiseSettledResult<T>) => Vote,
): Promise<{ decision: RoundDecision; tally: Tally; results: (PromiseSettledResult<T> | undefined)[] }> {
  const results: (PromiseSettledResult<T> | undefined)[] = tasks.map(() => undefined);
  const tally: Tally = { yes: 0, no: 0, error: 0 };
  return new Promise((resolve) => {
    let done = false;
    const record = (index: number, result: PromiseSettledResult<T>): void => {
      results[index] = result;
      tally[vote(result)]++;
      if (done) return;
      const decision = decide(tally, tasks.length);
      if (decision !== undefined) {
        done = true;
        resolve({ decision, tally: { ...tally }, results: [...results] });
      }
    };
    tasks.forEach((task, index) => {
      task.then(
        (value) => record(index, { status: 'fulfilled', value }),
        (reason: unknown) => record(index, { status: 'rejected', reason }),
      );
    });
  });
}
