import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exponentialBackoff } from './backoff.js';

describe('exponentialBackoff', () => {
  it('grows by the factor up to the cap', () => {
    const backoff = exponentialBackoff({ initialMs: 100, maxMs: 1000, factor: 3 });
    expect([1, 2, 3, 4, 5].map(backoff)).toEqual([100, 300, 900, 1000, 1000]);
  });

  it('property: never below initialMs nor above maxMs, and never shrinking', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 1, max: 10, noNaN: true }), (initialMs, extra, factor) => {
        const backoff = exponentialBackoff({ initialMs, maxMs: initialMs + extra, factor });
        let previous = 0;
        for (let attempt = 1; attempt <= 40; attempt++) {
          const ms = backoff(attempt);
          expect(ms).toBeGreaterThanOrEqual(Math.max(initialMs, previous));
          expect(ms).toBeLessThanOrEqual(initialMs + extra);
          previous = ms;
        }
      }),
    );
  });

  it('validates its options', () => {
    expect(() => exponentialBackoff({ initialMs: -1 })).toThrow(/initialMs/);
    expect(() => exponentialBackoff({ initialMs: 10, maxMs: 5 })).toThrow(/maxMs/);
    expect(() => exponentialBackoff({ initialMs: 10, factor: 0.5 })).toThrow(/factor/);
  });
});
