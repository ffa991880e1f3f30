import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Histogram } from './histogram.js';

describe('Histogram', () => {
  it('is empty at first', () => {
    expect(new Histogram().snapshot()).toEqual({ count: 0, min: 0, max: 0, mean: 0, p50: 0, p90: 0, p99: 0 });
  });

  it('reports p50/p99 of 1..1000 within the bucket error', () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.record(i);
    const s = h.snapshot();
    expect(s.count).toBe(1000);
    expect(s.min).toBe(1);
    expect(s.max).toBe(1000);
    expect(s.mean).toBeCloseTo(500.5, 6);
    expect(Math.abs(s.p50 - 500) / 500).toBeLessThan(0.03);
    expect(Math.abs(s.p99 - 990) / 990).toBeLessThan(0.03);
  });

  it('any quantile stays within 3% of the exact order statistic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.01, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const h = new Histogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
          expect(Math.abs(h.quantile(q) - exact) / exact).toBeLessThan(0.03);
        },
      ),
    );
  });

  it('maps negative and NaN values to 0 and can be reset', () => {
    const h = new Histogram();
    h.record(-5);
    h.record(Number.NaN);
    expect(h.snapshot().max).toBe(0);
    h.reset();
    expect(h.count).toBe(0);
  });
});
