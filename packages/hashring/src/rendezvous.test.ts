import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDuplicateNodeError, isEmptyRingError, isInsufficientNodesError, isInvalidWeightError } from './errors.js';
import { RendezvousHash } from './rendezvous.js';

const keys = Array.from({ length: 2000 }, (_, i) => `key:${i}`);
function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('RendezvousHash', () => {
  it('pins the mapping (golden)', () => {
    const hrw = new RendezvousHash({ nodes: ['cache-a', 'cache-b', 'cache-c', 'cache-d', 'cache-e'] });
    const golden = ['user:1', 'user:2', 'user:3', 'session:abcdef', 'ключ', '🙂', '', 'a-much-longer-key-that-spans-several-murmur-blocks:0123456789'];
    expect(golden.map((key) => hrw.lookup(key))).toEqual(['cache-e', 'cache-b', 'cache-c', 'cache-b', 'cache-a', 'cache-d', 'cache-b', 'cache-a']);
  });

  it('does not depend on insertion order, and moves keys only to an added node', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), { minLength: 2, maxLength: 10 }), (ids) => {
        const forward = new RendezvousHash({ nodes: ids });
        const backward = new RendezvousHash({ nodes: [...ids].reverse() });
        const [newcomer, ...rest] = ids as [string, ...string[]];
        const without = new RendezvousHash({ nodes: rest });
        for (const key of keys.slice(0, 300)) {
          const owner = forward.lookup(key);
          expect(backward.lookup(key)).toBe(owner);
          expect([newcomer, without.lookup(key)]).toContain(owner);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('balances by weight', () => {
    const hrw = new RendezvousHash({ nodes: [{ id: 'one', weight: 1 }, { id: 'two', weight: 2 }, 'also-one'] });
    const counts = new Map<string, number>();
    for (let i = 0; i < 40_000; i++) {
      const owner = hrw.lookup(`key:${i}`);
      counts.set(owner, (counts.get(owner) ?? 0) + 1);
    }
    expect(counts.get('two')! / 40_000).toBeCloseTo(0.5, 1);
    expect(counts.get('one')! / counts.get('also-one')!).toBeGreaterThan(0.93);
    expect(counts.get('one')! / counts.get('also-one')!).toBeLessThan(1.07);
  });

  it('returns distinct replicas, best first, and typed errors', () => {
    const hrw = new RendezvousHash({ nodes: ['a', 'b', 'c', 'd'] });
    for (const key of keys.slice(0, 100)) {
      const replicas = hrw.replicas(key, 3);
      expect(new Set(replicas).size).toBe(3);
      expect(replicas[0]).toBe(hrw.lookup(key));
      const rest = new RendezvousHash({ nodes: ['a', 'b', 'c', 'd'].filter((id) => id !== replicas[0]) });
      expect(rest.lookup(key)).toBe(replicas[1]);
    }
    expect(isInsufficientNodesError(catchError(() => hrw.replicas('k', 5)))).toBe(true);
    expect(isDuplicateNodeError(catchError(() => hrw.add('a')))).toBe(true);
    expect(isInvalidWeightError(catchError(() => hrw.add({ id: 'z', weight: 0 })))).toBe(true);
    expect(hrw.remove('a')).toBe(true);
    expect(hrw.remove('a')).toBe(false);
    expect(hrw.nodes()).toEqual(['b', 'c', 'd']);
    expect(isEmptyRingError(catchError(() => new RendezvousHash().lookup('k')))).toBe(true);
  });
});
