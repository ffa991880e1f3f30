// @bulwark/raft: throughput of the sans-I/O core alone. An in-memory 3-node cluster (MemoryStorage,
// messages handed over synchronously, no network or disk) commits batches of 64-byte proposals;
// an operation is one entry committed and applied on the leader. No JavaScript peer exists
// (liferaft/skiff are abandoned and not sans-I/O), so only bulwark is measured. The report gives
// entries committed per second of CPU time (process.cpuUsage, user + system).
import { MemoryStorage, RawNode, type Message } from '@bulwark/raft';
import { defineSuite } from '../harness.js';

interface Cluster {
  nodes: Map<number, { node: RawNode; storage: MemoryStorage }>;
  leader: RawNode;
}

function pump(cluster: Cluster, onCommit: (n: number) => void): void {
  let moved = true;
  while (moved) {
    moved = false;
    const outbox: Message[] = [];
    for (const [id, { node, storage }] of cluster.nodes) {
      if (!node.hasReady()) continue;
      moved = true;
      const rd = node.ready();
      if (rd.hardState !== undefined) storage.setHardState(rd.hardState);
      storage.append(rd.entries);
      outbox.push(...rd.messages);
      if (id === cluster.leader.id) onCommit(rd.committedEntries.length);
      node.advance();
    }
    for (const m of outbox) cluster.nodes.get(m.to)?.node.step(m);
  }
}

function startCluster(batch: number): Cluster {
  const nodes = new Map<number, { node: RawNode; storage: MemoryStorage }>();
  for (const id of [1, 2, 3]) {
    const storage = MemoryStorage.withVoters([1, 2, 3]);
    nodes.set(id, { storage, node: new RawNode({ id, storage, maxInflightMsgs: 64, maxSizePerMsg: 64 * 1024 * batch }) });
  }
  const leader = nodes.get(1)!.node;
  const cluster = { nodes, leader };
  leader.campaign();
  pump(cluster, () => {});
  if (leader.status().state !== 'leader') throw new Error('raft bench: no leader');
  return cluster;
}

const payload = new Uint8Array(64).fill(7);

/** Proposes `batch` entries per round and pumps until they commit; returns entries committed. */
function commitFor(durationMs: number, batch: number): { ops: number; cpuMs: number } {
  // A fresh cluster per run keeps the in-memory log bounded (no compaction here).
  const cluster = startCluster(batch);
  let committed = 0;
  const cpu0 = process.cpuUsage();
  const deadline = performance.now() + durationMs;
  while (performance.now() < deadline) {
    for (let i = 0; i < batch; i++) cluster.leader.propose(payload);
    pump(cluster, (n) => (committed += n));
  }
  const cpu = process.cpuUsage(cpu0);
  return { ops: committed, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export const suite = defineSuite({
  name: 'raft',
  tasks: [
    {
      name: 'entries committed, 3-node in-memory cluster, 1 proposal per round trip',
      cases: [{ library: 'bulwark', variant: 'batch 1', run: ({ durationMs }) => Promise.resolve({ ops: commitFor(durationMs, 1).ops }) }],
    },
    {
      name: 'entries committed, 3-node in-memory cluster, 64 proposals per round trip',
      cases: [{ library: 'bulwark', variant: 'batch 64', run: ({ durationMs }) => Promise.resolve({ ops: commitFor(durationMs, 64).ops }) }],
    },
  ],
  reports: [
    {
      name: 'entries committed per CPU second (3-node in-memory cluster, 1 s each)',
      collect: () => {
        const out: Record<string, Record<string, number | string>> = {};
        for (const batch of [1, 64]) {
          const { ops, cpuMs } = commitFor(1000, batch);
          out[`bulwark (batch ${batch})`] = { entries: ops, cpuMs: Math.round(cpuMs), entriesPerCpuSecond: Math.round((ops / cpuMs) * 1000) };
        }
        return out;
      },
    },
  ],
});
