// Jump consistent hash (Lamping & Veach, "A Fast, Minimal Memory, Consistent
// Hash Algorithm", 2014): maps a 64-bit key to one of `buckets` numbered
// buckets with no memory, perfect balance, and minimal movement when buckets
// are ADDED OR REMOVED AT THE END. It cannot remove a bucket in the middle.
import { EmptyRingError, DuplicateNodeError, InvalidOptionsError } from './errors.js';
import type { Placement } from './hash-ring.js';
import type { Key } from './key-bytes.js';
import { murmur3KeyH1 } from './murmur3.js';

// The paper's LCG multiplier 2862933555777941757 as 32-bit halves.
const M_HI = 0x27bb2ee6;
const M_LO = 0x87b0b0fd;
const M_L0 = M_LO & 0xffff;
const M_L1 = M_LO >>> 16;

/** The paper's algorithm on a 64-bit key given as uint32 halves. */
function jump(keyHi: number, keyLo: number, buckets: number): number {
  let b = -1;
  let j = 0;
  let hi = keyHi >>> 0;
  let lo = keyLo >>> 0;
  while (j < buckets) {
    b = j;
    // key = key * 2862933555777941757 + 1 (mod 2^64), in 16-bit limbs.
    const a0 = lo & 0xffff;
    const a1 = lo >>> 16;
    const p00 = a0 * M_L0;
    const p01 = a0 * M_L1;
    const p10 = a1 * M_L0;
    const p11 = a1 * M_L1;
    const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
    const productLo = (((mid << 16) | (p00 & 0xffff)) >>> 0) + 1;
    hi = (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16) + Math.imul(hi, M_LO) + Math.imul(lo, M_HI) + (productLo > 0xffffffff ? 1 : 0)) >>> 0;
    lo = productLo >>> 0;
    // j = (b + 1) * (2^31 / ((key >>> 33) + 1)), in doubles as in the paper.
    j = Math.floor((b + 1) * (2147483648 / ((hi >>> 1) + 1)));
  }
  return b;
}

/**
 * The bucket (0..buckets-1) of `key`. A bigint is used as the 64-bit key
 * itself (interoperable with other implementations of the paper); a string
 * (as UTF-8) or bytes is first hashed to 64 bits with MurmurHash3.
 */
export function jumpHash(key: Key | bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 0x7fffffff) {
    throw new InvalidOptionsError('buckets', 'an integer from 1 to 2^31-1', buckets);
  }
  if (typeof key === 'bigint') {
    const k = BigInt.asUintN(64, key);
    return jump(Number(k >> 32n), Number(k & 0xffffffffn), buckets);
  }
  return jump(murmur3KeyH1(key, 1), murmur3KeyH1(key, 0), buckets);
}

export interface JumpHashOptions {
  /** The buckets, in order: bucket i is `nodes[i]`. */
  nodes?: Iterable<string>;
}

/**
 * Jump hash over an ordered list of node ids. `add` appends and `remove` only
 * accepts the last node, because jump hash is consistent only for growth and
 * shrinkage at the end (use HashRing or RendezvousHash for arbitrary removal).
 */
export class JumpHash implements Placement {
  readonly #nodes: string[] = [];
  readonly #index = new Map<string, number>();

  constructor(options: JumpHashOptions = {}) {
    let i = 0;
    for (const id of options.nodes ?? []) this.#append(id, `nodes[${i++}]`);
  }

  get size(): number {
    return this.#nodes.length;
  }

  has(id: string): boolean {
    return this.#index.has(id);
  }

  /** Node ids in bucket order. */
  nodes(): string[] {
    return [...this.#nodes];
  }

  /** Bucket number of node `id`, or undefined. */
  bucketOf(id: string): number | undefined {
    return this.#index.get(id);
  }

  /** Appends a node as the next bucket. */
  add(id: string): this {
    this.#append(id, 'id');
    return this;
  }

  /** Removes the LAST node; returns false when absent, throws InvalidOptionsError for any other node. */
  remove(id: string): boolean {
    const index = this.#index.get(id);
    if (index === undefined) return false;
    if (index !== this.#nodes.length - 1) {
      throw new InvalidOptionsError('id', `the last node (${JSON.stringify(this.#nodes.at(-1))}): jump hash only shrinks from the end`, id);
    }
    this.#nodes.pop();
    this.#index.delete(id);
    return true;
  }

  lookup(key: Key): string {
    if (this.#nodes.length === 0) throw new EmptyRingError('the jump hash has no nodes');
    return this.#nodes[jumpHash(key, this.#nodes.length)]!;
  }

  #append(id: string, option: string): void {
    if (typeof id !== 'string' || id.length === 0) throw new InvalidOptionsError(option, 'a non-empty string', id);
    if (this.#index.has(id)) throw new DuplicateNodeError(id);
    this.#index.set(id, this.#nodes.length);
    this.#nodes.push(id);
  }
}
