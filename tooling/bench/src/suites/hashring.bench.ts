// @bulwark/hashring vs `hashring` 3.2 (ketama, md5) and `consistent-hash` 1.2 (PJW hash,
// random control points).
//
// - lookup at 10, 100 and 1000 nodes: one `lookup(key)` / `get(key)` per operation, keys
//   cycling through 131,072 distinct strings. `hashring` keeps its default 5,000-entry LRU
//   cache, but a cycle 26x longer than the cache makes every lookup a miss, so it is measured
//   UNCACHED (md5 + search + the cache insert it always pays). Also shown: our ring with 160
//   points per node (hashring's count; less memory, less balanced), our ketama mode
//   (md5 like `hashring`), rendezvous (O(n)) and jump hash (O(log n), numbered buckets).
// - reports: balance (peak/mean keys per node over 1,000,000 seeded random keys) at 10 and
//   100 nodes; the exact largest share of our rings at 10, 100 and 1000 nodes (toJSON, no
//   sampling noise); memory per node (heap + array buffers retained by a ring of 100 and 1000
//   nodes, after GC — `pnpm bench` runs node with --expose-gc) and points per node.
import { createRequire } from 'node:module';
import { HashRing, JumpHash, RendezvousHash } from '@bulwark/hashring';
import { defineSuite, type BenchCase, type BenchTask } from '../harness.js';

interface PeerHashRing {
  get(key: string): string | undefined;
}
interface PeerConsistentHash {
  add(node: string): PeerConsistentHash;
  get(key: string): string | null;
}

const require = createRequire(import.meta.url);
const PeerHashRingClass = require('hashring') as new (servers: string[]) => PeerHashRing;
const ConsistentHashClass = require('consistent-hash') as new () => PeerConsistentHash;

const nodeIds = (count: number): string[] => Array.from({ length: count }, (_, i) => `10.0.${i >> 8}.${i & 255}:6379`);

const KEY_MASK = (1 << 17) - 1;
const keys = Array.from({ length: KEY_MASK + 1 }, (_, i) => `user:${(Math.imul(i, 2654435761) >>> 0).toString(36)}:${i}`);

function consistentHash(ids: string[]): PeerConsistentHash {
  const ring = new ConsistentHashClass();
  for (const id of ids) ring.add(id);
  return ring;
}

/** Cases for one node count; structures are built in setup so building is not timed. */
function lookupTask(count: number): BenchTask {
  const ids = nodeIds(count);
  let ours: HashRing | undefined;
  let ketama: HashRing | undefined;
  let lean: HashRing | undefined;
  let peer: PeerHashRing | undefined;
  let peerConsistent: PeerConsistentHash | undefined;
  let rendezvous: RendezvousHash | undefined;
  let jump: JumpHash | undefined;
  let i = 0;
  const next = (): string => keys[i++ & KEY_MASK]!;
  const cases: BenchCase[] = [
    {
      library: 'bulwark',
      setup: () => (ours = new HashRing({ nodes: ids })),
      teardown: () => (ours = undefined),
      fn: () => ours!.lookup(next()),
    },
    {
      library: 'hashring',
      variant: 'uncached',
      setup: () => (peer = new PeerHashRingClass(ids)),
      teardown: () => (peer = undefined),
      fn: () => peer!.get(next()),
    },
    {
      library: 'consistent-hash',
      setup: () => (peerConsistent = consistentHash(ids)),
      teardown: () => (peerConsistent = undefined),
      fn: () => peerConsistent!.get(next()),
    },
    {
      library: 'bulwark',
      variant: '160 vnodes',
      setup: () => (lean = new HashRing({ nodes: ids, virtualNodes: 160 })),
      teardown: () => (lean = undefined),
      fn: () => lean!.lookup(next()),
    },
    {
      library: 'bulwark',
      variant: 'ketama mode',
      setup: () => (ketama = new HashRing({ nodes: ids, hash: 'ketama' })),
      teardown: () => (ketama = undefined),
      fn: () => ketama!.lookup(next()),
    },
    {
      library: 'bulwark',
      variant: 'jump hash',
      setup: () => (jump = new JumpHash({ nodes: ids })),
      teardown: () => (jump = undefined),
      fn: () => jump!.lookup(next()),
    },
  ];
  if (count <= 100) {
    cases.push({
      library: 'bulwark',
      variant: 'rendezvous',
      setup: () => (rendezvous = new RendezvousHash({ nodes: ids })),
      teardown: () => (rendezvous = undefined),
      fn: () => rendezvous!.lookup(next()),
    });
  }
  return { name: `lookup(key), ${count} nodes`, cases, rounds: 5, durationMs: 250 };
}

