import { describe, expect, it } from 'vitest';
import { Random } from './prng.js';

describe('Random', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const draw = (seed: number | string): number[] => {
      const r = new Random(seed);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw('abc')).toEqual(draw('abc'));
    expect(draw('abc')).not.toEqual(draw('abd'));
    expect(draw(2 ** 40)).not.toEqual(draw(0));
  });

  it('produces values in range and roughly uniform', () => {
    const r = new Random(123);
    const buckets = new Array<number>(10).fill(0);
    let outOfRange = 0;
    for (let i = 0; i < 100_000; i++) {
      const f = r.float();
      if (!(f >= 0 && f < 1)) outOfRange++;
      else buckets[Math.floor(f * 10)]!++;
    }
    expect(outOfRange).toBe(0);
    for (const b of buckets) expect(Math.abs(b - 10_000)).toBeLessThan(600);
    for (let i = 0; i < 1000; i++) {
      const n = r.int(-3, 3);
      expect(n >= -3 && n <= 3 && Number.isInteger(n)).toBe(true);
    }
  });

  it('fork gives independent, reproducible streams', () => {
    const a = new Random(5).fork('x');
    const b = new Random(5).fork('x');
    const c = new Random(5).fork('y');
    expect(a.nextUint32()).toBe(b.nextUint32());
    expect(new Random(5).fork('x').nextUint32()).not.toBe(c.nextUint32());
  });

  it('shuffle is a permutation; pick and int validate input', () => {
    const r = new Random(9);
    expect([...r.shuffle([1, 2, 3, 4, 5])].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(() => r.pick([])).toThrow(RangeError);
    expect(() => r.int(3, 1)).toThrow(RangeError);
    expect(() => new Random(-1)).toThrow(RangeError);
    expect(() => new Random(1.5)).toThrow(RangeError);
  });
});
