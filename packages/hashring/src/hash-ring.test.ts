import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDuplicateNodeError, isEmptyRingError, isInsufficientNodesError, isInvalidOptionsError, isInvalidWeightError } from './errors.js';
import { DEFAULT_VIRTUAL_NODES, HashRing, SLOT_COUNT, SLOT_WIDTH, diffRings } from './hash-ring.js';
import { murmur3x86_32 } from './murmur3.js';

const five = ['cache-a', 'cache-b', 'cache-c', 'cache-d', 'cache-e'];
const sampleKeys = (count: number, prefix = 'key'): string[] => Array.from({ length: count }, (_, i) => `${prefix}:${i}`);
const catching = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('HashRing basics', () => {
  it('tracks membership', () => {
    const ring = new HashRing({ nodes: ['a', { id: 'b', weight: 2 }], virtualNodes: 16 });
    expect(ring.size).toBe(2);
    expect(ring.points).toBe(16 + 32);
    expect(ring.has('a')).toBe(true);
    expect(ring.has('c')).toBe(false);
    ring.add('c');
    expect(ring.nodes()).toEqual(['a', 'b', 'c']);
    expect(ring.weightOf('b')).toBe(2);
    expect(ring.remove('a')).toBe(true);
    expect(ring.remove('a')).toBe(false);
    expect(ring.nodes()).toEqual(['b', 'c']);
    expect(ring.points).toBe(48);
  });

  it('defaults to murmur3 with 4096 virtual nodes per unit of weight', () => {
    const ring = new HashRing({ nodes: ['a'] });
    expect(DEFAULT_VIRTUAL_NODES).toBe(4096);
    expect(ring.toJSON()).toMatchObject({ hash: 'murmur3', virtualNodes: 4096, size: 1, points: 4096 });
  });

  it('pins the mapping (golden vectors: a change here moves keys in every deployment)', () => {
    const ring = new HashRing({ nodes: five });
    const golden: [string, number, string, string[]][] = [
      ['user:1', 3416794175, 'cache-b', ['cache-b', 'cache-d', 'cache-e']],
      ['user:2', 3894333430, 'cache-c', ['cache-c', 'cache-a', 'cache-e']],
      ['user:3', 2212319606, 'cache-d', ['cache-d', 'cache-b', 'cache-c']],
      ['session:abcdef', 2221959820, 'cache-b', ['cache-b', 'cache-d', 'cache-e']],
      ['ключ', 2589532226, 'cache-d', ['cache-d', 'cache-a', 'cache-b']],
      ['🙂', 1042440291, 'cache-c', ['cache-c', 'cache-a', 'cache-e']],
      ['', 0, 'cache-a', ['cache-a', 'cache-c', 'cache-e']],
      ['a-much-longer-key-that-spans-several-murmur-blocks:0123456789', 1462154726, 'cache-b', ['cache-b', 'cache-a', 'cache-d']],
      // Keys whose own position and their slot's centre have different nearest points: these pin the slot rule.
      ['user:1743', 675712101, 'cache-c', ['cache-c', 'cache-d', 'cache-e']],
      ['user:1846', 3553255599, 'cache-a', ['cache-a', 'cache-c', 'cache-e']],
      ['user:3510', 4269188907, 'cache-d', ['cache-d', 'cache-a', 'cache-b']],
    ];
    for (const [key, position, owner, replicas] of golden) {
      expect(ring.position(key)).toBe(position);
      expect(murmur3x86_32(key)).toBe(position);
      expect(ring.lookup(key)).toBe(owner);
      expect(ring.replicas(key, 3)).toEqual(replicas);
    }
    const weighted = new HashRing({ nodes: [{ id: 'small', weight: 0.5 }, { id: 'big', weight: 2 }, 'mid'], virtualNodes: 64 });
    expect(golden.map(([key]) => weighted.lookup(key))).toEqual(['mid', 'big', 'big', 'big', 'mid', 'mid', 'big', 'mid', 'mid', 'mid', 'big']);
  });

  it('maps a string and its UTF-8 bytes to the same node', () => {
    const ring = new HashRing({ nodes: five, virtualNodes: 64 });
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (key) => {
        expect(ring.lookup(encoder.encode(key))).toBe(ring.lookup(key));
      }),
    );
  });

  it('rejects bad input with typed errors', () => {
    expect(isEmptyRingError(catching(() => new HashRing().lookup('k')))).toBe(true);
    expect(isDuplicateNodeError(catching(() => new HashRing({ nodes: ['a', 'a'] })))).toBe(true);
    expect(isDuplicateNodeError(catching(() => new HashRing({ nodes: ['a'] }).add({ id: 'a', weight: 3 })))).toBe(true);
    for (const weight of [0, -1, Number.NaN, Infinity]) {
      expect(isInvalidWeightError(catching(() => new HashRing({ nodes: [{ id: 'a', weight }] })))).toBe(true);
    }
    for (const virtualNodes of [0, 1.5, Number.NaN, Infinity, -Infinity, 2_000_000]) {
      const error = catching(() => new HashRing({ virtualNodes }));
      expect(isInvalidOptionsError(error)).toBe(true);
      expect(error).toBeInstanceOf(RangeError);
      expect((error as Error).message).toContain('virtualNodes');
    }
    expect(isInvalidOptionsError(catching(() => new HashRing({ nodes: [''] })))).toBe(true);
    expect(isInvalidOptionsError(catching(() => new HashRing({ nodes: 'abc' as unknown as string[] })))).toBe(true);
    expect(isInvalidOptionsError(catching(() => new HashRing({ hash: 'sha1' as 'ketama' })))).toBe(true);
    const ring = new HashRing({ nodes: ['a', 'b'], virtualNodes: 8 });
    const insufficient = catching(() => ring.replicas('k', 3));
    expect(isInsufficientNodesError(insufficient)).toBe(true);
    expect(insufficient).toMatchObject({ requested: 3, available: 2 });
    expect(isInvalidOptionsError(catching(() => ring.replicas('k', -1)))).toBe(true);
    expect(() => ring.lookup(5 as unknown as string)).toThrow(TypeError);
    // A failed add leaves the ring as it was.
    expect(ring.nodes()).toEqual(['a', 'b']);
  });

  it('accepts a custom position hash', () => {
    const calls: number[] = [];
    const ring = new HashRing({
      nodes: ['x', 'y'],
      virtualNodes: 4,
      hash: (bytes) => {
        calls.push(bytes.length);
        return (bytes[0]! * 16777619 + bytes.length) >>> 0;
      },
    });
    expect(['x', 'y']).toContain(ring.lookup('some key'));
    expect(calls.length).toBe(9);
    expect(ring.toJSON().hash).toBe('custom');
    const bad = new HashRing({ nodes: ['x'], virtualNodes: 1, hash: (bytes) => (bytes.length === 1 ? -1 : 0) });
    expect(() => bad.lookup('k')).toThrow(TypeError);
  });
});

