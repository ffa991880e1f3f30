// MurmurHash3 (Austin Appleby, public domain algorithm), the x86_128 variant:
// four 32-bit lanes, 128-bit output, built only from 32-bit multiplies,
// rotations and xors, so in JavaScript every step is a native int32 operation
// (Math.imul) and nothing allocates. That is why the ring uses it rather than
// a 64-bit hash such as XXH64, which JavaScript can only emulate in 16-bit
// limbs at several times the cost. Checked against SMHasher's verification
// value and an independent implementation in murmur3.test.ts.

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * MurmurHash3_x86_128 of `bytes[0, length)` with a 32-bit seed. Returns the
 * first output word (h1) as a uint32 and, when `out` is given, writes all four
 * words (h1, h2, h3, h4) to it.
 */
export function murmur3x86_128Into(bytes: Uint8Array, length: number, seed: number, out?: Uint32Array): number {
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  let k1: number;
  let k2: number;
  let k3: number;
  let k4: number;
  const blockEnd = length - (length & 15);
  let i = 0;
  for (; i < blockEnd; i += 16) {
    k1 = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k2 = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
    k3 = bytes[i + 8]! | (bytes[i + 9]! << 8) | (bytes[i + 10]! << 16) | (bytes[i + 11]! << 24);
    k4 = bytes[i + 12]! | (bytes[i + 13]! << 8) | (bytes[i + 14]! << 16) | (bytes[i + 15]! << 24);

    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, C3);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(k3, C3);
    k3 = (k3 << 17) | (k3 >>> 15);
    h3 ^= Math.imul(k3, C4);
    h3 = (h3 << 15) | (h3 >>> 17);
    h3 = (h3 + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(k4, C4);
    k4 = (k4 << 18) | (k4 >>> 14);
    h4 ^= Math.imul(k4, C1);
    h4 = (h4 << 13) | (h4 >>> 19);
    h4 = (h4 + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // Tail: up to 15 bytes, lane by lane from the last (the reference's fall-through switch).
  const tail = length & 15;
  if (tail > 12) {
    k4 = 0;
    if (tail >= 15) k4 ^= bytes[i + 14]! << 16;
    if (tail >= 14) k4 ^= bytes[i + 13]! << 8;
    k4 ^= bytes[i + 12]!;
    k4 = Math.imul(k4, C4);
    k4 = (k4 << 18) | (k4 >>> 14);
    h4 ^= Math.imul(k4, C1);
  }
  if (tail > 8) {
    k3 = 0;
    if (tail >= 12) k3 ^= bytes[i + 11]! << 24;
    if (tail >= 11) k3 ^= bytes[i + 10]! << 16;
    if (tail >= 10) k3 ^= bytes[i + 9]! << 8;
    k3 ^= bytes[i + 8]!;
    k3 = Math.imul(k3, C3);
    k3 = (k3 << 17) | (k3 >>> 15);
    h3 ^= Math.imul(k3, C4);
  }
  if (tail > 4) {
    k2 = 0;
    if (tail >= 8) k2 ^= bytes[i + 7]! << 24;
    if (tail >= 7) k2 ^= bytes[i + 6]! << 16;
    if (tail >= 6) k2 ^= bytes[i + 5]! << 8;
    k2 ^= bytes[i + 4]!;
    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, C3);
  }
  if (tail > 0) {
    k1 = 0;
    if (tail >= 4) k1 ^= bytes[i + 3]! << 24;
    if (tail >= 3) k1 ^= bytes[i + 2]! << 16;
    if (tail >= 2) k1 ^= bytes[i + 1]! << 8;
    k1 ^= bytes[i]!;
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
  }

  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  if (out !== undefined) {
    out[0] = h1;
    out[1] = h2 + h1;
    out[2] = h3 + h1;
    out[3] = h4 + h1;
  }
  return h1 >>> 0;
}

/**
 * h1 of MurmurHash3_x86_128 over an ASCII string's char codes, which are its
 * UTF-8 bytes, read straight from the string: no encoding pass, no buffer.
 * Callers check that the string is ASCII.
 */
function murmur3AsciiH1(key: string, seed: number): number {
  const length = key.length;
  let wide = 0; // OR of every char code read: > 0x7f means not ASCII
  let c0: number;
  let c1: number;
  let c2: number;
  let c3: number;
  let h1 = seed | 0;
  let h2 = h1;
  let h3 = h1;
  let h4 = h1;
  let k1: number;
  let k2: number;
  let k3: number;
  let k4: number;
  const blockEnd = length - (length & 15);
  let i = 0;
  for (; i < blockEnd; i += 16) {
    c0 = key.charCodeAt(i);
    c1 = key.charCodeAt(i + 1);
    c2 = key.charCodeAt(i + 2);
    c3 = key.charCodeAt(i + 3);
    wide |= c0 | c1 | c2 | c3;
    k1 = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    c0 = key.charCodeAt(i + 4);
    c1 = key.charCodeAt(i + 5);
    c2 = key.charCodeAt(i + 6);
    c3 = key.charCodeAt(i + 7);
    wide |= c0 | c1 | c2 | c3;
    k2 = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    c0 = key.charCodeAt(i + 8);
    c1 = key.charCodeAt(i + 9);
    c2 = key.charCodeAt(i + 10);
    c3 = key.charCodeAt(i + 11);
    wide |= c0 | c1 | c2 | c3;
    k3 = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    c0 = key.charCodeAt(i + 12);
    c1 = key.charCodeAt(i + 13);
    c2 = key.charCodeAt(i + 14);
    c3 = key.charCodeAt(i + 15);
    wide |= c0 | c1 | c2 | c3;
    k4 = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);

    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
    h1 = (h1 << 19) | (h1 >>> 13);
    h1 = (h1 + h2) | 0;
    h1 = (Math.imul(h1, 5) + 0x561ccd1b) | 0;

    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, C3);
    h2 = (h2 << 17) | (h2 >>> 15);
    h2 = (h2 + h3) | 0;
    h2 = (Math.imul(h2, 5) + 0x0bcaa747) | 0;

    k3 = Math.imul(k3, C3);
    k3 = (k3 << 17) | (k3 >>> 15);
    h3 ^= Math.imul(k3, C4);
    h3 = (h3 << 15) | (h3 >>> 17);
    h3 = (h3 + h4) | 0;
    h3 = (Math.imul(h3, 5) + 0x96cd1c35) | 0;

    k4 = Math.imul(k4, C4);
    k4 = (k4 << 18) | (k4 >>> 14);
    h4 ^= Math.imul(k4, C1);
    h4 = (h4 << 13) | (h4 >>> 19);
    h4 = (h4 + h1) | 0;
    h4 = (Math.imul(h4, 5) + 0x32ac3b17) | 0;
  }

  // Tail: up to 15 bytes, lane by lane from the last (the reference's fall-through switch).
  const tail = length & 15;
  if (tail > 12) {
    k4 = 0;
    if (tail >= 15) {
      c0 = key.charCodeAt(i + 14);
      wide |= c0;
      k4 ^= c0 << 16;
    }
    if (tail >= 14) {
      c0 = key.charCodeAt(i + 13);
      wide |= c0;
      k4 ^= c0 << 8;
    }
    c0 = key.charCodeAt(i + 12);
    wide |= c0;
    k4 ^= c0;
    k4 = Math.imul(k4, C4);
    k4 = (k4 << 18) | (k4 >>> 14);
    h4 ^= Math.imul(k4, C1);
  }
  if (tail > 8) {
    k3 = 0;
    if (tail >= 12) {
      c0 = key.charCodeAt(i + 11);
      wide |= c0;
      k3 ^= c0 << 24;
    }
    if (tail >= 11) {
      c0 = key.charCodeAt(i + 10);
      wide |= c0;
      k3 ^= c0 << 16;
    }
    if (tail >= 10) {
      c0 = key.charCodeAt(i + 9);
      wide |= c0;
      k3 ^= c0 << 8;
    }
    c0 = key.charCodeAt(i + 8);
    wide |= c0;
    k3 ^= c0;
    k3 = Math.imul(k3, C3);
    k3 = (k3 << 17) | (k3 >>> 15);
    h3 ^= Math.imul(k3, C4);
  }
  if (tail > 4) {
    k2 = 0;
    if (tail >= 8) {
      c0 = key.charCodeAt(i + 7);
      wide |= c0;
      k2 ^= c0 << 24;
    }
    if (tail >= 7) {
      c0 = key.charCodeAt(i + 6);
      wide |= c0;
      k2 ^= c0 << 16;
    }
    if (tail >= 6) {
      c0 = key.charCodeAt(i + 5);
      wide |= c0;
      k2 ^= c0 << 8;
    }
    c0 = key.charCodeAt(i + 4);
    wide |= c0;
    k2 ^= c0;
    k2 = Math.imul(k2, C2);
    k2 = (k2 << 16) | (k2 >>> 16);
    h2 ^= Math.imul(k2, C3);
  }
  if (tail > 0) {
    k1 = 0;
    if (tail >= 4) {
      c0 = key.charCodeAt(i + 3);
      wide |= c0;
      k1 ^= c0 << 24;
    }
    if (tail >= 3) {
      c0 = key.charCodeAt(i + 2);
      wide |= c0;
      k1 ^= c0 << 16;
    }
    if (tail >= 2) {
      c0 = key.charCodeAt(i + 1);
      wide |= c0;
      k1 ^= c0 << 8;
    }
    c0 = key.charCodeAt(i);
    wide |= c0;
    k1 ^= c0;
    k1 = Math.imul(k1, C1);
    k1 = (k1 << 15) | (k1 >>> 17);
    h1 ^= Math.imul(k1, C2);
  }

  h1 ^= length;
  h2 ^= length;
  h3 ^= length;
  h4 ^= length;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix32(h1);
  h2 = fmix32(h2);
  h3 = fmix32(h3);
  h4 = fmix32(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  return wide > 0x7f ? -1 : h1 >>> 0;
}

