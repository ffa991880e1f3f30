// A consistent-hash ring with virtual nodes and weights.
//
// Layout: the sorted ring points (`positions`, uint32) and, derived from them,
// `cells`: for each point the upper end of the positions it owns and its
// owner's index, interleaved in one Uint32Array. A prefix index maps the top
// bits of a position to the few cells that can hold it (replicas, bounded
// loads, ketama lookups).
//
// Slots (murmur3 and custom hashes): the ring is read at 2^21 fixed slots, each
// 2048 positions wide; a key belongs to whoever owns the centre of the slot its
// position falls in, and a table of one owner index per slot (4 MiB) answers a
// lookup with one hash and one read, at any ring size. Reading the ring at
// fixed points keeps every consistent-hashing property (a new node only takes
// slots whose centre is now nearest to one of its points; nothing moves
// between the nodes that stay) and costs no balance at 100 nodes (the slot
// grid is finer than the cells), while the table stays small enough for the
// cache and the TLB where an exact per-point table of a 1000-node ring (4M
// points) does not. Ketama mode is exact: it must match libketama key for key.
//
// Determinism: a node's points depend only on its id (and weight), and equal
// points are ordered by node id, so the same node set gives the same ring in
// every process whatever order the nodes were added in. (Ketama mode orders
// equal points by insertion instead, because that is what `hashring` does.)
import {
  EmptyRingError,
  DuplicateNodeError,
  InsufficientNodesError,
  InvalidOptionsError,
} from './errors.js';
import { ketamaHashCount, ketamaKeyPosition, ketamaNodePoints } from './ketama.js';
import { keyBytes, encodedLength, type Key } from './key-bytes.js';
import { murmur3Key32, murmur3x86_128Into } from './murmur3.js';
import { compareIds, normalizeNode, type NodeInput } from './nodes.js';

/** A custom position function: bytes of a key (or of a vnode label `${id}-${i}`) to a uint32 ring position. */
export type PositionHash = (bytes: Uint8Array) => number;

export interface HashRingOptions {
  /** Initial nodes, as ids or `{ id, weight }`. Ids must be unique. */
  nodes?: Iterable<NodeInput>;
  /**
   * Virtual nodes per unit of weight. Default 4096 for `'murmur3'` and custom
   * hashes (what peak/mean <= 1.05 at 100 nodes takes); for `'ketama'` it is
   * the number of md5 digests per node (default 40, each giving 4 points).
   * A finite integer from 1 to 1,000,000.
   */
  virtualNodes?: number;
  /**
   * `'murmur3'` (default): a key sits at MurmurHash3_x86_32 of its UTF-8 bytes,
   * virtual node i of a node at h1 of MurmurHash3_x86_128 of its id's UTF-8, seed i.
   * `'ketama'`: maps keys exactly as libketama / `hashring` npm 3.x.
   * A function: your own `(bytes) => uint32` position hash.
   */
  hash?: 'murmur3' | 'ketama' | PositionHash;
}

/** Options of the bounded-load lookup (Mirrokni, Thorup, Zadimoghaddam, 2018). */
export interface BoundedLoadOptions {
  /** Current load of each node (keys or requests it holds); missing nodes count as 0. */
  loads: ReadonlyMap<string, number> | ((nodeId: string) => number);
  /** Slack over the mean: no node is given a key once it holds ceil((1 + epsilon) * (total + 1) / size). Default 0.25. */
  epsilon?: number;
  /** Sum of all loads, if you track it (saves an O(nodes) pass). */
  totalLoad?: number;
}

/** One range of ring positions whose keys change owner, `start` and `end` inclusive (`start <= end`). */
export interface MovedRange {
  start: number;
  end: number;
  from: string;
  to: string;
}

/** What `toJSON()` returns. */
export interface HashRingSnapshot {
  hash: 'murmur3' | 'ketama' | 'custom';
  virtualNodes: number;
  size: number;
  points: number;
  nodes: { id: string; weight: number; points: number; share: number }[];
}

