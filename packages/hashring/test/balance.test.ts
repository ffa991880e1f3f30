// Counting properties of the default ring over many keys (no timing).
import { describe, expect, it } from 'vitest';
import { HashRing } from '../src/index.js';

function keyAt(i: number): string {
  // Keys shaped like real ones, varied in length.
  return `user:${(Math.imul(i, 2654435761) >>> 0).toString(36)}:${i}`;
}

function peakToMean(ring: HashRing, keys: number): number {
  const owners = ring.nodes();
  const index = new Map(owners.map((id, i) => [id, i]));
  const counts = new Uint32Array(owners.length);
  for (let i = 0; i < keys; i++) counts[index.get(ring.lookup(keyAt(i)))!]!++;
  return Math.max(...counts) / (keys / owners.length);
}

describe('balance with the default virtual nodes, 1,000,000 keys', () => {
  it.each([10, 100])('peak/mean <= 1.05 at %i nodes', (nodes) => {
    const ring = new HashRing({ nodes: Array.from({ length: nodes }, (_, i) => `cache-${i}.internal:6379`) });
    const ratio = peakToMean(ring, 1_000_000);
    expect(ratio).toBeLessThanOrEqual(1.05);
    expect(ratio).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe('disruption when one node joins n', () => {
  it.each([5, 10, 50])('n = %i: moves 1/(n+1) of keys ± 0.5 pp, all to the new node, none between the others', (n) => {
    const ids = Array.from({ length: n }, (_, i) => `shard-${i}`);
    const before = new HashRing({ nodes: ids });
    const after = new HashRing({ nodes: ids }).add('shard-new');
    const keys = 200_000;
    let moved = 0;
    let movedBetweenSurvivors = 0;
    for (let i = 0; i < keys; i++) {
      const key = keyAt(i);
      const from = before.lookup(key);
      const to = after.lookup(key);
      if (from === to) continue;
      moved++;
      if (to !== 'shard-new') movedBetweenSurvivors++;
    }
    expect(movedBetweenSurvivors).toBe(0);
    expect(Math.abs(moved / keys - 1 / (n + 1))).toBeLessThanOrEqual(0.005);
  }, 60_000);
});
