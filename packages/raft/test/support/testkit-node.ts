// Drives the Raft core with @bulwark/testkit's simulator: each simulated node wraps a RawNode,
// persists every Ready to the simulated disk (ctx.storage, synced before sending), rebuilds from
// it after a crash, and serves a KV store to the simulator's clients (puts as proposals, gets as
// ReadIndex reads).
import type { KvInput, KvOutput, NodeContext, SimNode, Workload } from '@bulwark/testkit';
import type { Entry, Message, Ready, Snapshot } from '../../src/index.js';
import { isProposalDroppedError, MemoryStorage, RawNode, seededRandom } from '../../src/index.js';

const te = new TextEncoder();
const td = new TextDecoder();

export type Wire =
  | { kind: 'raft'; msg: Message }
  | { kind: 'req'; requestId: number; input: KvInput }
  | { kind: 'reply'; requestId: number; ok: boolean; output?: KvOutput; error?: string };

/** Shared by the nodes of one run: the invariants are asserted as they report. */
export class Observer {
  private readonly leaderOfTerm = new Map<number, number>();
  private readonly appliedAt = new Map<number, string>();
  readonly violations: string[] = [];
  leader(term: number, id: number): void {
    const other = this.leaderOfTerm.get(term);
    if (other !== undefined && other !== id) this.violations.push(`election safety: ${other} and ${id} both lead term ${term}`);
    this.leaderOfTerm.set(term, id);
  }
  applied(id: number, e: Entry): void {
    const desc = `${e.term}:${td.decode(e.data)}`;
    const prev = this.appliedAt.get(e.index);
    if (prev === undefined) this.appliedAt.set(e.index, desc);
    else if (prev !== desc) this.violations.push(`state machine safety: node ${id} applied ${desc} at ${e.index}, another ${prev}`);
  }
}

const b64 = (u: Uint8Array): string => Buffer.from(u).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

interface EntryJson {
  t: number;
  i: number;
  c: boolean;
  d: string;
}

function entryToJson(e: Entry): EntryJson {
  return { t: e.term, i: e.index, c: e.type === 'confChange', d: b64(e.data) };
}
function entryFromJson(j: EntryJson): Entry {
  return { term: j.t, index: j.i, type: j.c ? 'confChange' : 'normal', data: unb64(j.d) };
}

