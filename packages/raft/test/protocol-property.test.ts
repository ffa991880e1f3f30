import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../src/index.js';
import { isProposalDroppedError, MemoryStorage, RawNode, seededRandom } from '../src/index.js';

// fast-check drives a 3-node cluster with arbitrary interleavings of ticks, campaigns,
// proposals, deliveries, drops, partitions and restarts; after every command the Ready of every
// node is handled (persist, send, apply) and Raft's invariants are checked. A failure shrinks to
// a minimal command sequence.

type Command =
  | { kind: 'tick'; node: number; times: number }
  | { kind: 'campaign'; node: number }
  | { kind: 'propose'; node: number }
  | { kind: 'deliver'; node: number; count: number }
  | { kind: 'drop'; node: number }
  | { kind: 'isolate'; node: number }
  | { kind: 'heal' }
  | { kind: 'stabilize' }
  | { kind: 'restart'; node: number };

const node = fc.integer({ min: 1, max: 3 });
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant('tick' as const), node, times: fc.integer({ min: 1, max: 25 }) }),
  fc.record({ kind: fc.constant('campaign' as const), node }),
  fc.record({ kind: fc.constant('propose' as const), node }),
  fc.record({ kind: fc.constant('deliver' as const), node, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('deliver' as const), node, count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant('drop' as const), node }),
  fc.record({ kind: fc.constant('isolate' as const), node }),
  fc.constant({ kind: 'heal' as const }),
  fc.constant({ kind: 'stabilize' as const }),
  fc.constant({ kind: 'stabilize' as const }),
  fc.record({ kind: fc.constant('restart' as const), node }),
);

/** Runs one schedule; returns how many entries were applied (summed over nodes). */
function runCommands(commands: Command[], preVote: boolean): number {
  const ids = [1, 2, 3];
  const storages = new Map(ids.map((id) => [id, MemoryStorage.withVoters(ids)]));
  const nodes = new Map<number, RawNode>();
  const appliedIndex = new Map(ids.map((id) => [id, 0]));
  const start = (id: number, incarnation: number): void => {
    const storage = storages.get(id)!;
    nodes.set(id, new RawNode({ id, storage, random: seededRandom(id * 31 + incarnation), preVote, checkQuorum: preVote }));
    appliedIndex.set(id, 0);
  };
  ids.forEach((id) => start(id, 0));
  const inbox = new Map<number, Message[]>(ids.map((id) => [id, []]));
  let isolated: number | undefined;
  const leaderOfTerm = new Map<number, number>();
  const appliedAt = new Map<number, string>();
  let proposals = 0;
  let restarts = 0;

  const handleReadies = (): void => {
    for (const id of ids) {
      const n = nodes.get(id)!;
      const storage = storages.get(id)!;
      while (n.hasReady()) {
        const rd = n.ready();
        if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
        storage.append(rd.entries);
        for (const m of rd.messages) {
          if (isolated !== undefined && (m.to === isolated || m.from === isolated)) continue;
          inbox.get(m.to)?.push(m);
        }
        for (const e of rd.committedEntries) {
          const desc = `${e.term}/${new TextDecoder().decode(e.data)}`;
          const prev = appliedAt.get(e.index);
          if (prev !== undefined) expect(desc, `state machine safety at index ${e.index}`).toBe(prev);
          appliedAt.set(e.index, desc);
          expect(e.index).toBe(appliedIndex.get(id)! + 1);
          appliedIndex.set(id, e.index);
        }
        n.advance();
        const st = n.status();
        if (st.state === 'leader') {
          const other = leaderOfTerm.get(st.term) ?? id;
          expect(other, `election safety in term ${st.term}`).toBe(id);
          leaderOfTerm.set(st.term, id);
        }
      }
    }
    // Log matching on the durable logs: same index and term => same prefix.
    for (const a of ids) {
      for (const b of ids) {
        if (a >= b) continue;
        const sa = storages.get(a)!;
        const sb = storages.get(b)!;
        const last = Math.min(sa.lastIndex(), sb.lastIndex());
        let matched = false;
        for (let i = last; i >= 1; i--) {
          if (!matched && sa.term(i) === sb.term(i)) matched = true;
          if (matched) {
            const ea = sa.entries(i, i + 1, Infinity)[0]!;
            const eb = sb.entries(i, i + 1, Infinity)[0]!;
            expect(ea.term, `log matching at ${i}`).toBe(eb.term);
            expect(Buffer.from(ea.data).equals(Buffer.from(eb.data))).toBe(true);
          }
        }
      }
    }
  };

  for (const c of commands) {
    switch (c.kind) {
      case 'tick':
        for (let i = 0; i < c.times; i++) nodes.get(c.node)!.tick();
        break;
      case 'campaign':
        nodes.get(c.node)!.campaign();
        break;
      case 'propose':
        try {
          nodes.get(c.node)!.propose(new TextEncoder().encode(`p${proposals++}`));
        } catch (e) {
          if (!isProposalDroppedError(e)) throw e;
        }
        break;
      case 'deliver': {
        const q = inbox.get(c.node)!;
        for (const m of q.splice(0, c.count)) nodes.get(c.node)!.step(m);
        break;
      }
      case 'drop':
        inbox.get(c.node)!.shift();
        break;
      case 'isolate':
        isolated = c.node;
        break;
      case 'heal':
        isolated = undefined;
        break;
      case 'stabilize':
        // Deliver everything queued, round after round, until the network is quiet.
        for (let round = 0; round < 20 && ids.some((id) => inbox.get(id)!.length > 0); round++) {
          for (const id of ids) {
            for (const m of inbox.get(id)!.splice(0)) nodes.get(id)!.step(m);
          }
          handleReadies();
        }
        break;
      case 'restart':
        inbox.set(c.node, []);
        start(c.node, ++restarts);
        break;
    }
    handleReadies();
  }
  return [...appliedIndex.values()].reduce((a, b) => a + b, 0);
}

describe('protocol properties (fast-check schedules)', () => {
  for (const preVote of [true, false]) {
    it(`election safety, log matching and state machine safety hold under any schedule (pre-vote and check-quorum ${preVote ? 'on' : 'off'})`, () => {
      let applied = 0;
      fc.assert(
        fc.property(fc.array(command, { minLength: 30, maxLength: 150, size: 'max' }), (cmds) => {
          applied += runCommands(cmds, preVote);
        }),
        { numRuns: 800 },
      );
      // The schedules do make progress (elections happen and entries commit).
      console.log(`property schedules applied ${applied} entries`);
      expect(applied).toBeGreaterThan(100);
    });
  }
});