/** The contract shared by HashRing, RendezvousHash and JumpHash. */
export interface Placement {
  readonly size: number;
  has(id: string): boolean;
  nodes(): string[];
  lookup(key: Key): string;
}

export const DEFAULT_VIRTUAL_NODES = 4096;
const DEFAULT_KETAMA_HASHES = 40;
const KETAMA_POINTS_PER_HASH = 4;
const MAX_VIRTUAL_NODES = 1_000_000;
/** Owner indices share a float64 with the 32-bit position while sorting: 21 bits. */
const OWNER_BITS = 2 ** 21;
const MAX_NODES = OWNER_BITS;
const MAX_POINTS = 2 ** 27;
const encoder = new TextEncoder();
/** The ring is read at 2^SLOT_BITS slots (murmur3 and custom hashes). Part of the mapping: changing it moves keys. */
const SLOT_BITS = 21;
const SLOT_SHIFT = 32 - SLOT_BITS;
/** Slots the ring is read at, and positions per slot (exported for tests; not part of the package's entry point). */
export const SLOT_COUNT = 2 ** SLOT_BITS;
export const SLOT_WIDTH = 2 ** SLOT_SHIFT;
/** Where a slot is read: its centre. */
const slotCentre = (slot: number): number => slot * SLOT_WIDTH + SLOT_WIDTH / 2;

type HashKind = 'murmur3' | 'ketama' | 'custom';

export class HashRing implements Placement {
  readonly #kind: HashKind;
  readonly #custom: PositionHash | undefined;
  readonly #virtualNodes: number;
  /** Insertion-ordered id -> weight. */
  readonly #weights = new Map<string, number>();
  /** Owner index -> id: sorted by id (ketama: insertion order). */
  #order: string[] = [];
  #positions: Uint32Array = new Uint32Array(0);
  #count = 0;
  /**
   * What lookups read: per point k, the upper end of the positions it owns and
   * its owner, interleaved ([end0, owner0, end1, owner1, ...]) so one cache
   * line holds both. Positions in (end(k-1), end(k)] belong to point k.
   */
  #cells: Uint32Array = new Uint32Array(0);
  /** When the last point's cell wraps past 2^32-1: positions 0..wrapEnd belong to it (else -1). */
  #wrapEnd = -1;
  #index: Uint32Array = new Uint32Array(2);
  #shift = 31;
  /**
   * Owner index per slot (see the top of the file); undefined in ketama mode
   * and for an empty ring. 16-bit owners up to 65,536 nodes, else 32-bit.
   */
  #slots: Uint16Array | Uint32Array | undefined = undefined;
  /** Per-owner visit marks for replicas / bounded loads, with an epoch so they need no clearing. */
  #seen: Uint32Array = new Uint32Array(0);
  #epoch = 0;

