// A seeded, deterministic simulation of a replicated KV store on the Raft core: random
// partitions, loss, duplication, reordering (random delays), crash-restart losing the Ready
// being persisted, per-node clock skew, snapshots and compaction. Invariants are asserted on
// every step; client histories (puts via proposals, gets via ReadIndex) are returned for the
// linearizability checker.
import type { KvInput, KvOutput, Operation, PendingOperation } from '@bulwark/testkit';
import { HistoryRecorder } from '@bulwark/testkit';
import type { Entry, Message, RandomSource, ReadOnlyOption } from '../../src/index.js';
import { decodeConfChange, isProposalDroppedError, MemoryStorage, RawNode, seededRandom } from '../../src/index.js';

const te = new TextEncoder();
const td = new TextDecoder();

export class InvariantViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvariantViolation';
  }
}

export interface SimConfig {
  seed: number;
  nodes: 3 | 5;
  readOnly: ReadOnlyOption;
  checkQuorum: boolean;
  maxSnapshotChunkBytes: number;
  /** Per-tick chance that the leader proposes a membership change (demote/promote the last node). */
  confChangeRate: number;
  loss: number;
  duplicate: number;
  maxDelay: number;
  crashRate: number;
  partitionRate: number;
  /** Per-node probability of ticking in a global tick (1 = no skew). */
  tickRates: number[];
  faultTicks: number;
  livenessBoundTicks: number;
}

export interface SimResult {
  config: SimConfig;
  history: Operation<KvInput, KvOutput>[];
  stats: { ticks: number; elections: number; crashes: number; snapshotsSent: number; committed: number; reads: number; writes: number; confChanges: number; healedLeaderAfterTicks: number };
}

class Rng {
  private readonly src: RandomSource;
  constructor(seed: number) {
    this.src = seededRandom(seed);
  }
  next(): number {
    return this.src.next();
  }
  int(n: number): number {
    return Math.floor(this.src.next() * n);
  }
  chance(p: number): boolean {
    return this.src.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    const x = xs[this.int(xs.length)];
    if (x === undefined) throw new Error('pick from empty');
    return x;
  }
}

export function configForSeed(seed: number, nodes: 3 | 5): SimConfig {
  const r = new Rng(seed * 7919 + nodes);
  // Lease reads assume bounded clock drift: they run without skew; safe reads run with skew.
  const readOnly: ReadOnlyOption = r.chance(0.25) ? 'leaseBased' : 'safe';
  const skew = readOnly === 'safe' && r.chance(0.5);
  const tickRates = Array.from({ length: nodes }, () => (skew ? 0.6 + 0.4 * r.next() : 1));
  // Without check-quorum a deposed leader lingers in its minority partition: the harshest
  // setting for ReadIndex (lease reads require check-quorum).
  const checkQuorum = readOnly === 'leaseBased' || r.chance(0.5);
  return {
    seed,
    nodes,
    readOnly,
    checkQuorum,
    maxSnapshotChunkBytes: r.pick([0, 32, 128]),
    confChangeRate: r.pick([0, 0.02, 0.05]),
    loss: r.pick([0, 0.02, 0.1, 0.25]),
    duplicate: r.pick([0, 0.02, 0.1]),
    maxDelay: r.pick([0, 1, 3, 6]),
    crashRate: r.pick([0, 0.002, 0.01]),
    partitionRate: r.pick([0, 0.01, 0.04]),
    tickRates,
    faultTicks: 250,
    livenessBoundTicks: 400,
  };
}

interface NodeSlot {
  id: number;
  storage: MemoryStorage;
  node: RawNode | undefined;
  restarts: number;
  kv: Map<string, string>;
  seen: Set<string>;
  applied: number;
  crashedUntil: number;
  /** ReadIndex requests sent from this node: ctx -> op. */
  reads: Map<string, { op: PendingOperation<KvOutput>; key: string }>;
  /** Confirmed reads waiting for applied >= index. */
  readyReads: { index: number; op: PendingOperation<KvOutput>; key: string; ctx: string }[];
}

