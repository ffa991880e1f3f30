import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isInvalidOptionsError } from './errors.js';
import { DEFAULT_RETRY, planRetry, resolveRetry, type RetryPolicy } from './retry.js';

const policies = fc.record({
  attempts: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constant(Infinity)),
  untilMs: fc.oneof(fc.integer({ min: 0, max: 10_000 }), fc.constant(Infinity)),
  delayMs: fc.integer({ min: 0, max: 1_000 }),
  jitterMs: fc.integer({ min: 0, max: 1_000 }),
});

/** Simulates an acquire loop whose every attempt fails and takes `attemptMs`. */
function simulate(policy: RetryPolicy, attemptMs: number, randoms: number[]): { attempts: number; starts: number[]; delays: number[] } {
  let now = 0;
  const starts: number[] = [];
  const delays: number[] = [];
  for (let attempts = 1; attempts <= 200; attempts++) {
    starts.push(now);
    now += attemptMs;
    const decision = planRetry(policy, { attemptsMade: attempts, startedAt: 0, now, random: randoms[attempts % randoms.length]! });
    if (!decision.retry) return { attempts, starts, delays };
    delays.push(decision.delayMs);
    now += decision.delayMs;
  }
  return { attempts: 200, starts, delays };
}

describe('planRetry', () => {
  it('never exceeds the attempt budget, never starts an attempt after untilMs, and keeps delays within [delayMs, delayMs + jitterMs]', () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 0, max: 50 }), fc.array(fc.double({ min: 0, max: 0.999_999, noNaN: true }), { minLength: 1, maxLength: 8 }), (policy, attemptMs, randoms) => {
        const { attempts, starts, delays } = simulate(policy, attemptMs, randoms);
        expect(attempts).toBeLessThanOrEqual(policy.attempts);
        // The first attempt always happens; later ones start no later than untilMs.
        for (const start of starts.slice(1)) expect(start).toBeLessThanOrEqual(policy.untilMs);
        for (const delay of delays) {
          expect(delay).toBeGreaterThanOrEqual(policy.delayMs);
          expect(delay).toBeLessThanOrEqual(policy.delayMs + policy.jitterMs);
        }
      }),
    );
  });

  it('uses the whole attempt budget when time is not the limit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), (attempts) => {
        expect(simulate({ attempts, untilMs: Infinity, delayMs: 1, jitterMs: 1 }, 1, [0.5]).attempts).toBe(attempts);
      }),
    );
  });
});

describe('resolveRetry', () => {
  it('fills in defaults and makes attempts unbounded when only untilMs is given', () => {
    expect(resolveRetry(undefined)).toEqual(DEFAULT_RETRY);
    expect(resolveRetry({ untilMs: 500 })).toMatchObject({ attempts: Infinity, untilMs: 500 });
    expect(resolveRetry({ attempts: 3 })).toMatchObject({ attempts: 3, untilMs: Infinity, delayMs: 200, jitterMs: 100 });
  });

  it.each([
    [{ attempts: 0 }, 'retry.attempts'],
    [{ attempts: 1.5 }, 'retry.attempts'],
    [{ untilMs: -1 }, 'retry.untilMs'],
    [{ delayMs: Number.NaN }, 'retry.delayMs'],
    [{ jitterMs: -5 }, 'retry.jitterMs'],
  ])('rejects %j naming %s', (options, option) => {
    let caught: unknown;
    try {
      resolveRetry(options);
    } catch (error) {
      caught = error;
    }
    expect(isInvalidOptionsError(caught)).toBe(true);
    expect((caught as { option: string }).option).toBe(option);
    expect((caught as Error).message).toContain(option);
  });
});