export function raftSimNode(id: number, voters: number[], observer: Observer): SimNode<Wire> {
  let node: RawNode | undefined;
  let storage: MemoryStorage;
  let kv = new Map<string, string>();
  let seen = new Set<string>();
  let applied = 0;
  let puts = new Map<string, { client: string; requestId: number }>();
  let reads = new Map<string, { client: string; requestId: number; key: string }>();
  let readyReads: { index: number; client: string; requestId: number; key: string }[] = [];
  const nodeName = (n: number): string => `n${n}`;

  const loadState = (data: Uint8Array): void => {
    const s = JSON.parse(td.decode(data)) as { kv: [string, string][]; seen: string[] };
    kv = new Map(s.kv);
    seen = new Set(s.seen);
  };

  const start = (ctx: NodeContext<Wire>): void => {
    storage = MemoryStorage.withVoters(voters);
    kv = new Map();
    seen = new Set();
    puts = new Map();
    reads = new Map();
    readyReads = [];
    const snap = ctx.storage.read('snap');
    if (typeof snap === 'string') {
      const j = JSON.parse(snap) as { index: number; term: number; voters: number[]; data: string };
      const s: Snapshot = { metadata: { index: j.index, term: j.term, confState: { voters: j.voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: unb64(j.data) };
      storage.applySnapshot(s);
      loadState(s.data);
    }
    const log = ctx.storage.read('log');
    if (typeof log === 'string') {
      for (const line of log.split('\n')) {
        if (line === '') continue;
        let batch: EntryJson[];
        try {
          batch = JSON.parse(line) as EntryJson[];
        } catch {
          break; // a torn tail
        }
        const entries = batch.map(entryFromJson).filter((e) => e.index >= storage.firstIndex());
        if (entries.length > 0 && (entries[0]?.index ?? 0) <= storage.lastIndex() + 1) storage.append(entries);
      }
    }
    const hs = ctx.storage.read('hs');
    if (typeof hs === 'string') storage.setHardState(JSON.parse(hs) as { term: number; vote: number; commit: number });
    applied = storage.firstIndex() - 1;
    node = new RawNode({ id, storage, random: seededRandom(id * 7919 + ctx.incarnation), applied, electionTicks: 10, heartbeatTicks: 2, maxSizePerMsg: 512, maxInflightMsgs: 8 });
  };

  const reply = (ctx: NodeContext<Wire>, to: { client: string; requestId: number }, ok: boolean, output?: KvOutput, error?: string): void => {
    ctx.send(to.client, { kind: 'reply', requestId: to.requestId, ok, ...(output !== undefined ? { output } : {}), ...(error !== undefined ? { error } : {}) });
  };

  const handle = (ctx: NodeContext<Wire>): void => {
    const n = node;
    if (n === undefined) return;
    while (n.hasReady()) {
      const rd: Ready = n.ready();
      // 1. persist and sync before anything is sent
      if (rd.snapshot !== undefined) {
        storage.applySnapshot(rd.snapshot);
        const m = rd.snapshot.metadata;
        ctx.storage.write('snap', JSON.stringify({ index: m.index, term: m.term, voters: m.confState.voters, data: b64(rd.snapshot.data) }));
      }
      if (rd.hardState !== undefined) {
        storage.setHardState(rd.hardState);
        ctx.storage.write('hs', JSON.stringify(rd.hardState));
      }
      if (rd.entries.length > 0) {
        storage.append(rd.entries);
        ctx.storage.append('log', JSON.stringify(rd.entries.map(entryToJson)) + '\n');
      }
      ctx.storage.sync();
      const st = n.status();
      if (st.state === 'leader') observer.leader(st.term, id);
      // 2. send
      for (const m of rd.messages) ctx.send(nodeName(m.to), { kind: 'raft', msg: m });
      // 3. apply
      if (rd.snapshot !== undefined) {
        loadState(rd.snapshot.data);
        applied = rd.snapshot.metadata.index;
      }
      for (const e of rd.committedEntries) {
        observer.applied(id, e);
        applied = e.index;
        if (e.type !== 'normal' || e.data.byteLength === 0) continue;
        const cmd = JSON.parse(td.decode(e.data)) as { id: string; k: string; v: string };
        if (!seen.has(cmd.id)) {
          seen.add(cmd.id);
          kv.set(cmd.k, cmd.v);
        }
        const waiting = puts.get(cmd.id);
        if (waiting !== undefined) {
          puts.delete(cmd.id);
          reply(ctx, waiting, true, null);
        }
      }
      for (const rs of rd.readStates) {
        const ctxKey = td.decode(rs.requestCtx);
        const r = reads.get(ctxKey);
        if (r === undefined) continue;
        reads.delete(ctxKey);
        readyReads.push({ index: rs.index, ...r });
      }
      readyReads = readyReads.filter((r) => {
        if (r.index > applied) return true;
        reply(ctx, r, true, kv.get(r.key) ?? null);
        return false;
      });
      n.advance();
      // 4. snapshot and compact now and then (rewrite the log file without the compacted prefix)
      if (applied - storage.firstIndex() > 16) {
        const snap = storage.createSnapshot(applied, n.status().confState, te.encode(JSON.stringify({ kv: [...kv], seen: [...seen] })));
        storage.compact(applied);
        ctx.storage.write('snap', JSON.stringify({ index: applied, term: snap.metadata.term, voters: snap.metadata.confState.voters, data: b64(snap.data) }));
        const rest = storage.lastIndex() >= storage.firstIndex() ? storage.entries(storage.firstIndex(), storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER) : [];
        ctx.storage.write('log', rest.length > 0 ? JSON.stringify(rest.map(entryToJson)) + '\n' : '');
        ctx.storage.sync();
      }
    }
  };

  return {
    onStart: start,
    onRestart: start,
    onCrash(): void {
      node = undefined;
    },
    onTick(ctx): void {
      node?.tick();
      handle(ctx);
    },
    onMessage(ctx, from, wire): void {
      const n = node;
      if (n === undefined) return;
      if (wire.kind === 'raft') {
        n.step(wire.msg);
      } else if (wire.kind === 'req') {
        const opId = `${from}/${wire.requestId}`;
        const input = wire.input;
        try {
          if (input.type === 'put') {
            n.propose(te.encode(JSON.stringify({ id: opId, k: input.key, v: input.value })));
            puts.set(opId, { client: from, requestId: wire.requestId });
          } else if (input.type === 'get') {
            n.readIndex(te.encode(opId));
            reads.set(opId, { client: from, requestId: wire.requestId, key: input.key });
          }
        } catch (e) {
          if (!isProposalDroppedError(e)) throw e;
          // A dropped read definitely did nothing: fail. A put request may be a duplicate (the
          // network duplicates client messages too) of one accepted earlier, possibly before a
          // crash: this node cannot know, so it does not answer and the client records 'info'.
          if (input.type === 'get') reply(ctx, { client: from, requestId: wire.requestId }, false, undefined, e.reason);
        }
      }
      handle(ctx);
    },
  };
}

export function kvWorkload(nodes: number, operations: number): Workload<KvInput, KvOutput, Wire> {
  let next = 0;
  return {
    clients: 3,
    operations,
    timeoutMs: 400,
    generate(random): KvInput {
      const key = random.chance(0.5) ? 'x' : 'y';
      return random.chance(0.5) ? { type: 'put', key, value: `v${next++}` } : { type: 'get', key };
    },
    request(input, info) {
      return { to: `n${info.random.int(1, nodes)}`, message: { kind: 'req', requestId: info.requestId, input } };
    },
    reply(message) {
      if (message.kind !== 'reply') return undefined;
      return message.ok ? { requestId: message.requestId, ok: true, output: message.output ?? null } : { requestId: message.requestId, ok: false, ...(message.error !== undefined ? { error: message.error } : {}) };
    },
  };
}