interface InFlight {
  at: number;
  msg: Message;
}

interface ClientOp {
  op: PendingOperation<KvOutput>;
  deadline: number;
  kind: 'put' | 'get';
  node: number;
  ctx: string;
}

const KEYS = ['x', 'y'];

export function runSimulation(config: SimConfig): SimResult {
  const rng = new Rng(config.seed);
  const ids = Array.from({ length: config.nodes }, (_, i) => i + 1);
  let now = 0;
  const history = new HistoryRecorder<KvInput, KvOutput>({ clock: { now: () => now } });
  const slots = new Map<number, NodeSlot>();
  let network: InFlight[] = [];
  let groups: number[][] | undefined;
  const stats = { ticks: 0, elections: 0, crashes: 0, snapshotsSent: 0, committed: 0, reads: 0, writes: 0, confChanges: 0, healedLeaderAfterTicks: -1 };
  const fail = (what: string): never => {
    throw new InvariantViolation(`seed ${config.seed} tick ${now}: ${what}`);
  };

  // Global observations for the invariants.
  const leaderOfTerm = new Map<number, number>();
  const entryByIndexTerm = new Map<string, { data: string; prevTerm: number | undefined }>();
  const appliedAt = new Map<number, string>();
  const commitTermOf = new Map<number, number>();

  const options = {
    electionTicks: 10,
    heartbeatTicks: 2,
    preVote: true,
    checkQuorum: config.checkQuorum,
    readOnlyOption: config.readOnly,
    maxSizePerMsg: 256,
    maxInflightMsgs: 4,
    maxSnapshotChunkBytes: config.maxSnapshotChunkBytes,
  };

  const start = (slot: NodeSlot): void => {
    const snap = slot.storage.snapshot();
    slot.kv = new Map();
    slot.seen = new Set();
    if (snap.metadata.index > 0) {
      const data = JSON.parse(td.decode(snap.data)) as { kv: [string, string][]; seen: string[] };
      slot.kv = new Map(data.kv);
      slot.seen = new Set(data.seen);
    }
    slot.applied = snap.metadata.index;
    slot.reads = new Map();
    slot.readyReads = [];
    slot.node = new RawNode({
      id: slot.id,
      storage: slot.storage,
      random: seededRandom(config.seed * 1000 + slot.id * 10 + slot.restarts),
      applied: snap.metadata.index,
      ...options,
    });
  };

  for (const id of ids) {
    const slot: NodeSlot = { id, storage: MemoryStorage.withVoters(ids), node: undefined, restarts: 0, kv: new Map(), seen: new Set(), applied: 0, crashedUntil: 0, reads: new Map(), readyReads: [] };
    slots.set(id, slot);
    start(slot);
  }

  const connected = (a: number, b: number): boolean => {
    if (groups === undefined) return true;
    return groups.findIndex((g) => g.includes(a)) === groups.findIndex((g) => g.includes(b));
  };

  const faulty = (): boolean => now < config.faultTicks;

  const send = (m: Message): void => {
    const copies = faulty() && rng.chance(config.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = faulty() ? rng.int(config.maxDelay + 1) : rng.int(2);
      network.push({ at: now + 1 + delay, msg: m });
    }
  };

  const clientOps = new Map<string, ClientOp>();
  let opSeq = 0;

  const crash = (slot: NodeSlot, reason: string): void => {
    void reason;
    slot.node = undefined;
    slot.crashedUntil = now + 5 + rng.int(30);
    stats.crashes++;
    for (const [ctx, r] of slot.reads) {
      clientOps.delete(ctx);
      r.op.info('node crashed');
    }
    for (const r of slot.readyReads) {
      clientOps.delete(r.ctx);
      r.op.info('node crashed');
    }
    slot.reads.clear();
    slot.readyReads = [];
  };

  const applyEntry = (slot: NodeSlot, e: Entry): void => {
    const key = `${e.index}`;
    const desc = `${e.term}:${e.type}:${td.decode(e.data)}`;
    const prev = appliedAt.get(e.index);
    if (prev === undefined) appliedAt.set(e.index, desc);
    else if (prev !== desc) fail(`state machine safety: node ${slot.id} applies ${desc} at ${key}, another node applied ${prev}`);
    stats.committed = Math.max(stats.committed, e.index);
    if (e.type === 'confChange') {
      slot.node?.applyConfChange(decodeConfChange(e.data));
      stats.confChanges++;
      return;
    }
    if (e.data.byteLength === 0) return;
    const cmd = JSON.parse(td.decode(e.data)) as { id: string; k: string; v: string };
    // Client sessions: a proposal duplicated by the network is applied once.
    if (slot.seen.has(cmd.id)) return;
    slot.seen.add(cmd.id);
    slot.kv.set(cmd.k, cmd.v);
    const c = clientOps.get(cmd.id);
    if (c !== undefined) {
      clientOps.delete(cmd.id);
      c.op.ok(undefined);
    }
  };

  const handleReady = (slot: NodeSlot): void => {
    const node = slot.node;
    if (node === undefined || !node.hasReady()) return;
    const rd = node.ready();
    // Crash while persisting: nothing of this Ready reaches the disk or the network.
    if (faulty() && rng.chance(config.crashRate)) {
      crash(slot, 'during persist');
      return;
    }
    // 1. persist
    if (rd.snapshot !== undefined) slot.storage.applySnapshot(rd.snapshot);
    if (rd.hardState !== undefined) slot.storage.setHardState(rd.hardState);
    slot.storage.append(rd.entries);
    for (const e of rd.entries) {
      let prevTerm: number | undefined;
      try {
        prevTerm = slot.storage.term(e.index - 1);
      } catch {
        prevTerm = undefined;
      }
      const k = `${e.index}/${e.term}`;
      const data = `${e.type}:${td.decode(e.data)}`;
      const known = entryByIndexTerm.get(k);
      if (known === undefined) entryByIndexTerm.set(k, { data, prevTerm });
      else {
        // Log matching: same index and term => same entry and same preceding entry.
        if (known.data !== data) fail(`log matching: entry ${k} has two payloads`);
        if (known.prevTerm !== undefined && prevTerm !== undefined && known.prevTerm !== prevTerm) fail(`log matching: entry ${k} follows terms ${known.prevTerm} and ${prevTerm}`);
      }
    }
    const status = node.status();
    if (status.state === 'leader') {
      const other = leaderOfTerm.get(status.term);
      if (other !== undefined && other !== slot.id) fail(`election safety: ${other} and ${slot.id} both lead term ${status.term}`);
      if (other === undefined) {
        leaderOfTerm.set(status.term, slot.id);
        stats.elections++;
        // Leader completeness: every entry committed in an earlier term is in the new leader's log.
        for (const [index, commitTerm] of commitTermOf) {
          if (commitTerm >= status.term || index < slot.storage.firstIndex()) continue;
          const entry = appliedAt.get(index);
          let t: number | undefined;
          try {
            t = slot.storage.term(index);
          } catch {
            t = undefined;
          }
          const expected = entry === undefined ? undefined : Number(entry.split(':')[0]);
          if (t === undefined || (expected !== undefined && t !== expected)) fail(`leader completeness: leader ${slot.id} of term ${status.term} lacks entry ${index} committed in term ${commitTerm}`);
        }
      }
      if (rd.hardState !== undefined) {
        for (let i = rd.hardState.commit; i > 0 && !commitTermOf.has(i); i--) commitTermOf.set(i, status.term);
      }
    }
    // 2. send
    for (const m of rd.messages) send(m);
    // 3. apply
    if (rd.snapshot !== undefined) {
      const data = JSON.parse(td.decode(rd.snapshot.data)) as { kv: [string, string][]; seen: string[] };
      slot.kv = new Map(data.kv);
      slot.seen = new Set(data.seen);
      slot.applied = rd.snapshot.metadata.index;
    }
    for (const e of rd.committedEntries) {
      if (e.index !== slot.applied + 1) fail(`node ${slot.id} applies ${e.index} after ${slot.applied}`);
      applyEntry(slot, e);
      slot.applied = e.index;
    }
    for (const rs of rd.readStates) {
      const ctx = td.decode(rs.requestCtx);
      const r = slot.reads.get(ctx);
      if (r === undefined) continue;
      slot.reads.delete(ctx);
      slot.readyReads.push({ index: rs.index, op: r.op, key: r.key, ctx });
    }
    slot.readyReads = slot.readyReads.filter((r) => {
      if (r.index > slot.applied) return true;
      clientOps.delete(r.ctx);
      r.op.ok(slot.kv.get(r.key) ?? null);
      stats.reads++;
      return false;
    });
    node.advance();
    // The application snapshots and compacts now and then, keeping a few entries.
    if (slot.applied - slot.storage.firstIndex() > 12) {
      const snapData = te.encode(JSON.stringify({ kv: [...slot.kv], seen: [...slot.seen] }));
      slot.storage.createSnapshot(slot.applied, node.status().confState, snapData);
      slot.storage.compact(slot.applied - 3);
    }
  };

  const invokeClient = (client: number): void => {
    const live = ids.filter((id) => slots.get(id)?.node !== undefined);
    if (live.length === 0) return;
    const target = rng.pick(live);
    const slot = slots.get(target);
    const node = slot?.node;
    if (slot === undefined || node === undefined) return;
    const key = rng.pick(KEYS);
    const id = `c${client}-${opSeq++}`;
    if (rng.chance(0.5)) {
      const value = `v${opSeq}`;
      const op = history.invoke(id, { type: 'put', key, value });
      try {
        node.propose(te.encode(JSON.stringify({ id, k: key, v: value })));
        clientOps.set(id, { op, deadline: now + 60, kind: 'put', node: target, ctx: id });
        stats.writes++;
      } catch (e) {
        if (!isProposalDroppedError(e)) throw e;
        op.fail(e.reason);
      }
    } else {
      const op = history.invoke(id, { type: 'get', key });
      try {
        node.readIndex(te.encode(id));
        slot.reads.set(id, { op, key });
        clientOps.set(id, { op, deadline: now + 60, kind: 'get', node: target, ctx: id });
      } catch (e) {
        if (!isProposalDroppedError(e)) throw e;
        op.fail(e.reason);
      }
    }
  };

  const clientBusyUntil = [0, 0, 0];
  const clientHasOp = (client: number): boolean => [...clientOps.keys()].some((k) => k.startsWith(`c${client}-`));

  const step = (): void => {
    now++;
    stats.ticks++;
    // Faults.
    if (faulty()) {
      if (rng.chance(config.partitionRate)) {
        const leader = ids.find((id) => slots.get(id)?.node?.status().state === 'leader');
        if (leader !== undefined && rng.chance(0.4)) {
          // Isolate the leader (alone or with one follower) from the majority.
          const buddy = rng.chance(0.5) && ids.length === 5 ? ids.find((id) => id !== leader) : undefined;
          const minority = buddy === undefined ? [leader] : [leader, buddy];
          groups = [minority, ids.filter((id) => !minority.includes(id))];
        } else if (groups === undefined || rng.chance(0.5)) {
          const shuffled = [...ids].sort(() => rng.next() - 0.5);
          const cut = 1 + rng.int(ids.length - 1);
          groups = [shuffled.slice(0, cut), shuffled.slice(cut)];
        } else {
          groups = undefined;
        }
      }
      for (const slot of slots.values()) {
        if (slot.node !== undefined && rng.chance(config.crashRate)) crash(slot, 'random');
      }
    } else {
      groups = undefined;
    }
    for (const slot of slots.values()) {
      if (slot.node === undefined && (now >= slot.crashedUntil || !faulty())) {
        slot.restarts++;
        start(slot);
      }
    }
    // Ticks (with skew during the fault phase).
    for (const slot of slots.values()) {
      const rate = faulty() ? (config.tickRates[slot.id - 1] ?? 1) : 1;
      if (slot.node !== undefined && (rate >= 1 || rng.chance(rate))) slot.node.tick();
    }
    // Deliveries: due messages in random order (reordering), minus losses and partitions.
    const due = network.filter((f) => f.at <= now);
    network = network.filter((f) => f.at > now);
    due.sort(() => rng.next() - 0.5);
    for (const f of due) {
      const m = f.msg;
      const sender = slots.get(m.from)?.node;
      const dest = slots.get(m.to)?.node;
      const lost = dest === undefined || !connected(m.from, m.to) || (faulty() && rng.chance(config.loss));
      if (m.type === 'MsgSnap') {
        stats.snapshotsSent++;
        if (!lost) dest.step(m);
        // The transport reports once per snapshot, after its last chunk.
        const last = m.chunk === undefined || m.chunk.offset + (m.snapshot?.data.byteLength ?? 0) === m.chunk.totalBytes;
        if (last) sender?.reportSnapshot(m.to, !lost);
        continue;
      }
      if (!lost) dest.step(m);
    }
    for (const slot of slots.values()) handleReady(slot);
    // Membership: the leader demotes the last node to a learner or promotes it back, as a
    // single-server change or through a joint configuration (left automatically).
    if (faulty() && rng.chance(config.confChangeRate)) {
      const leader = [...slots.values()].find((s) => s.node?.status().state === 'leader')?.node;
      if (leader !== undefined) {
        const last = ids.length;
        const isVoter = leader.status().confState.voters.includes(last);
        try {
          leader.proposeConfChange({ changes: [{ type: isVoter ? 'addLearner' : 'addNode', nodeId: last }], transition: rng.chance(0.5) ? 'auto' : 'implicit' });
        } catch (e) {
          if (!isProposalDroppedError(e)) throw e;
        }
      }
    }
    // Clients.
    for (let c = 0; c < clientBusyUntil.length; c++) {
      if (!clientHasOp(c) && now >= (clientBusyUntil[c] ?? 0)) {
        invokeClient(c);
        clientBusyUntil[c] = now + rng.int(6);
      }
    }
    for (const [id, c] of clientOps) {
      if (now >= c.deadline) {
        clientOps.delete(id);
        c.op.info('timeout');
        const slot = slots.get(c.node);
        slot?.reads.delete(c.ctx);
        if (slot !== undefined) slot.readyReads = slot.readyReads.filter((r) => r.ctx !== c.ctx);
      }
    }
  };

  for (let i = 0; i < config.faultTicks; i++) step();

  // Liveness: with faults healed, a leader is elected and a proposal commits within the bound.
  const healedAt = now;
  const probe = `probe-${config.seed}`;
  let probed = false;
  let committedProbe = false;
  while (now < healedAt + config.livenessBoundTicks) {
    step();
    // (Re)propose the probe to the current leader until it is applied everywhere: a leader
    // change may drop an accepted proposal, and the client-side retry is deduplicated.
    if (!probed || (now - healedAt) % 30 === 0) {
      const leader = [...slots.values()].find((s) => s.node?.status().state === 'leader');
      if (leader?.node !== undefined) {
        try {
          leader.node.propose(te.encode(JSON.stringify({ id: probe, k: 'probe', v: 'ok' })));
          probed = true;
        } catch (e) {
          if (!isProposalDroppedError(e)) throw e;
        }
      }
    }
    if (probed && [...slots.values()].every((s) => s.seen.has(probe))) {
      committedProbe = true;
      stats.healedLeaderAfterTicks = now - healedAt;
      break;
    }
  }
  if (!committedProbe) {
    const states = [...slots.values()].map((s) => JSON.stringify({ ...s.node?.status(), applied: s.applied, first: s.storage.firstIndex(), seenProbe: s.seen.has(probe) }));
    fail(`liveness: no proposal committed on every node within ${config.livenessBoundTicks} ticks after healing (probed: ${probed})\n${states.join('\n')}`);
  }
  // Let the clients' last operations finish.
  for (let i = 0; i < 80 && clientOps.size > 0; i++) step();

  return { config, history: history.history(), stats };
}
