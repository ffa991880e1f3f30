import type { NodeId } from './types.js';

export type VoteResult = 'pending' | 'lost' | 'won';

/**
 * The committed index of a majority configuration given each voter's acknowledged index.
 * An empty configuration commits everything (so that a joint config with an empty half is
 * decided by the other half).
 */
export function majorityCommitted(voters: ReadonlySet<NodeId>, acked: (id: NodeId) => number): number {
  if (voters.size === 0) return Number.MAX_SAFE_INTEGER;
  const indexes: number[] = [];
  for (const id of voters) indexes.push(acked(id));
  indexes.sort((a, b) => b - a);
  return indexes[Math.floor(voters.size / 2)] ?? 0;
}

export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(voters.size / 2) + 1;
  if (yes >= q) return 'won';
  if (yes + missing >= q) return 'pending';
  return 'lost';
}

/** A (possibly joint) voter configuration: `[incoming, outgoing]`, outgoing empty when not joint. */
export interface JointVoters {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
}

export function jointCommitted(voters: JointVoters, acked: (id: NodeId) => number): number {
  return Math.min(majorityCommitted(voters.incoming, acked), majorityCommitted(voters.outgoing, acked));
}

export function jointVoteResult(voters: JointVoters, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVoteResult(voters.incoming, votes);
  const b = majorityVoteResult(voters.outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}
