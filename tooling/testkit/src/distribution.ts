// Delay distributions for network links and client think time (milliseconds of
// virtual time), sampled from the simulation's seeded generator.
import type { Random } from './prng.js';

export type Distribution =
  | { readonly kind: 'constant'; readonly ms: number }
  | { readonly kind: 'uniform'; readonly minMs: number; readonly maxMs: number }
  /** Exponential with the given mean, shifted by minMs and capped at maxMs (long-tail latency). */
  | { readonly kind: 'exponential'; readonly meanMs: number; readonly minMs?: number; readonly maxMs?: number }
  /** With probability `p` sample from `slow`, otherwise from `fast` (bimodal: GC pauses, retransmits). */
  | { readonly kind: 'mixture'; readonly p: number; readonly fast: Distribution; readonly slow: Distribution };

export function constant(ms: number): Distribution {
  return { kind: 'constant', ms };
}

export function uniform(minMs: number, maxMs: number): Distribution {
  return { kind: 'uniform', minMs, maxMs };
}

export function exponential(meanMs: number, options: { minMs?: number; maxMs?: number } = {}): Distribution {
  return { kind: 'exponential', meanMs, ...options };
}

export function validateDistribution(d: Distribution, name: string): void {
  const bad = (what: string): never => {
    throw new RangeError(`${name}: ${what}`);
  };
  const nonNegative = (v: number | undefined, field: string): void => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) bad(`${field} must be a finite number >= 0, got ${String(v)}`);
  };
  switch (d.kind) {
    case 'constant':
      nonNegative(d.ms, 'ms');
      return;
    case 'uniform':
      nonNegative(d.minMs, 'minMs');
      nonNegative(d.maxMs, 'maxMs');
      if (d.maxMs < d.minMs) bad(`maxMs (${d.maxMs}) must be >= minMs (${d.minMs})`);
      return;
    case 'exponential':
      nonNegative(d.meanMs, 'meanMs');
      nonNegative(d.minMs, 'minMs');
      nonNegative(d.maxMs, 'maxMs');
      return;
    case 'mixture':
      if (!(d.p >= 0 && d.p <= 1)) bad(`p must be in [0, 1], got ${String(d.p)}`);
      validateDistribution(d.fast, `${name}.fast`);
      validateDistribution(d.slow, `${name}.slow`);
      return;
    default:
      throw new TypeError(`${name}: unknown distribution kind ${String((d as { kind?: unknown }).kind)}`);
  }
}

export function sample(d: Distribution, random: Random): number {
  switch (d.kind) {
    case 'constant':
      return d.ms;
    case 'uniform':
      return random.between(d.minMs, d.maxMs);
    case 'exponential': {
      const value = (d.minMs ?? 0) + random.exponential(d.meanMs);
      return d.maxMs === undefined ? value : Math.min(value, d.maxMs);
    }
    case 'mixture':
      return random.chance(d.p) ? sample(d.slow, random) : sample(d.fast, random);
  }
}
