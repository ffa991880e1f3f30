// A text-driven harness in the spirit of etcd raft's interaction tests: a scenario file is a
// list of commands, each followed by `----` and the expected output.
import type { ConfChange, ConfChangeSingle, Message, RaftOptions } from '../../src/index.js';
import { decodeConfChange, isProposalDroppedError, MemoryStorage, RawNode, seededRandom } from '../../src/index.js';
import { entryText, messageText, readyText } from './format.js';

const te = new TextEncoder();
const td = new TextDecoder();

interface SimNode {
  id: number;
  node: RawNode;
  storage: MemoryStorage;
  applied: string[];
  appliedIndex: number;
  options: Omit<RaftOptions, 'id' | 'storage'>;
}

export class InteractionEnv {
  private readonly nodes = new Map<number, SimNode>();
  private inbox = new Map<number, Message[]>();
  private groups: number[][] | undefined;
  private electionTicks = 10;

  run(line: string): string {
    const [cmd, ...args] = line.trim().split(/\s+/);
    const out: string[] = [];
    try {
      this.dispatch(cmd ?? '', args, out);
    } catch (e) {
      if (isProposalDroppedError(e)) out.push(`error: ${e.message}`);
      else if (e instanceof Error) out.push(`error: ${e.name}: ${e.message}`);
      else throw e;
    }
    return out.length === 0 ? 'ok' : out.join('\n');
  }

  private get(idText: string | undefined): SimNode {
    const n = this.nodes.get(Number(idText));
    if (n === undefined) throw new Error(`no node ${String(idText)}`);
    return n;
  }

  private kv(args: string[]): Map<string, string> {
    const m = new Map<string, string>();
    for (const a of args) {
      const i = a.indexOf('=');
      if (i > 0) m.set(a.slice(0, i), a.slice(i + 1));
    }
    return m;
  }

