import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { driftMs, hasMinValidity, validUntil } from './validity.js';

describe('validity arithmetic', () => {
  it('a lease never outlives the key: validUntil <= sentAt + ttl - drift < sentAt + ttl', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e9, noNaN: true }),
        fc.integer({ min: 10, max: 2 ** 31 - 1 }),
        fc.double({ min: 0, max: 0.49, noNaN: true }),
        (sentAt, ttlMs, driftFactor) => {
          const until = validUntil(sentAt, ttlMs, driftFactor);
          expect(until).toBeLessThan(sentAt + ttlMs);
          expect(sentAt + ttlMs - until).toBeCloseTo(driftMs(ttlMs, driftFactor), 6);
        },
      ),
    );
  });

  it('a lease handed out with minValidityMs keeps it: remaining = ttl - elapsed - drift >= minValidityMs', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 10, max: 100_000 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 50_000 }),
        (sentAt, ttlMs, elapsedMs, minValidityMs) => {
          const until = validUntil(sentAt, ttlMs, 0.01);
          const now = sentAt + elapsedMs;
          const ok = hasMinValidity(until, now, minValidityMs);
          expect(ok).toBe(ttlMs - elapsedMs - driftMs(ttlMs, 0.01) >= minValidityMs);
          // Elapsed time always counts from the send, so more elapsed time never makes a lease acceptable.
          expect(!ok && hasMinValidity(until, now + 1, minValidityMs)).toBe(false);
        },
      ),
    );
  });
});
