// Rendezvous (highest random weight) hashing, Thaler & Ravishankar 1998:
// every node scores the key and the highest score wins. O(nodes) per lookup,
// no memory beyond the node list, perfect balance in expectation, and exact
// minimal disruption. Weighted with the logarithmic method (score =
// -weight / ln(u)), so a node's share is exactly proportional to its weight.
import { DuplicateNodeError, EmptyRingError, InsufficientNodesError, InvalidOptionsError } from './errors.js';
import type { Placement } from './hash-ring.js';
import type { Key } from './key-bytes.js';
import { murmur3KeyH1 } from './murmur3.js';
import { compareIds, normalizeNode, type NodeInput } from './nodes.js';

export interface RendezvousHashOptions {
  /** Initial nodes, as ids or `{ id, weight }`. */
  nodes?: Iterable<NodeInput>;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

interface Entry {
  id: string;
  weight: number;
  seedA: number;
  seedB: number;
}

export class RendezvousHash implements Placement {
  readonly #entries: Entry[] = [];
  readonly #byId = new Map<string, Entry>();
  #uniform = true;

  constructor(options: RendezvousHashOptions = {}) {
    let i = 0;
    for (const node of options.nodes ?? []) this.#insert(node, `nodes[${i++}]`);
  }

  get size(): number {
    return this.#entries.length;
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  /** Node ids, sorted. */
  nodes(): string[] {
    return this.#entries.map((entry) => entry.id);
  }

  add(node: NodeInput): this {
    this.#insert(node, 'node');
    return this;
  }

  remove(id: string): boolean {
    const entry = this.#byId.get(id);
    if (entry === undefined) return false;
    this.#byId.delete(id);
    this.#entries.splice(this.#entries.indexOf(entry), 1);
    this.#uniform = this.#entries.every((e) => e.weight === this.#entries[0]!.weight);
    return true;
  }

  /** The node with the highest score for `key` (ties: the smaller id). */
  lookup(key: Key): string {
    const entries = this.#entries;
    if (entries.length === 0) throw new EmptyRingError('the rendezvous hash has no nodes');
    const keyHash = murmur3KeyH1(key, 0);
    let best = 0;
    let bestScore = -1;
    for (let i = 0; i < entries.length; i++) {
      const score = this.#score(keyHash, entries[i]!);
      // Entries are sorted by id, so `>` keeps the smaller id on a tie.
      if (score > bestScore) {
        bestScore = score;
        best = i;
      }
    }
    return entries[best]!.id;
  }

  /** The `count` highest-scoring nodes for `key`, best first. Throws InsufficientNodesError when count > size. */
  replicas(key: Key, count: number): string[] {
    if (!Number.isInteger(count) || count < 0) throw new InvalidOptionsError('count', 'an integer >= 0', count);
    if (count > this.#entries.length) throw new InsufficientNodesError(count, this.#entries.length);
    const keyHash = murmur3KeyH1(key, 0);
    return this.#entries
      .map((entry, order) => ({ id: entry.id, order, score: this.#score(keyHash, entry) }))
      .sort((a, b) => b.score - a.score || a.order - b.order)
      .slice(0, count)
      .map((scored) => scored.id);
  }

  #score(keyHash: number, entry: Entry): number {
    const u = fmix32(fmix32(keyHash ^ entry.seedA) ^ entry.seedB);
    if (this.#uniform) return u;
    // -w / ln(x) with x uniform in (0, 1): P(node wins) = w / Σw.
    return -entry.weight / Math.log((u + 0.5) / 4294967296);
  }

  #insert(node: NodeInput, option: string): void {
    const { id, weight } = normalizeNode(node, option);
    if (this.#byId.has(id)) throw new DuplicateNodeError(id);
    const entry: Entry = { id, weight, seedA: murmur3KeyH1(id, 0x5eed), seedB: murmur3KeyH1(id, 0x5eed + 1) };
    // Keep entries sorted by id so ties and `nodes()` do not depend on insertion order.
    let low = 0;
    let high = this.#entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareIds(this.#entries[mid]!.id, id) < 0) low = mid + 1;
      else high = mid;
    }
    this.#entries.splice(low, 0, entry);
    this.#byId.set(id, entry);
    this.#uniform = this.#entries.every((e) => e.weight === weight);
  }
}