  private dispatch(cmd: string, args: string[], out: string[]): void {
    switch (cmd) {
      case 'add-nodes':
        return this.addNodes(args, out);
      case 'campaign':
        this.get(args[0]).node.campaign();
        return;
      case 'tick': {
        const n = this.get(args[0]);
        const count = Number(args[1] ?? '1');
        for (let i = 0; i < count; i++) n.node.tick();
        return;
      }
      case 'tick-heartbeat':
        this.get(args[0]).node.tick();
        return;
      case 'tick-election': {
        // Twice the election timeout: past any randomized timeout in [n, 2n).
        const n = this.get(args[0]);
        for (let i = 0; i < this.electionTicks * 2; i++) n.node.tick();
        return;
      }
      case 'propose':
        this.get(args[0]).node.propose(te.encode(args.slice(1).join(' ')));
        return;
      case 'propose-conf-change':
        this.get(args[0]).node.proposeConfChange(this.parseConfChange(args.slice(1)));
        return;
      case 'read-index':
        this.get(args[0]).node.readIndex(te.encode(args[1] ?? ''));
        return;
      case 'transfer-leadership': {
        const kv = this.kv(args);
        this.get(kv.get('from')).node.transferLeadership(Number(kv.get('to')));
        return;
      }
      case 'process-ready':
        for (const id of this.ids(args)) this.processReady(this.get(String(id)), out);
        return;
      case 'deliver-msgs':
        for (const id of this.ids(args)) this.deliver(id, out);
        return;
      case 'stabilize':
        return this.stabilize(this.ids(args), out);
      case 'partition':
        return this.partition(args, out);
      case 'heal':
        this.groups = undefined;
        return;
      case 'drop-msgs':
        for (const id of this.ids(args)) {
          for (const m of this.inbox.get(id) ?? []) out.push(`dropped: ${messageText(m)}`);
          this.inbox.set(id, []);
        }
        return;
      case 'drop-msg': {
        // Drops the n-th (1-based) message queued for a node.
        const queue = this.inbox.get(Number(args[0])) ?? [];
        const [m] = queue.splice(Number(args[1]) - 1, 1);
        if (m !== undefined) out.push(`dropped: ${messageText(m)}`);
        return;
      }
      case 'restart': {
        // Crash and restart from storage: volatile state (role, leader, progress, the state
        // machine) is lost; term, vote, log and commit index come back from storage.
        const n = this.get(args[0]);
        const snap = n.storage.snapshot();
        n.applied = snap.metadata.index > 0 ? (JSON.parse(td.decode(snap.data)) as string[]) : [];
        n.appliedIndex = snap.metadata.index;
        n.node = new RawNode({ id: n.id, storage: n.storage, random: seededRandom(n.id + 100), applied: snap.metadata.index, ...n.options });
        this.inbox.set(n.id, []);
        const st = n.node.status();
        out.push(`restarted ${n.id}: ${st.state} Term:${st.term} Vote:${st.vote} Commit:${st.commit} Applied:${st.applied} Last:${st.lastIndex}`);
        return;
      }
      case 'status':
        return this.status(this.get(args[0]), out);
      case 'raft-state':
        for (const id of this.ids([])) {
          const s = this.get(String(id)).node.status();
          out.push(`${id}: ${s.state} Term:${s.term} Lead:${s.lead} Commit:${s.commit}`);
        }
        return;
      case 'raft-log': {
        const n = this.get(args[0]);
        const first = n.storage.firstIndex();
        const last = n.storage.lastIndex();
        if (last < first) out.push(`log is empty: first index=${first}, last index=${last}`);
        else for (const e of n.storage.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) out.push(entryText(e));
        return;
      }
      case 'applied': {
        const n = this.get(args[0]);
        out.push(`applied ${n.appliedIndex}: [${n.applied.join(', ')}]`);
        return;
      }
      case 'compact': {
        // The application snapshots its state at `applied` and compacts the log up to it.
        const n = this.get(args[0]);
        const index = Number(args[1] ?? n.appliedIndex);
        const cs = n.node.status().confState;
        n.storage.createSnapshot(index, cs, te.encode(JSON.stringify(n.applied.slice(0, index))));
        n.storage.compact(index);
        out.push(`snapshot at ${index}; first index now ${n.storage.firstIndex()}`);
        return;
      }
      case 'report-snapshot':
        this.get(args[0]).node.reportSnapshot(Number(args[1]), args[2] !== 'failed');
        return;
      case 'report-unreachable':
        this.get(args[0]).node.reportUnreachable(Number(args[1]));
        return;
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  }

  private parseConfChange(args: string[]): ConfChange {
    const changes: ConfChangeSingle[] = [];
    let transition: ConfChange['transition'] = 'auto';
    for (const a of args) {
      if (a.startsWith('transition=')) {
        const t = a.slice('transition='.length);
        if (t !== 'auto' && t !== 'implicit' && t !== 'explicit') throw new Error(`bad transition ${t}`);
        transition = t;
        continue;
      }
      const id = Number(a.slice(1));
      if (a.startsWith('v')) changes.push({ type: 'addNode', nodeId: id });
      else if (a.startsWith('l')) changes.push({ type: 'addLearner', nodeId: id });
      else if (a.startsWith('r')) changes.push({ type: 'removeNode', nodeId: id });
      else throw new Error(`bad conf change ${a}`);
    }
    return { changes, transition };
  }

  private ids(args: string[]): number[] {
    const ids = args.filter((a) => /^\d+$/.test(a)).map(Number);
    return ids.length > 0 ? ids : [...this.nodes.keys()].sort((a, b) => a - b);
  }

  private addNodes(args: string[], out: string[]): void {
    const count = Number(args[0]);
    const kv = this.kv(args.slice(1));
    const voters = (kv.get('voters') ?? '').split(',').filter(Boolean).map(Number);
    const learners = (kv.get('learners') ?? '').split(',').filter(Boolean).map(Number);
    const options: Omit<RaftOptions, 'id' | 'storage'> = {
      electionTicks: Number(kv.get('election') ?? '10'),
      heartbeatTicks: 1,
      preVote: kv.get('prevote') !== 'false',
      checkQuorum: kv.get('checkquorum') !== 'false',
      readOnlyOption: kv.get('read-only') === 'lease' ? 'leaseBased' : 'safe',
      ...(kv.has('max-size') ? { maxSizePerMsg: Number(kv.get('max-size')) } : {}),
      ...(kv.has('max-inflight') ? { maxInflightMsgs: Number(kv.get('max-inflight')) } : {}),
      ...(kv.has('max-snapshot-chunk') ? { maxSnapshotChunkBytes: Number(kv.get('max-snapshot-chunk')) } : {}),
      ...(kv.has('max-inflight-bytes') ? { maxInflightBytes: Number(kv.get('max-inflight-bytes')) } : {}),
      ...(kv.has('max-committed-per-ready') ? { maxCommittedSizePerReady: Number(kv.get('max-committed-per-ready')) } : {}),
      ...(kv.get('forwarding') === 'false' ? { disableProposalForwarding: true } : {}),
      ...(kv.has('max-uncommitted') ? { maxUncommittedEntriesSize: Number(kv.get('max-uncommitted')) } : {}),
    };
    this.electionTicks = options.electionTicks ?? 10;
    const start = this.nodes.size + 1;
    for (let id = start; id < start + count; id++) {
      // Every node starts from the bootstrap configuration at index 0; a node outside it is a
      // new node that learns later configurations from the log (or a snapshot).
      const st = voters.length > 0 ? MemoryStorage.withVoters(voters, learners) : MemoryStorage.withVoters([...Array(count).keys()].map((i) => i + start));
      const empty = voters.length > 0 && !voters.includes(id) && !learners.includes(id);
      const node = new RawNode({ id, storage: st, random: seededRandom(id), ...options });
      this.nodes.set(id, { id, node, storage: st, applied: [], appliedIndex: 0, options });
      this.inbox.set(id, []);
      out.push(`INFO ${id} is ${empty ? 'a new node outside' : 'in'} the configuration voters=${JSON.stringify(node.status().confState.voters)}`);
    }
  }

  private partition(args: string[], out: string[]): void {
    const groups: number[][] = [[]];
    for (const a of args) {
      if (a === '|') groups.push([]);
      else groups[groups.length - 1]?.push(Number(a));
    }
    this.groups = groups;
    out.push(`partitioned: ${groups.map((g) => g.join(' ')).join(' | ')}`);
  }

  private connected(a: number, b: number): boolean {
    if (this.groups === undefined) return true;
    const ga = this.groups.findIndex((g) => g.includes(a));
    const gb = this.groups.findIndex((g) => g.includes(b));
    return ga === gb;
  }

  private processReady(n: SimNode, out: string[]): boolean {
    if (!n.node.hasReady()) return false;
    const rd = n.node.ready();
    out.push(`> ${n.id} handling Ready`);
    for (const l of readyText(rd)) out.push(`  ${l}`);
    // Persist first (persist-before-send), then send, then apply.
    if (rd.snapshot !== undefined) n.storage.applySnapshot(rd.snapshot);
    if (rd.hardState !== undefined) n.storage.setHardState(rd.hardState);
    n.storage.append(rd.entries);
    for (const m of rd.messages) {
      if (!this.nodes.has(m.to)) continue;
      if (!this.connected(m.from, m.to)) {
        out.push(`  dropped (partition): ${messageText(m)}`);
        continue;
      }
      this.inbox.get(m.to)?.push(m);
    }
    if (rd.snapshot !== undefined) {
      n.applied = JSON.parse(td.decode(rd.snapshot.data)) as string[];
      n.appliedIndex = rd.snapshot.metadata.index;
    }
    for (const e of rd.committedEntries) {
      if (e.type === 'confChange') {
        const cs = n.node.applyConfChange(decodeConfChange(e.data));
        out.push(`  INFO ${n.id} applied conf change: voters=[${cs.voters.join(' ')}] outgoing=[${cs.votersOutgoing.join(' ')}] learners=[${cs.learners.join(' ')}]`);
        n.applied.push(`cc@${e.index}`);
      } else {
        n.applied.push(td.decode(e.data));
      }
      n.appliedIndex = e.index;
    }
    n.node.advance();
    return true;
  }

  private deliver(id: number, out: string[]): boolean {
    const msgs = this.inbox.get(id) ?? [];
    if (msgs.length === 0) return false;
    this.inbox.set(id, []);
    const n = this.get(String(id));
    for (const m of msgs) {
      out.push(`${messageText(m)}`);
      try {
        n.node.step(m);
      } catch (e) {
        out.push(`  error: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return true;
  }

  private stabilize(ids: number[], out: string[]): void {
    for (let round = 0; round < 1000; round++) {
      let progressed = false;
      for (const id of ids) progressed = this.processReady(this.get(String(id)), out) || progressed;
      for (const id of ids) {
        const before = out.length;
        if ((this.inbox.get(id) ?? []).length > 0) out.push(`> ${id} receiving messages`);
        const got = this.deliver(id, out);
        if (got) {
          for (let i = before + 1; i < out.length; i++) out[i] = `  ${out[i] ?? ''}`;
        }
        progressed = got || progressed;
      }
      if (!progressed) return;
    }
    throw new Error('stabilize did not converge');
  }

  private status(n: SimNode, out: string[]): void {
    const s = n.node.status();
    out.push(`${s.id}: ${s.state} Term:${s.term} Lead:${s.lead} Vote:${s.vote} Commit:${s.commit} Applied:${s.applied} Last:${s.lastIndex}`);
    const cs = s.confState;
    out.push(`  voters=[${cs.voters.join(' ')}]${cs.votersOutgoing.length > 0 ? ` outgoing=[${cs.votersOutgoing.join(' ')}]` : ''}${cs.learners.length > 0 ? ` learners=[${cs.learners.join(' ')}]` : ''}`);
    for (const [id, p] of Object.entries(s.progress)) {
      out.push(`  ${id}: ${p.state} match=${p.match} next=${p.next}${p.inflight > 0 ? ` inflight=${p.inflight}` : ''}`);
    }
  }
}