  constructor(options: HashRingOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
    const hash = options.hash ?? 'murmur3';
    if (typeof hash === 'function') {
      this.#kind = 'custom';
      this.#custom = hash;
    } else if (hash === 'murmur3' || hash === 'ketama') {
      this.#kind = hash;
      this.#custom = undefined;
    } else {
      throw new InvalidOptionsError('hash', "'murmur3', 'ketama' or a function (bytes) => uint32", hash);
    }
    const virtualNodes = options.virtualNodes ?? (this.#kind === 'ketama' ? DEFAULT_KETAMA_HASHES : DEFAULT_VIRTUAL_NODES);
    if (typeof virtualNodes !== 'number' || !Number.isInteger(virtualNodes) || virtualNodes < 1 || virtualNodes > MAX_VIRTUAL_NODES) {
      throw new InvalidOptionsError('virtualNodes', `an integer from 1 to ${MAX_VIRTUAL_NODES}`, virtualNodes);
    }
    this.#virtualNodes = virtualNodes;
    const initial = options.nodes ?? [];
    if (typeof initial === 'string' || typeof (initial as { [Symbol.iterator]?: unknown } | null)?.[Symbol.iterator] !== 'function') {
      throw new InvalidOptionsError('nodes', 'an iterable of ids or { id, weight }', initial);
    }
    let i = 0;
    for (const input of initial) {
      const { id, weight } = normalizeNode(input, `nodes[${i++}]`);
      if (this.#weights.has(id)) throw new DuplicateNodeError(id);
      this.#weights.set(id, weight);
    }
    this.#checkLimits();
    this.#rebuild();
  }

  /** Number of nodes. */
  get size(): number {
    return this.#weights.size;
  }

  /** Number of points on the ring (virtual nodes over all nodes). */
  get points(): number {
    return this.#count;
  }

  has(id: string): boolean {
    return this.#weights.has(id);
  }

  /** Node ids in the order they were added. */
  nodes(): string[] {
    return [...this.#weights.keys()];
  }

  /** Weight of node `id`, or undefined when absent. */
  weightOf(id: string): number | undefined {
    return this.#weights.get(id);
  }

  /** Adds a node. Throws DuplicateNodeError if the id is present, InvalidWeightError for a bad weight. */
  add(node: NodeInput): this {
    const { id, weight } = normalizeNode(node, 'node');
    if (this.#weights.has(id)) throw new DuplicateNodeError(id);
    this.#weights.set(id, weight);
    try {
      this.#checkLimits();
    } catch (error) {
      this.#weights.delete(id);
      throw error;
    }
    if (this.#kind === 'ketama') this.#rebuild();
    else this.#mergeIn(id, weight);
    return this;
  }

  /** Removes a node; returns false when it was not present. */
  remove(id: string): boolean {
    if (!this.#weights.delete(id)) return false;
    if (this.#kind === 'ketama') this.#rebuild();
    else this.#filterOut(id);
    return true;
  }

  /** The ring position (uint32) a key hashes to. */
  position(key: Key): number {
    return this.#keyPosition(key);
  }

  /**
   * The node that owns `key`: the owner of the ring point nearest to the
   * centre of the slot the key's position falls in (ketama: of the first point
   * at or after the position itself). With `bounded`, the first
   * node in ring order from there whose load is under the bound.
   * Throws EmptyRingError when the ring has no nodes.
   */
  lookup(key: Key, bounded?: BoundedLoadOptions): string {
    if (this.#count === 0) throw new EmptyRingError();
    const slots = this.#slots;
    if (bounded === undefined && slots !== undefined) return this.#order[slots[this.#keyPosition(key) >>> SLOT_SHIFT]!]!;
    const start = this.#startPoint(key);
    if (bounded === undefined) return this.#order[this.#cells[2 * start + 1]!]!;
    return this.#lookupBounded(start, bounded);
  }

  /** The point a key's lookup starts from: the one owning its slot's centre (ketama: its position). */
  #startPoint(key: Key): number {
    const position = this.#keyPosition(key);
    return this.#successor(this.#kind === 'ketama' ? position : slotCentre(position >>> SLOT_SHIFT));
  }

  /**
   * `count` distinct nodes for `key`, in ring order starting with its owner.
   * Throws InsufficientNodesError when count > size.
   */
  replicas(key: Key, count: number): string[] {
    if (!Number.isInteger(count) || count < 0) throw new InvalidOptionsError('count', 'an integer >= 0', count);
    if (count > this.#weights.size) throw new InsufficientNodesError(count, this.#weights.size);
    if (count === 0) return [];
    let point = this.#startPoint(key);
    const epoch = this.#nextEpoch();
    const seen = this.#seen;
    const result: string[] = [];
    for (let steps = 0; steps < this.#count; steps++) {
      const owner = this.#cells[2 * point + 1]!;
      if (seen[owner] !== epoch) {
        seen[owner] = epoch;
        result.push(this.#order[owner]!);
        if (result.length === count) return result;
      }
      point = point + 1 === this.#count ? 0 : point + 1;
    }
    throw new InsufficientNodesError(count, result.length);
  }

  /** A snapshot: hash, sizes, and each node's points and share of the ring (0..1). */
  toJSON(): HashRingSnapshot {
    const share = new Float64Array(this.#order.length);
    const pointCount = new Uint32Array(this.#order.length);
    const end = (k: number): number =>
      k === this.#count - 1 && this.#wrapEnd >= 0 ? this.#wrapEnd + 2 ** 32 : this.#cells[2 * k]!;
    for (let k = 0; k < this.#count; k++) {
      const owner = this.#cells[2 * k + 1]!;
      pointCount[owner]!++;
      if (this.#slots !== undefined) continue;
      const previous = k === 0 ? end(this.#count - 1) - 2 ** 32 : end(k - 1);
      share[owner]! += (end(k) - previous) / 2 ** 32;
    }
    if (this.#slots !== undefined) for (const owner of this.#slots) share[owner]! += 1 / SLOT_COUNT;
    const ownerOf = new Map(this.#order.map((id, index) => [id, index]));
    return {
      hash: this.#kind,
      virtualNodes: this.#virtualNodes,
      size: this.size,
      points: this.#count,
      nodes: [...this.#weights].map(([id, weight]) => {
        const owner = ownerOf.get(id);
        return { id, weight, points: owner === undefined ? 0 : pointCount[owner]!, share: owner === undefined ? 0 : share[owner]! };
      }),
    };
  }

  /**
   * The position ranges whose keys have a different owner in `after` than in
   * `before` (both rings must use the same hash). A key moved iff its
   * `position(key)` lies in one of the ranges; `from`/`to` say where it went.
   */
  static diff(before: HashRing, after: HashRing): MovedRange[] {
    if (before.#kind !== after.#kind || before.#custom !== after.#custom) {
      throw new InvalidOptionsError('after', 'a ring using the same hash as before', after.#kind);
    }
    const ranges: MovedRange[] = [];
    if (before.#count === 0 || after.#count === 0) {
      if (before.#count === 0 && after.#count === 0) return ranges;
      throw new EmptyRingError('cannot diff against an empty ring: every key would move to or from nowhere');
    }
    const push = (start: number, end: number, from: string, to: string): void => {
      if (from === to) return;
      const last = ranges[ranges.length - 1];
      if (last !== undefined && last.end + 1 === start && last.from === from && last.to === to) last.end = end;
      else ranges.push({ start, end, from, to });
    };
    const beforeSlots = before.#slots;
    const afterSlots = after.#slots;
    if (beforeSlots !== undefined && afterSlots !== undefined) {
      // Slotted rings: a key's owner is its slot's, so compare slot by slot.
      for (let slot = 0; slot < SLOT_COUNT; slot++) {
        const start = slot * SLOT_WIDTH;
        push(start, start + SLOT_WIDTH - 1, before.#order[beforeSlots[slot]!]!, after.#order[afterSlots[slot]!]!);
      }
      return ranges;
    }
    // Ketama: ownership only changes at cell ends, so walk the union of both rings'
    // cell ends: every position in (previous, current] has one owner per ring.
    const breaks = new Float64Array(before.#count + after.#count + 3);
    let n = 0;
    for (const ring of [before, after]) {
      for (let k = 0; k < ring.#count; k++) breaks[n++] = ring.#cells[2 * k]!;
      if (ring.#wrapEnd >= 0) breaks[n++] = ring.#wrapEnd;
    }
    breaks[n++] = 0xffffffff;
    const sorted = breaks.subarray(0, n).sort();
    let previous = -1;
    for (const current of sorted) {
      if (current <= previous) continue;
      push(previous + 1, current, before.#ownerAt(current), after.#ownerAt(current));
      previous = current;
    }
    return ranges;
  }

  #keyPosition(key: Key): number {
    if (this.#kind === 'murmur3') return murmur3Key32(key, 0);
    const bytes = keyBytes(key);
    const view = encodedLength === bytes.length ? bytes : bytes.subarray(0, encodedLength);
    if (this.#kind === 'ketama') return ketamaKeyPosition(view);
    return this.#customPosition(view);
  }

  #customPosition(bytes: Uint8Array): number {
    const position = this.#custom!(bytes);
    if (typeof position !== 'number' || !Number.isInteger(position) || position < 0 || position > 0xffffffff) {
      throw new TypeError(`the hash function must return an integer from 0 to 2^32-1, got ${String(position)}`);
    }
    return position;
  }

  /** Index of the point whose cell holds `position`. */
  #successor(position: number): number {
    if (position <= this.#wrapEnd) return this.#count - 1;
    const cells = this.#cells;
    const bucket = position >>> this.#shift;
    let low = this.#index[bucket]!;
    let high = this.#index[bucket + 1]!;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (cells[2 * mid]! < position) low = mid + 1;
      else high = mid;
    }
    return low === this.#count ? 0 : low;
  }

  #ownerAt(position: number): string {
    return this.#order[this.#cells[2 * this.#successor(position) + 1]!]!;
  }

  #lookupBounded(start: number, options: BoundedLoadOptions): string {
    const { loads } = options;
    const epsilon = options.epsilon ?? 0.25;
    if (typeof epsilon !== 'number' || !Number.isFinite(epsilon) || epsilon <= 0) {
      throw new InvalidOptionsError('epsilon', 'a finite number > 0', epsilon);
    }
    const loadOf =
      typeof loads === 'function'
        ? loads
        : typeof (loads as { get?: unknown } | null)?.get === 'function'
          ? (id: string): number => loads.get(id) ?? 0
          : undefined;
    if (loadOf === undefined) throw new InvalidOptionsError('loads', 'a Map<string, number> or a function (id) => number', loads);
    let total = options.totalLoad;
    if (total === undefined) {
      total = 0;
      for (const id of this.#order) total += loadOf(id);
    } else if (typeof total !== 'number' || !Number.isFinite(total) || total < 0) {
      throw new InvalidOptionsError('totalLoad', 'a finite number >= 0', total);
    }
    // §2 of the paper: capacity ceil((1 + ε) · m / n), m counting the key being placed.
    const capacity = Math.ceil(((1 + epsilon) * (total + 1)) / this.#order.length);
    const epoch = this.#nextEpoch();
    const seen = this.#seen;
    let best = '';
    let bestLoad = Infinity;
    let point = start;
    let visited = 0;
    for (let steps = 0; steps < this.#count && visited < this.#order.length; steps++) {
      const owner = this.#cells[2 * point + 1]!;
      if (seen[owner] !== epoch) {
        seen[owner] = epoch;
        visited++;
        const id = this.#order[owner]!;
        const load = loadOf(id);
        if (load + 1 <= capacity) return id;
        if (load < bestLoad) {
          best = id;
          bestLoad = load;
        }
      }
      point = point + 1 === this.#count ? 0 : point + 1;
    }
    // Only reachable when the loads given do not add up to `total`: the least loaded node.
    return best;
  }

  #nextEpoch(): number {
    if (this.#seen.length < this.#order.length) this.#seen = new Uint32Array(Math.max(this.#order.length, 16));
    this.#epoch = (this.#epoch + 1) >>> 0;
    if (this.#epoch === 0) {
      this.#seen.fill(0);
      this.#epoch = 1;
    }
    return this.#epoch;
  }

  #pointCount(weight: number): number {
    return Math.max(1, Math.round(this.#virtualNodes * weight));
  }

  #checkLimits(): void {
    if (this.#weights.size > MAX_NODES) throw new RangeError(`a ring holds at most ${MAX_NODES} nodes`);
    if (this.#kind === 'ketama') return;
    let total = 0;
    for (const weight of this.#weights.values()) total += this.#pointCount(weight);
    if (total > MAX_POINTS) {
      throw new InvalidOptionsError('virtualNodes × weight', `at most ${MAX_POINTS} points in total`, total);
    }
  }

  /** Emits the points of node `id` (not ketama). */
  #nodePoints(id: string, weight: number, emit: (position: number) => void): void {
    const count = this.#pointCount(weight);
    const bytes = encoder.encode(id);
    if (this.#kind === 'murmur3') {
      // Virtual node i of `id` sits at h1 of MurmurHash3_x86_128(utf8(id), seed = i).
      for (let i = 0; i < count; i++) emit(murmur3x86_128Into(bytes, bytes.length, i));
      return;
    }
    for (let i = 0; i < count; i++) emit(this.#customPosition(encoder.encode(`${id}-${i}`)));
  }

  /** Builds the ring from scratch. */
  #rebuild(): void {
    if (this.#kind === 'ketama') {
      this.#order = [...this.#weights.keys()];
    } else {
      this.#order = [...this.#weights.keys()].sort(compareIds);
    }
    const sizes: number[] = [];
    let total = 0;
    let totalWeight = 0;
    for (const weight of this.#weights.values()) totalWeight += weight;
    for (const id of this.#order) {
      const weight = this.#weights.get(id)!;
      const size =
        this.#kind === 'ketama'
          ? ketamaHashCount(weight, totalWeight, this.#virtualNodes, this.#order.length) * KETAMA_POINTS_PER_HASH
          : this.#pointCount(weight);
      sizes.push(size);
      total += size;
    }
    // Sort (position, owner) pairs packed into one float64: position * 2^21 + owner.
    const packed = new Float64Array(total);
    let k = 0;
    for (let owner = 0; owner < this.#order.length; owner++) {
      const id = this.#order[owner]!;
      const emit = (position: number): void => {
        packed[k++] = position * OWNER_BITS + owner;
      };
      if (this.#kind === 'ketama') {
        ketamaNodePoints(id, sizes[owner]! / KETAMA_POINTS_PER_HASH, KETAMA_POINTS_PER_HASH, emit);
      } else {
        this.#nodePoints(id, this.#weights.get(id)!, emit);
      }
    }
    packed.sort();
    const positions = new Uint32Array(total);
    const owners = new Int32Array(total);
    for (let p = 0; p < total; p++) {
      const value = packed[p]!;
      const position = Math.floor(value / OWNER_BITS);
      positions[p] = position;
      owners[p] = value - position * OWNER_BITS;
    }
    this.#install(positions, owners, total);
  }

  /** Adds one node's points by merging (not ketama: its point counts depend on every node). */
  #mergeIn(id: string, weight: number): void {
    const own: number[] = [];
    this.#nodePoints(id, weight, (position) => own.push(position));
    const mine = Float64Array.from(own).sort();
    // Owner index of the new node in id order; owners at or above it shift up.
    let rank = 0;
    let high = this.#order.length;
    while (rank < high) {
      const mid = (rank + high) >>> 1;
      if (this.#order[mid]! < id) rank = mid + 1;
      else high = mid;
    }
    this.#order.splice(rank, 0, id);
    const total = this.#count + mine.length;
    const positions = new Uint32Array(total);
    const owners = new Int32Array(total);
    const oldPositions = this.#positions;
    const oldCells = this.#cells;
    let i = 0;
    let j = 0;
    for (let k = 0; k < total; k++) {
      const takeOld =
        j >= mine.length ||
        (i < this.#count && (oldPositions[i]! < mine[j]! || (oldPositions[i] === mine[j] && oldCells[2 * i + 1]! < rank)));
      if (takeOld) {
        const owner = oldCells[2 * i + 1]!;
        positions[k] = oldPositions[i]!;
        owners[k] = owner >= rank ? owner + 1 : owner;
        i++;
      } else {
        positions[k] = mine[j]!;
        owners[k] = rank;
        j++;
      }
    }
    this.#install(positions, owners, total);
  }

  #filterOut(id: string): void {
    const rank = this.#order.indexOf(id);
    this.#order.splice(rank, 1);
    let total = 0;
    for (let k = 0; k < this.#count; k++) if (this.#cells[2 * k + 1] !== rank) total++;
    const positions = new Uint32Array(total);
    const owners = new Int32Array(total);
    let n = 0;
    for (let k = 0; k < this.#count; k++) {
      const owner = this.#cells[2 * k + 1]!;
      if (owner === rank) continue;
      positions[n] = this.#positions[k]!;
      owners[n] = owner > rank ? owner - 1 : owner;
      n++;
    }
    this.#install(positions, owners, total);
  }

  /**
   * Installs sorted points, derives the cells and rebuilds the prefix index
   * (two to four cells per bucket).
   *
   * A key belongs to the NEAREST point (ties to the point before it): each cell
   * ends halfway to the next point. A cell's length is then the mean of two
   * independent gaps instead of one gap, which halves the variance of a node's
   * share, so the same balance takes half the virtual nodes. Cell ends depend
   * only on the two points around them, so adding a node still only moves keys
   * to it. Ketama mode keeps libketama's rule: a key belongs to the next point.
   */
  #install(positions: Uint32Array, owners: Int32Array, count: number): void {
    this.#positions = positions;
    this.#count = count;
    const cells = new Uint32Array(2 * count);
    const nearest = this.#kind !== 'ketama';
    this.#wrapEnd = -1;
    for (let k = 0; k < count; k++) {
      let end = positions[k]!;
      if (nearest) {
        const next = k + 1 < count ? positions[k + 1]! : positions[0]! + 2 ** 32;
        end = Math.floor((end + next) / 2);
        if (end > 0xffffffff) {
          this.#wrapEnd = end - 2 ** 32;
          end = 0xffffffff;
        }
      }
      cells[2 * k] = end;
      cells[2 * k + 1] = owners[k]!;
    }
    this.#cells = cells;
    const bits = Math.max(1, Math.min(22, Math.ceil(Math.log2(Math.max(count, 2))) - 2));
    const buckets = 2 ** bits;
    const shift = 32 - bits;
    const index = new Uint32Array(buckets + 1);
    let k = 0;
    for (let bucket = 0; bucket < buckets; bucket++) {
      const floor = bucket * 2 ** shift;
      while (k < count && cells[2 * k]! < floor) k++;
      index[bucket] = k;
    }
    index[buckets] = count;
    this.#index = index;
    this.#shift = shift;
    this.#buildSlots();
  }

  /**
   * The slot table: the owner of each slot's centre, in one pass over slots
   * and cells together (O(slots + points)).
   */
  #buildSlots(): void {
    const count = this.#count;
    if (count === 0 || this.#kind === 'ketama') {
      this.#slots = undefined;
      return;
    }
    const slots = this.#order.length <= 2 ** 16 ? new Uint16Array(SLOT_COUNT) : new Uint32Array(SLOT_COUNT);
    const cells = this.#cells;
    const wrapEnd = this.#wrapEnd;
    const wrapOwner = cells[2 * (count - 1) + 1]!;
    // k: the first cell whose end is >= the centre (what #successor finds).
    let k = 0;
    for (let slot = 0; slot < SLOT_COUNT; slot++) {
      const centre = slotCentre(slot);
      if (centre <= wrapEnd) {
        slots[slot] = wrapOwner;
        continue;
      }
      while (k < count && cells[2 * k]! < centre) k++;
      slots[slot] = cells[2 * (k === count ? 0 : k) + 1]!;
    }
    this.#slots = slots;
  }
}

/** The position ranges that change owner between two rings; see `HashRing.diff`. */
export function diffRings(before: HashRing, after: HashRing): MovedRange[] {
  return HashRing.diff(before, after);
}