/** Seeded 32-bit PRNG (mulberry32) so the balance keys are random but the same every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

const BALANCE_KEYS = 1_000_000;

function peakToMean(lookup: (key: string) => string | null | undefined, nodes: number): number {
  const next = random(20261121);
  const counts = new Map<string, number>();
  for (let k = 0; k < BALANCE_KEYS; k++) {
    const owner = lookup(`${next().toString(16)}${next().toString(16)}`) ?? 'none';
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  return Math.max(...counts.values()) / (BALANCE_KEYS / nodes);
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run with --expose-gc (pnpm bench does)');
  collect();
  collect();
}

/**
 * GC, then give V8 time to free array buffer backing stores (it sweeps them
 * concurrently after a GC, so a reading taken at once can still count the
 * previous measurement's rings).
 */
async function settle(): Promise<void> {
  gc();
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
}

async function retainedBytes(build: () => unknown): Promise<number> {
  await settle();
  const before = process.memoryUsage();
  const kept = build();
  await settle();
  const after = process.memoryUsage();
  const bytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  if (kept === undefined) throw new Error('unreachable');
  return bytes;
}

export const suite = defineSuite({
  name: 'hashring',
  tasks: [lookupTask(10), lookupTask(100), lookupTask(1000)],
  reports: [
    {
      name: 'balance: peak/mean keys per node, 1,000,000 random keys',
      collect: () => {
        const figures: Record<string, Record<string, number>> = {};
        const libraries: [string, (ids: string[]) => (key: string) => string | null | undefined][] = [
          ['bulwark', (ids) => { const r = new HashRing({ nodes: ids }); return (key) => r.lookup(key); }],
          ['hashring', (ids) => { const r = new PeerHashRingClass(ids); return (key) => r.get(key); }],
          ['consistent-hash', (ids) => { const r = consistentHash(ids); return (key) => r.get(key); }],
          ['bulwark (160 vnodes)', (ids) => { const r = new HashRing({ nodes: ids, virtualNodes: 160 }); return (key) => r.lookup(key); }],
          ['bulwark (ketama mode)', (ids) => { const r = new HashRing({ nodes: ids, hash: 'ketama' }); return (key) => r.lookup(key); }],
          ['bulwark (jump hash)', (ids) => { const r = new JumpHash({ nodes: ids }); return (key) => r.lookup(key); }],
          ['bulwark (rendezvous)', (ids) => { const r = new RendezvousHash({ nodes: ids }); return (key) => r.lookup(key); }],
        ];
        for (const [library, make] of libraries) {
          figures[library] = {
            '10 nodes': peakToMean(make(nodeIds(10)), 10),
            '100 nodes': peakToMean(make(nodeIds(100)), 100),
          };
        }
        return figures;
      },
    },
    {
      // Exact shares from toJSON() (no key sampling noise), so 1000 nodes can be shown too.
      name: 'bulwark ring shares: largest share × nodes (exact, from toJSON)',
      collect: () => {
        const figures: Record<string, Record<string, number>> = {};
        for (const [library, virtualNodes] of [['bulwark', undefined], ['bulwark (160 vnodes)', 160]] as const) {
          const row: Record<string, number> = {};
          for (const count of [10, 100, 1000]) {
            const ring = new HashRing({ nodes: nodeIds(count), ...(virtualNodes === undefined ? {} : { virtualNodes }) });
            row[`${count} nodes`] = Math.max(...ring.toJSON().nodes.map((node) => node.share)) * count;
          }
          figures[library] = row;
        }
        return figures;
      },
    },
    {
      name: 'memory: bytes retained per node (and ring points per node)',
      collect: async () => {
        const figures: Record<string, Record<string, number>> = {};
        const builders: [string, (ids: string[]) => unknown, number][] = [
          ['bulwark', (ids) => new HashRing({ nodes: ids }), 4096],
          ['hashring', (ids) => new PeerHashRingClass(ids), 160],
          ['consistent-hash', (ids) => consistentHash(ids), 40],
          ['bulwark (160 vnodes)', (ids) => new HashRing({ nodes: ids, virtualNodes: 160 }), 160],
          ['bulwark (ketama mode)', (ids) => new HashRing({ nodes: ids, hash: 'ketama' }), 160],
          ['bulwark (jump hash)', (ids) => new JumpHash({ nodes: ids }), 0],
          ['bulwark (rendezvous)', (ids) => new RendezvousHash({ nodes: ids }), 0],
        ];
        for (const [library, build, points] of builders) {
          const ids100 = nodeIds(100);
          const ids1000 = nodeIds(1000);
          figures[library] = {
            'B/node @100': Math.round((await retainedBytes(() => build(ids100))) / 100),
            'B/node @1000': Math.round((await retainedBytes(() => build(ids1000))) / 1000),
            'points/node': points,
          };
        }
        return figures;
      },
    },
  ],
});