describe('HashRing determinism', () => {
  it('gives the same mapping whatever order nodes are added in, and whether built at once or incrementally', () => {
    const keys = sampleKeys(300);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        (ids, seed) => {
          const reference = new HashRing({ nodes: ids, virtualNodes: 32 });
          const shuffled = [...ids].sort((a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7) || (a < b ? 1 : -1));
          const incremental = new HashRing({ virtualNodes: 32 });
          for (const id of shuffled) incremental.add(id);
          // Add and remove a stranger: must leave no trace.
          incremental.add('\u0000stranger');
          incremental.remove('\u0000stranger');
          for (const key of keys) expect(incremental.lookup(key)).toBe(reference.lookup(key));
          expect(incremental.toJSON().points).toBe(reference.toJSON().points);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('HashRing slots', () => {
  it('answers from the slot table exactly as the cell search does (replicas(key, 1) does not use the table)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 300 }),
        fc.constantFrom('murmur3' as const, 'ketama' as const),
        (ids, virtualNodes, hash) => {
          const ring = new HashRing({ nodes: ids.map((id, i) => ({ id, weight: 1 + (i % 3) })), virtualNodes, hash });
          for (let i = 0; i < 300; i++) {
            const key = `k${i}`;
            expect(ring.lookup(key)).toBe(ring.replicas(key, 1)[0]);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives a key to the node whose point is nearest the centre of its slot, ties to the point before (reference model)', () => {
    const decoder = new TextDecoder();
    const RING = 2 ** 32;
    const position = fc.oneof(
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 70_000 }),
      fc.integer({ min: 0xffffffff - 70_000, max: 0xffffffff }),
      // Around the edges and centres of a few slots, so cell ends fall on, before and after them.
      fc
        .tuple(fc.constantFrom(0, 1, 2, SLOT_COUNT / 2, SLOT_COUNT - 1), fc.constantFrom(0, SLOT_WIDTH / 2), fc.integer({ min: -3, max: 3 }))
        .map(([slot, offset, delta]) => (slot * SLOT_WIDTH + offset + delta + RING) % RING),
    );
    fc.assert(
      fc.property(fc.uniqueArray(position, { minLength: 1, maxLength: 24 }), fc.integer({ min: 1, max: 5 }), (points, nodeCount) => {
        // Point i belongs to node i % nodeCount; every position is distinct.
        const layout: number[][] = Array.from({ length: Math.min(nodeCount, points.length) }, () => []);
        points.forEach((p, i) => layout[i % layout.length]!.push(p));
        const placed = new Map<string, number>();
        layout.forEach((own, node) => own.forEach((p, i) => placed.set(`n${node}-${i}`, p)));
        // Keys 'p:<n>' sit at position n; vnode labels sit where the layout puts them.
        const hash = (bytes: Uint8Array): number => {
          const text = decoder.decode(bytes);
          return text.startsWith('p:') ? Number(text.slice(2)) : placed.get(text)!;
        };
        const virtualNodes = Math.max(...layout.map((own) => own.length));
        const ring = new HashRing({ nodes: layout.map((own, node) => ({ id: `n${node}`, weight: own.length / virtualNodes })), virtualNodes, hash });
        const reference = (q: number): string => {
          const centre = Math.floor(q / SLOT_WIDTH) * SLOT_WIDTH + SLOT_WIDTH / 2;
          let best = '';
          let bestDistance = Infinity;
          let bestBefore = false;
          for (const [label, p] of placed) {
            const before = (centre - p + RING) % RING; // p at or before the centre, going back
            const after = (p - centre + RING) % RING; // p after the centre, going forward
            const isBefore = before <= after;
            const distance = isBefore ? before : after;
            if (distance < bestDistance || (distance === bestDistance && isBefore && !bestBefore)) {
              best = label.slice(0, label.lastIndexOf('-'));
              bestDistance = distance;
              bestBefore = isBefore;
            }
          }
          return best;
        };
        const probes = new Set<number>([0, 1, 0xffffffff, 0xfffffffe, 2 ** 31, 2 ** 31 - 1]);
        const all = [...placed.values()].sort((a, b) => a - b);
        for (let k = 0; k < all.length; k++) {
          const next = k + 1 < all.length ? all[k + 1]! : all[0]! + RING;
          for (const p of [all[k]!, Math.floor((all[k]! + next) / 2)]) {
            const edge = Math.floor(p / SLOT_WIDTH) * SLOT_WIDTH;
            for (const q of [p - 1, p, p + 1, edge - 1, edge, edge + SLOT_WIDTH - 1, edge + SLOT_WIDTH]) probes.add(((q % RING) + RING) % RING);
          }
        }
        for (const q of probes) {
          const expected = reference(q);
          expect(ring.lookup(`p:${q}`)).toBe(expected);
          expect(ring.replicas(`p:${q}`, 1)[0]).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('HashRing replicas', () => {
  it('returns distinct nodes, owner first, in ring order', () => {
    const ring = new HashRing({ nodes: sampleKeys(8, 'node'), virtualNodes: 32 });
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 8 }), (key, count) => {
        const replicas = ring.replicas(key, count);
        expect(replicas).toHaveLength(count);
        expect(new Set(replicas).size).toBe(count);
        expect(replicas[0]).toBe(count > 0 ? ring.lookup(key) : undefined);
        // A prefix of a longer list: ring order does not depend on count.
        expect(ring.replicas(key, 8).slice(0, count)).toEqual(replicas);
      }),
    );
  });
});

describe('HashRing disruption', () => {
  it('moves keys only to an added node and only from a removed one', () => {
    const keys = sampleKeys(500);
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 10 }), (ids) => {
        const [newcomer, ...rest] = ids as [string, ...string[]];
        const before = new HashRing({ nodes: rest, virtualNodes: 16 });
        const after = new HashRing({ nodes: rest, virtualNodes: 16 }).add(newcomer);
        for (const key of keys) {
          const owner = after.lookup(key);
          expect([newcomer, before.lookup(key)]).toContain(owner);
        }
        after.remove(newcomer);
        for (const key of keys) expect(after.lookup(key)).toBe(before.lookup(key));
      }),
      { numRuns: 25 },
    );
  });
});

describe('HashRing weights and shares', () => {
  it('gives a node a share proportional to its weight', () => {
    const ring = new HashRing({ nodes: [{ id: 'one', weight: 1 }, { id: 'two', weight: 2 }, { id: 'three', weight: 3 }], virtualNodes: 2048 });
    const { nodes } = ring.toJSON();
    expect(nodes.reduce((sum, n) => sum + n.share, 0)).toBeCloseTo(1, 9);
    for (const node of nodes) expect(node.share).toBeCloseTo(node.weight / 6, 1);
    const counts = new Map<string, number>();
    for (const key of sampleKeys(60_000)) counts.set(ring.lookup(key), (counts.get(ring.lookup(key)) ?? 0) + 1);
    expect(counts.get('three')! / counts.get('one')!).toBeGreaterThan(2.7);
    expect(counts.get('three')! / counts.get('one')!).toBeLessThan(3.3);
  });
});

describe('HashRing bounded loads', () => {
  it('never lets a node exceed ceil((1 + ε) · mean), and with ample slack maps like plain lookup', () => {
    const ring = new HashRing({ nodes: sampleKeys(10, 'node'), virtualNodes: 8 }); // few vnodes: a skewed ring
    for (const epsilon of [0.05, 0.25, 1]) {
      const loads = new Map<string, number>();
      let total = 0;
      for (const key of sampleKeys(5000)) {
        const node = ring.lookup(key, { loads, epsilon, totalLoad: total });
        loads.set(node, (loads.get(node) ?? 0) + 1);
        total++;
        const cap = Math.ceil(((1 + epsilon) * total) / 10);
        expect(loads.get(node)).toBeLessThanOrEqual(cap);
      }
      expect(Math.max(...loads.values())).toBeLessThanOrEqual(Math.ceil((1 + epsilon) * 500));
    }
    const plain = sampleKeys(200).map((key) => ring.lookup(key));
    const bounded = sampleKeys(200).map((key) => ring.lookup(key, { loads: () => 0, epsilon: 1 }));
    expect(bounded).toEqual(plain);
    expect(isInvalidOptionsError(catching(() => ring.lookup('k', { loads: new Map(), epsilon: 0 })))).toBe(true);
    expect(isInvalidOptionsError(catching(() => ring.lookup('k', { loads: 3 as unknown as Map<string, number> })))).toBe(true);
  });

  it('without bounds the same skewed ring overloads some node (the bound is doing the work)', () => {
    const ring = new HashRing({ nodes: sampleKeys(10, 'node'), virtualNodes: 8 });
    const counts = new Map<string, number>();
    for (const key of sampleKeys(5000)) counts.set(ring.lookup(key), (counts.get(ring.lookup(key)) ?? 0) + 1);
    expect(Math.max(...counts.values())).toBeGreaterThan(Math.ceil(1.05 * 500));
  });
});

describe('diffRings', () => {
  it('reports exactly the positions whose owner changes', () => {
    const keys = sampleKeys(400);
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (first, second, ketama) => {
          const hash = ketama ? ('ketama' as const) : ('murmur3' as const);
          const before = new HashRing({ nodes: first, virtualNodes: 4, hash });
          const after = new HashRing({ nodes: second, virtualNodes: 4, hash });
          const ranges = diffRings(before, after);
          for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.start).toBeGreaterThan(ranges[i - 1]!.end);
          for (const key of keys) {
            const position = before.position(key);
            const range = ranges.find((r) => r.start <= position && position <= r.end);
            const from = before.lookup(key);
            const to = after.lookup(key);
            expect(range === undefined ? undefined : { from: range.from, to: range.to }).toEqual(from === to ? undefined : { from, to });
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('is empty for identical node sets and covers about 1/(n+1) of the ring when one node is added', () => {
    const ids = sampleKeys(9, 'node');
    const before = new HashRing({ nodes: ids });
    expect(diffRings(before, new HashRing({ nodes: [...ids].reverse() }))).toEqual([]);
    const after = new HashRing({ nodes: [...ids, 'node:new'] });
    const ranges = diffRings(before, after);
    expect(ranges.every((r) => r.to === 'node:new')).toBe(true);
    const covered = ranges.reduce((sum, r) => sum + (r.end - r.start + 1), 0) / 2 ** 32;
    expect(covered).toBeCloseTo(1 / 10, 2);
    expect(() => diffRings(before, new HashRing({ nodes: ids, hash: 'ketama' }))).toThrow(RangeError);
    expect(isEmptyRingError(catching(() => diffRings(before, new HashRing())))).toBe(true);
  });
});
