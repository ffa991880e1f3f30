import { ConfChangeError } from './errors.js';
import type { ConfState, NodeId } from './types.js';

export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode';

export interface ConfChangeSingle {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
}

/**
 * - `auto`: a single voter change is applied directly (single-server change); anything else
 *   goes through a joint configuration that the leader leaves automatically.
 * - `implicit`: always joint, left automatically.
 * - `explicit`: always joint; the application leaves it by proposing an empty change.
 */
export type ConfChangeTransition = 'auto' | 'implicit' | 'explicit';

/** A membership change. An empty `changes` list means "leave the joint configuration". */
export interface ConfChange {
  readonly changes: readonly ConfChangeSingle[];
  readonly transition?: ConfChangeTransition;
}

/** The membership a node uses for quorums. */
export interface Membership {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
  readonly learners: ReadonlySet<NodeId>;
  readonly learnersNext: ReadonlySet<NodeId>;
  readonly autoLeave: boolean;
}

export function encodeConfChange(cc: ConfChange): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ changes: cc.changes, transition: cc.transition ?? 'auto' }));
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(data));
  } catch {
    throw new ConfChangeError('malformed conf change entry');
  }
  if (typeof raw !== 'object' || raw === null || !Array.isArray((raw as { changes?: unknown }).changes)) {
    throw new ConfChangeError('malformed conf change entry');
  }
  const r = raw as { changes: unknown[]; transition?: unknown };
  const changes: ConfChangeSingle[] = [];
  for (const c of r.changes) {
    const cs = c as { type?: unknown; nodeId?: unknown };
    if ((cs.type !== 'addNode' && cs.type !== 'addLearner' && cs.type !== 'removeNode') || typeof cs.nodeId !== 'number') {
      throw new ConfChangeError('malformed conf change entry');
    }
    changes.push({ type: cs.type, nodeId: cs.nodeId });
  }
  const t = r.transition;
  const transition: ConfChangeTransition = t === 'implicit' || t === 'explicit' ? t : 'auto';
  return { changes, transition };
}

export function validateConfChange(cc: ConfChange): void {
  const changes: unknown = (cc as { changes?: unknown }).changes;
  if (!Array.isArray(changes)) throw new ConfChangeError('changes must be an array');
  for (const c of changes as readonly ConfChangeSingle[]) {
    const id: unknown = c.nodeId;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0) throw new ConfChangeError(`invalid node id ${String(id)}: must be a positive integer`);
    if (c.type !== 'addNode' && c.type !== 'addLearner' && c.type !== 'removeNode') throw new ConfChangeError(`invalid conf change type ${String(c.type)}`);
  }
}

export function membershipFromConfState(cs: ConfState): Membership {
  return {
    incoming: new Set(cs.voters),
    outgoing: new Set(cs.votersOutgoing),
    learners: new Set(cs.learners),
    learnersNext: new Set(cs.learnersNext),
    autoLeave: cs.autoLeave,
  };
}

export function confStateOf(m: Membership): ConfState {
  const sorted = (s: ReadonlySet<NodeId>): NodeId[] => [...s].sort((a, b) => a - b);
  return {
    voters: sorted(m.incoming),
    learners: sorted(m.learners),
    votersOutgoing: sorted(m.outgoing),
    learnersNext: sorted(m.learnersNext),
    autoLeave: m.autoLeave,
  };
}

export function isJoint(m: Membership): boolean {
  return m.outgoing.size > 0;
}

interface MutableMembership {
  incoming: Set<NodeId>;
  outgoing: Set<NodeId>;
  learners: Set<NodeId>;
  learnersNext: Set<NodeId>;
  autoLeave: boolean;
}

function clone(m: Membership): MutableMembership {
  return {
    incoming: new Set(m.incoming),
    outgoing: new Set(m.outgoing),
    learners: new Set(m.learners),
    learnersNext: new Set(m.learnersNext),
    autoLeave: m.autoLeave,
  };
}

function applySingles(m: MutableMembership, changes: readonly ConfChangeSingle[]): void {
  for (const c of changes) {
    const id = c.nodeId;
    switch (c.type) {
      case 'addNode':
        m.learners.delete(id);
        m.learnersNext.delete(id);
        m.incoming.add(id);
        break;
      case 'addLearner':
        m.incoming.delete(id);
        m.learners.delete(id);
        m.learnersNext.delete(id);
        // A voter of the outgoing config cannot become a learner before the joint config is left
        // (a node is never a voter and a learner at once): it is staged in learnersNext.
        if (m.outgoing.has(id)) m.learnersNext.add(id);
        else m.learners.add(id);
        break;
      case 'removeNode':
        m.incoming.delete(id);
        m.learners.delete(id);
        m.learnersNext.delete(id);
        break;
    }
  }
  if (m.incoming.size === 0) throw new ConfChangeError('removing all voters is not allowed');
}

function symmetricDifference(a: ReadonlySet<NodeId>, b: ReadonlySet<NodeId>): number {
  let n = 0;
  for (const x of a) if (!b.has(x)) n++;
  for (const x of b) if (!a.has(x)) n++;
  return n;
}

/** Whether a change would be applied as a single-server change (no joint config). */
export function isSimpleChange(cc: ConfChange): boolean {
  return (cc.transition ?? 'auto') === 'auto' && cc.changes.length <= 1 && cc.changes.length > 0;
}

/**
 * Applies a conf change to a membership, enforcing the thesis' safety rules: a single-server
 * change alters at most one voter (§4.1); anything larger goes through a joint configuration
 * (§4.3), and a joint configuration must be left before the next change.
 */
export function applyConfChange(current: Membership, cc: ConfChange): Membership {
  validateConfChange(cc);
  if (cc.changes.length === 0) {
    if (!isJoint(current)) throw new ConfChangeError('cannot leave a joint configuration: not in one');
    const m = clone(current);
    for (const id of m.learnersNext) m.learners.add(id);
    m.learnersNext.clear();
    m.outgoing.clear();
    m.autoLeave = false;
    return m;
  }
  if (isJoint(current)) throw new ConfChangeError('a joint configuration must be left before the next change');
  const m = clone(current);
  if (isSimpleChange(cc)) {
    applySingles(m, cc.changes);
    if (symmetricDifference(m.incoming, current.incoming) > 1) {
      throw new ConfChangeError('a single-server change may alter at most one voter');
    }
    return m;
  }
  m.outgoing = new Set(current.incoming);
  applySingles(m, cc.changes);
  m.autoLeave = (cc.transition ?? 'auto') !== 'explicit';
  return m;
}
