/** The only source of randomness the core uses (randomized election timeouts). */
export interface RandomSource {
  /** A number in [0, 1). */
  next(): number;
}

/** A small seeded PRNG (mulberry32): deterministic for a given seed. */
export function seededRandom(seed: number): RandomSource {
  let state = seed >>> 0;
  return {
    next(): number {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
}
