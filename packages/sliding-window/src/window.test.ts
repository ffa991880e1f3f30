import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SlidingLog } from './sliding-log.js';
import { SlidingWindowCounter } from './sliding-window-counter.js';
import { isInvalidArgumentError } from '@bulwark/token-bucket';

function fakeClock(start = 0): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const operation = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.double({ min: 0, max: 1500, noNaN: true }) }),
  fc.record({ kind: fc.constant('take' as const), n: fc.integer({ min: 1, max: 4 }), key: fc.constantFrom('a', 'b') }),
);

/** Runs the operations; returns per key the admissions as [time, n]. */
function drive(
  limiter: SlidingLog | SlidingWindowCounter,
  clock: ReturnType<typeof fakeClock>,
  operations: readonly ({ kind: 'advance'; ms: number } | { kind: 'take'; n: number; key: string })[],
): Map<string, [number, number][]> {
  const admitted = new Map<string, [number, number][]>();
  for (const op of operations) {
    if (op.kind === 'advance') clock.advance(op.ms);
    else if (limiter.tryTake(op.key, op.n).allowed) {
      const list = admitted.get(op.key) ?? [];
      list.push([clock.now(), op.n]);
      admitted.set(op.key, list);
    }
  }
  return admitted;
}

describe('sliding-window arithmetic (property)', () => {
  const config = fc.record({ limit: fc.integer({ min: 4, max: 20 }), windowMs: fc.integer({ min: 10, max: 3000 }) });

  it('the exact log never admits more than limit in any window, hence ≤ limit + rate · elapsed', () => {
    fc.assert(
      fc.property(config, fc.array(operation, { maxLength: 150 }), ({ limit, windowMs }, operations) => {
        const clock = fakeClock(5_000);
        const admitted = drive(new SlidingLog({ limit, windowMs, clock }), clock, operations);
        for (const list of admitted.values()) {
          for (const [end] of list) {
            const inWindow = list.filter(([t]) => t > end - windowMs && t <= end).reduce((s, [, n]) => s + n, 0);
            expect(inWindow).toBeLessThanOrEqual(limit);
          }
          const total = list.reduce((s, [, n]) => s + n, 0);
          expect(total).toBeLessThanOrEqual(limit + (limit / windowMs) * (clock.now() - 5_000) + 1e-9);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the counter admits ≤ limit + rate · elapsed over any span, and ≤ limit per fixed window', () => {
    fc.assert(
      fc.property(config, fc.array(operation, { maxLength: 150 }), ({ limit, windowMs }, operations) => {
        const clock = fakeClock(0);
        const admitted = drive(new SlidingWindowCounter({ limit, windowMs, clock }), clock, operations);
        for (const list of admitted.values()) {
          for (const [from] of list) {
            for (const [to] of list) {
              if (to < from) continue;
              const span = list.filter(([t]) => t >= from && t <= to).reduce((s, [, n]) => s + n, 0);
              expect(span).toBeLessThanOrEqual(limit + (limit / windowMs) * (to - from) + 1e-9);
            }
          }
          const perWindow = new Map<number, number>();
          for (const [t, n] of list) perWindow.set(Math.floor(t / windowMs), (perWindow.get(Math.floor(t / windowMs)) ?? 0) + n);
          for (const count of perWindow.values()) expect(count).toBeLessThanOrEqual(limit);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a rejected tryTake records nothing, and retryAfterMs is when it would succeed', () => {
    fc.assert(
      fc.property(fc.constantFrom('log', 'counter'), fc.array(operation, { maxLength: 60 }), (algorithm, operations) => {
        const clock = fakeClock(0);
        const make = (): SlidingLog | SlidingWindowCounter =>
          algorithm === 'log' ? new SlidingLog({ limit: 6, windowMs: 1000, clock }) : new SlidingWindowCounter({ limit: 6, windowMs: 1000, clock });
        const limiter = make();
        for (const op of operations) {
          if (op.kind === 'advance') {
            clock.advance(op.ms);
            continue;
          }
          const result = limiter.tryTake(op.key, op.n);
          if (result.allowed) continue;
          const again = limiter.tryTake(op.key, op.n); // the same answer: the rejection recorded nothing
          expect(again.allowed).toBe(false);
          expect(again.retryAfterMs).toBeCloseTo(result.retryAfterMs, 6);
          clock.advance(result.retryAfterMs + 1e-6);
          expect(limiter.tryTake(op.key, op.n).allowed).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('SlidingLog and SlidingWindowCounter', () => {
  it('report remaining, retryAfterMs and resetMs', () => {
    const clock = fakeClock();
    const log = new SlidingLog({ limit: 3, windowMs: 1000, clock });
    expect(log.tryTake(2)).toEqual({ allowed: true, remaining: 1, retryAfterMs: 0, resetMs: 1000, limit: 3 });
    clock.advance(400);
    expect(log.tryTake()).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 1000, limit: 3 });
    expect(log.tryTake(2)).toEqual({ allowed: false, remaining: 0, retryAfterMs: 600, resetMs: 1000, limit: 3 });
    expect(log.tryTake(1).retryAfterMs).toBe(600);
    clock.advance(600);
    expect(log.tryTake(2)).toMatchObject({ allowed: true, remaining: 0 });

    const counter = new SlidingWindowCounter({ limit: 4, windowMs: 1000, clock: fakeClock(0) });
    expect(counter.tryTake(4).remaining).toBe(0);
    expect(counter.tryTake()).toEqual({ allowed: false, remaining: 0, retryAfterMs: 1250, resetMs: 2000, limit: 4 });
  });

  it('reports the counter error against the exact log on bursty and even traffic', () => {
    // Deterministic pseudo-random arrivals (no Math.random): bursts at window edges are the counter's worst case.
    let seed = 42;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    const windowMs = 1000;
    const limit = 100;
    const report: Record<string, { maxInWindow: number; admitted: number }> = {};
    for (const pattern of ['even', 'bursty'] as const) {
      for (const algorithm of ['log', 'counter'] as const) {
        seed = 42;
        const clock = fakeClock();
        const limiter = algorithm === 'log' ? new SlidingLog({ limit, windowMs, clock }) : new SlidingWindowCounter({ limit, windowMs, clock });
        const times: number[] = [];
        for (let i = 0; i < 20_000; i++) {
          clock.advance(pattern === 'even' ? 1 : random() < 0.02 ? 200 * random() : 0.05);
          if (limiter.tryTake().allowed) times.push(clock.now());
        }
        let maxInWindow = 0;
        let from = 0;
        for (let to = 0; to < times.length; to++) {
          while (times[from]! <= times[to]! - windowMs) from++;
          maxInWindow = Math.max(maxInWindow, to - from + 1);
        }
        report[`${algorithm} (${pattern})`] = { maxInWindow, admitted: times.length };
      }
    }
    console.table(report);
    for (const pattern of ['even', 'bursty']) {
      expect(report[`log (${pattern})`]!.maxInWindow).toBeLessThanOrEqual(limit);
      // The counter's over-admission in a sliding window stays well under 2× (Cloudflare measured ~0.003 % on real traffic).
      expect(report[`counter (${pattern})`]!.maxInWindow).toBeLessThan(2 * limit);
    }
    expect(report['counter (even)']!.maxInWindow).toBeLessThanOrEqual(limit + 1);
  });

  it('rejects bad input at once with typed errors', () => {
    expect(() => new SlidingLog({ limit: 0, windowMs: 1000 })).toThrow(/limit/);
    expect(() => new SlidingLog({ limit: 1.5, windowMs: 1000 })).toThrow(/limit/);
    expect(() => new SlidingWindowCounter({ limit: 5, windowMs: Number.NaN })).toThrow(/windowMs/);
    expect(() => new SlidingWindowCounter({ limit: 5, windowMs: 10, maxKeys: -1 })).toThrow(/maxKeys/);
    expect(() => new SlidingLog({ limit: 5, windowMs: 10, idleMs: Number.NaN })).toThrow(/idleMs/);
    const log = new SlidingLog({ limit: 5, windowMs: 1000 });
    for (const n of [0, -1, 6, 1.5, Number.NaN]) {
      let caught: unknown;
      try {
        log.tryTake('k', n);
      } catch (error) {
        caught = error;
      }
      expect(isInvalidArgumentError(caught)).toBe(true);
    }
  });

  it('bounds memory with maxKeys and drops idle keys lazily', () => {
    for (const Limiter of [SlidingLog, SlidingWindowCounter]) {
      const clock = fakeClock();
      const limiter = new Limiter({ limit: 3, windowMs: 100, clock, maxKeys: 500, idleMs: 300 });
      for (let i = 0; i < 5000; i++) limiter.tryTake(`k${i}`);
      expect(limiter.stats().keys).toBeLessThanOrEqual(500);
      clock.advance(1000);
      for (let i = 0; i < 200; i++) limiter.tryTake(`fresh${i}`);
      expect(limiter.stats().droppedIdle).toBeGreaterThanOrEqual(200);
      expect(limiter.toJSON()).toMatchObject({ limit: 3, windowMs: 100 });
    }
  });
});
