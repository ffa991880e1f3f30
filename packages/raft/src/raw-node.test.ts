import { describe, expect, it } from 'vitest';
import { isProposalDroppedError, ProposalDroppedError } from './errors.js';
import { seededRandom } from './random.js';
import type { Ready } from './raw-node.js';
import { RawNode } from './raw-node.js';
import { MemoryStorage } from './storage.js';
import { message } from './types.js';

const te = new TextEncoder();
const td = new TextDecoder();

function persist(storage: MemoryStorage, rd: Ready): void {
  if (rd.snapshot !== undefined) storage.applySnapshot(rd.snapshot);
  if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
  storage.append(rd.entries);
}

function drain(node: RawNode, storage: MemoryStorage): Ready[] {
  const out: Ready[] = [];
  while (node.hasReady()) {
    const rd = node.ready();
    persist(storage, rd);
    out.push(rd);
    node.advance();
  }
  return out;
}

describe('RawNode options', () => {
  const storage = MemoryStorage.withVoters([1]);
  it('validates at construction, naming the option', () => {
    expect(() => new RawNode({ id: 0, storage })).toThrow(RangeError);
    expect(() => new RawNode({ id: 1, storage, electionTicks: 1 })).toThrow(/electionTicks/);
    expect(() => new RawNode({ id: 1, storage, electionTicks: 5, heartbeatTicks: 5 })).toThrow(/heartbeatTicks must be < electionTicks/);
    expect(() => new RawNode({ id: 1, storage, readOnlyOption: 'leaseBased', checkQuorum: false })).toThrow(/requires checkQuorum/);
    expect(() => new RawNode({ id: 1, storage, maxInflightMsgs: 0 })).toThrow(/maxInflightMsgs/);
    expect(() => new RawNode({ id: 1, storage, random: {} as never })).toThrow(TypeError);
  });
});

describe('RawNode on a single voter', () => {
  it('campaigns, proposes, commits and applies through Ready/advance', () => {
    const storage = MemoryStorage.withVoters([1]);
    const node = new RawNode({ id: 1, storage });
    node.campaign();
    let readies = drain(node, storage);
    expect(node.status()).toMatchObject({ state: 'leader', term: 1, lead: 1, commit: 1 });
    expect(readies.some((r) => r.softState?.state === 'leader')).toBe(true);
    node.propose(te.encode('hello'));
    readies = drain(node, storage);
    const committed = readies.flatMap((r) => r.committedEntries).map((e) => td.decode(e.data));
    expect(committed).toEqual(['hello']);
    expect(readies[0]?.mustSync).toBe(true);
    expect(storage.lastIndex()).toBe(2);
    expect(node.hasReady()).toBe(false);
    expect(node.status().applied).toBe(2);
  });

  it('refuses a second ready() before advance()', () => {
    const storage = MemoryStorage.withVoters([1]);
    const node = new RawNode({ id: 1, storage });
    node.campaign();
    node.ready();
    expect(() => node.ready()).toThrow(/advance/);
    expect(node.hasReady()).toBe(false);
  });

  it('restarts from storage without re-applying what was applied', () => {
    const storage = MemoryStorage.withVoters([1]);
    const node = new RawNode({ id: 1, storage });
    node.campaign();
    drain(node, storage);
    node.propose(te.encode('a'));
    node.propose(te.encode('b'));
    drain(node, storage);
    const restarted = new RawNode({ id: 1, storage, applied: 2 });
    expect(restarted.status()).toMatchObject({ term: 1, vote: 1, commit: 3, state: 'follower' });
    const rd = restarted.ready();
    expect(rd.committedEntries.map((e) => td.decode(e.data))).toEqual(['b']);
  });
});

describe('RawNode errors', () => {
  it('drops proposals without a leader with a typed error', () => {
    const node = new RawNode({ id: 1, storage: MemoryStorage.withVoters([1, 2, 3]) });
    let err: unknown;
    try {
      node.propose(te.encode('x'));
    } catch (e) {
      err = e;
    }
    expect(isProposalDroppedError(err)).toBe(true);
    expect(err).toBeInstanceOf(ProposalDroppedError);
    expect((err as ProposalDroppedError).code).toBe('ERR_RAFT_PROPOSAL_DROPPED');
    expect((err as ProposalDroppedError).reason).toBe('no-leader');
    expect(() => node.readIndex(te.encode('r'))).toThrow(ProposalDroppedError);
    expect(() => node.transferLeadership(2)).toThrow(ProposalDroppedError);
  });

  it('refuses local message types and senderless messages through step()', () => {
    const node = new RawNode({ id: 1, storage: MemoryStorage.withVoters([1, 2, 3]) });
    expect(() => node.step(message({ type: 'MsgHup', from: 2 }))).toThrow(TypeError);
    expect(() => node.step(message({ type: 'MsgProp', from: 1, entries: [] }))).toThrow(TypeError);
    expect(() => node.step(message({ type: 'MsgApp', from: 0, term: 1 }))).toThrow(TypeError);
    expect(() => node.propose('x' as never)).toThrow(TypeError);
    expect(() => node.readIndex(new Uint8Array())).toThrow(TypeError);
  });
});

describe('randomized election timeout', () => {
  const ticksUntilCampaign = (value: number): number => {
    const node = new RawNode({ id: 1, storage: MemoryStorage.withVoters([1, 2, 3]), electionTicks: 10, random: { next: () => value } });
    for (let i = 1; i <= 100; i++) {
      node.tick();
      if (node.status().state !== 'follower') return i;
    }
    return -1;
  };

  it('comes from the injected random source, within [electionTicks, 2 * electionTicks)', () => {
    expect(ticksUntilCampaign(0)).toBe(10);
    expect(ticksUntilCampaign(0.55)).toBe(15);
    expect(ticksUntilCampaign(0.999)).toBe(19);
  });

  it('is deterministic for a seeded source', () => {
    const run = (): number[] => {
      const r = seededRandom(42);
      return [r.next(), r.next(), r.next()];
    };
    expect(run()).toEqual(run());
    expect(new Set(run()).size).toBe(3);
  });
});