const encoder = new TextEncoder();
let scratch = new Uint8Array(256);

/**
 * h1 of MurmurHash3_x86_128 of a key (a string hashes as its UTF-8 bytes), as a
 * uint32. ASCII strings are hashed in place; other strings are encoded into a
 * reused buffer first. Allocation-free in the common case.
 */
export function murmur3KeyH1(key: string | Uint8Array, seed: number): number {
  if (typeof key !== 'string') {
    if (!(key instanceof Uint8Array)) throw new TypeError('key must be a string or a Uint8Array');
    return murmur3x86_128Into(key, key.length, seed);
  }
  const ascii = murmur3AsciiH1(key, seed);
  if (ascii >= 0) return ascii;
  const length = key.length;
  if (length * 3 > scratch.length) scratch = new Uint8Array(Math.max(length * 3, scratch.length * 2));
  // Lone surrogates encode as U+FFFD, as TextEncoder does everywhere.
  const written = encoder.encodeInto(key, scratch).written;
  return murmur3x86_128Into(scratch, written, seed);
}

/**
 * MurmurHash3_x86_128 of a string (as UTF-8) or bytes: the four 32-bit output
 * words h1..h4 (the reference writes them little-endian in that order).
 */
export function murmur3x86_128(input: string | Uint8Array, seed = 0): Uint32Array {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer from 0 to 2^32-1, got ${seed}`);
  const bytes = typeof input === 'string' ? encoder.encode(input) : input;
  const out = new Uint32Array(4);
  murmur3x86_128Into(bytes, bytes.length, seed, out);
  return out;
}

// MurmurHash3_x86_32: one lane and one finaliser, about a third of the work of
// x86_128 for short keys. The ring hashes keys with it (32 bits is all a ring
// position holds); virtual node points stay on x86_128.
const M1 = 0xcc9e2d51;
const M2 = 0x1b873593;

/** MurmurHash3_x86_32 of `bytes[0, length)` with a 32-bit seed, as a uint32. */
export function murmur3x86_32Into(bytes: Uint8Array, length: number, seed: number): number {
  let h = seed | 0;
  let k: number;
  const blockEnd = length - (length & 3);
  let i = 0;
  for (; i < blockEnd; i += 4) {
    k = bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    k = Math.imul(k, M1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, M2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail > 0) {
    k = 0;
    if (tail === 3) k ^= bytes[i + 2]! << 16;
    if (tail >= 2) k ^= bytes[i + 1]! << 8;
    k ^= bytes[i]!;
    k = Math.imul(k, M1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, M2);
  }
  return fmix32(h ^ length) >>> 0;
}

/** MurmurHash3_x86_32 of an ASCII string read from its char codes; -1 when it is not ASCII. */
function murmur3x86_32Ascii(key: string, seed: number): number {
  const length = key.length;
  let h = seed | 0;
  let k: number;
  let c0: number;
  let c1: number;
  let c2: number;
  let c3: number;
  let wide = 0;
  const blockEnd = length - (length & 3);
  let i = 0;
  for (; i < blockEnd; i += 4) {
    c0 = key.charCodeAt(i);
    c1 = key.charCodeAt(i + 1);
    c2 = key.charCodeAt(i + 2);
    c3 = key.charCodeAt(i + 3);
    wide |= c0 | c1 | c2 | c3;
    k = c0 | (c1 << 8) | (c2 << 16) | (c3 << 24);
    k = Math.imul(k, M1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, M2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const tail = length & 3;
  if (tail > 0) {
    k = 0;
    if (tail === 3) {
      c0 = key.charCodeAt(i + 2);
      wide |= c0;
      k ^= c0 << 16;
    }
    if (tail >= 2) {
      c0 = key.charCodeAt(i + 1);
      wide |= c0;
      k ^= c0 << 8;
    }
    c0 = key.charCodeAt(i);
    wide |= c0;
    k ^= c0;
    k = Math.imul(k, M1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, M2);
  }
  return wide > 0x7f ? -1 : fmix32(h ^ length) >>> 0;
}

/**
 * MurmurHash3_x86_32 of a key (a string hashes as its UTF-8 bytes), as a
 * uint32. ASCII strings are hashed in place; other strings are encoded into a
 * reused buffer first.
 */
export function murmur3Key32(key: string | Uint8Array, seed: number): number {
  if (typeof key !== 'string') {
    if (!(key instanceof Uint8Array)) throw new TypeError('key must be a string or a Uint8Array');
    return murmur3x86_32Into(key, key.length, seed);
  }
  const ascii = murmur3x86_32Ascii(key, seed);
  if (ascii >= 0) return ascii;
  const length = key.length;
  if (length * 3 > scratch.length) scratch = new Uint8Array(Math.max(length * 3, scratch.length * 2));
  const written = encoder.encodeInto(key, scratch).written;
  return murmur3x86_32Into(scratch, written, seed);
}

/** MurmurHash3_x86_32 of a string (as UTF-8) or bytes, as a uint32: the default ring's key position. */
export function murmur3x86_32(input: string | Uint8Array, seed = 0): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be an integer from 0 to 2^32-1, got ${seed}`);
  return murmur3Key32(input, seed);
}
