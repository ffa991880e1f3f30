import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.js';
import { isInvalidArgumentError } from './errors.js';

function fakeClock(start = 0): { now(): number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const operation = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.double({ min: 0, max: 3000, noNaN: true }) }),
  fc.record({ kind: fc.constant('tryTake' as const), n: fc.integer({ min: 1, max: 5 }), key: fc.constantFrom('a', 'b') }),
  fc.record({ kind: fc.constant('reserve' as const), n: fc.integer({ min: 1, max: 5 }), key: fc.constantFrom('a', 'b'), cancelAfter: fc.option(fc.integer({ min: 0, max: 5 })) }),
);

describe('token-bucket arithmetic (property)', () => {
  it('admits at most capacity + rate · elapsed tokens per key over any sequence of calls and clock advances', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 5, max: 20 }),
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(operation, { maxLength: 120 }),
        (capacity, refillRate, intervalMs, operations) => {
          const clock = fakeClock(1_000);
          const bucket = new TokenBucket({ capacity, refillRate, intervalMs, clock });
          const start = clock.now();
          // Per key: [act time, tokens] of everything admitted (reservations count when they come due).
          const admitted = new Map<string, { at: number; n: number; cancelled: boolean }[]>();
          const pendingCancels: { due: number; cancel: () => void; record: { at: number; cancelled: boolean } }[] = [];
          const times = [start];
          let step = 0;
          for (const op of operations) {
            step++;
            for (const p of pendingCancels.filter((c) => c.due === step)) {
              // Cancel only refunds what has not come due, so only then is it not an admission.
              if (clock.now() <= p.record.at) p.record.cancelled = true;
              p.cancel();
            }
            if (op.kind === 'advance') {
              clock.advance(op.ms);
              times.push(clock.now());
            } else if (op.kind === 'tryTake') {
              const result = bucket.tryTake(op.key, op.n);
              if (result.allowed) {
                const list = admitted.get(op.key) ?? [];
                list.push({ at: clock.now(), n: op.n, cancelled: false });
                admitted.set(op.key, list);
              }
            } else {
              const reservation = bucket.reserve(op.key, op.n);
              const record = { at: clock.now() + reservation.delayMs, n: op.n, cancelled: false };
              const list = admitted.get(op.key) ?? [];
              list.push(record);
              admitted.set(op.key, list);
              if (op.cancelAfter !== null) pendingCancels.push({ due: step + op.cancelAfter, cancel: reservation.cancel, record });
            }
          }
          const end = clock.now();
          const rate = refillRate / intervalMs;
          for (const list of admitted.values()) {
            for (const t of [...times, ...list.map((r) => r.at)]) {
              if (t > end) continue;
              const total = list.filter((r) => !r.cancelled && r.at <= t).reduce((sum, r) => sum + r.n, 0);
              expect(total).toBeLessThanOrEqual(capacity + rate * (t - start) + 1e-6);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a rejected tryTake takes nothing', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 10 }), { maxLength: 50 }), fc.double({ min: 0, max: 100, noNaN: true }), (ns, step) => {
        const clock = fakeClock();
        const bucket = new TokenBucket({ capacity: 10, refillRate: 1, clock });
        for (const n of ns) {
          const before = bucket.available();
          const result = bucket.tryTake(n);
          expect(bucket.available()).toBe(result.allowed ? before - n : before);
          expect(result.allowed || result.retryAfterMs > 0).toBe(true);
          clock.advance(step);
        }
      }),
    );
  });
});

describe('TokenBucket', () => {
  it('refills fractional rates without drift', () => {
    const clock = fakeClock();
    // 3 tokens per second, one every 333.33… ms: after 30 000 takes spaced exactly, none was refused.
    const bucket = new TokenBucket({ capacity: 1, refillRate: 3, intervalMs: 1000, clock, initialTokens: 0 });
    expect(bucket.tryTake().allowed).toBe(false); // first sight at t=0 with 0 tokens: starts counting
    let allowed = 0;
    for (let i = 1; i <= 30_000; i++) {
      const at = (i * 1000) / 3;
      clock.advance(at - clock.now());
      if (bucket.tryTake().allowed) allowed++;
      expect(bucket.tryTake().allowed).toBe(false);
    }
    expect(allowed).toBe(30_000);
  });

  it('reports remaining, retryAfterMs and resetMs', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ capacity: 10, refillRate: 5, intervalMs: 1000, clock });
    expect(bucket.tryTake(4)).toEqual({ allowed: true, remaining: 6, retryAfterMs: 0, resetMs: 800, limit: 10 });
    expect(bucket.tryTake(6).remaining).toBe(0);
    const rejected = bucket.tryTake(3);
    expect(rejected).toEqual({ allowed: false, remaining: 0, retryAfterMs: 600, resetMs: 2000, limit: 10 });
    clock.advance(600);
    expect(bucket.tryTake(3).allowed).toBe(true);
  });

  it('rejects bad input at once with typed errors', () => {
    expect(() => new TokenBucket({ capacity: 0, refillRate: 1 })).toThrow(/capacity/);
    expect(() => new TokenBucket({ capacity: 5, refillRate: Number.NaN })).toThrow(/refillRate/);
    expect(() => new TokenBucket({ capacity: 5, refillRate: 1, intervalMs: -1 })).toThrow(/intervalMs/);
    expect(() => new TokenBucket({ capacity: 5, refillRate: 1, initialTokens: 6 })).toThrow(/initialTokens/);
    expect(() => new TokenBucket({ capacity: 5, refillRate: 1, maxKeys: 0 })).toThrow(/maxKeys/);
    expect(() => new TokenBucket({ capacity: 5, refillRate: 1, idleMs: -1 })).toThrow(/idleMs/);
    const bucket = new TokenBucket({ capacity: 5, refillRate: 1 });
    for (const n of [0, -1, 6, Number.NaN, Number.POSITIVE_INFINITY]) {
      let caught: unknown;
      try {
        bucket.tryTake(n);
      } catch (error) {
        caught = error;
      }
      expect(isInvalidArgumentError(caught)).toBe(true);
      expect(() => bucket.reserve('k', n)).toThrow(RangeError);
    }
    expect(bucket.stats().keys).toBe(0);
  });

  it('keeps keys independent and memory bounded by maxKeys, dropping idle keys first', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ capacity: 2, refillRate: 1, intervalMs: 100, clock, maxKeys: 1000, idleMs: 500 });
    for (let i = 0; i < 5000; i++) bucket.tryTake(`k${i}`);
    expect(bucket.stats().keys).toBeLessThanOrEqual(1000);
    expect(bucket.stats().droppedActive).toBeGreaterThan(0);
    clock.advance(1000); // every bucket is full again (after 100 ms) and idle for 500 ms
    const dropped = bucket.stats().droppedIdle;
    for (let i = 0; i < 100; i++) bucket.tryTake(`fresh${i}`);
    expect(bucket.stats().droppedIdle).toBeGreaterThanOrEqual(dropped + 100);
    expect(bucket.tryTake('a').allowed).toBe(true);
    expect(bucket.tryTake('a').allowed).toBe(true);
    expect(bucket.tryTake('a').allowed).toBe(false);
    expect(bucket.tryTake('b').allowed).toBe(true);
  });

  it('keeps a busy key while cycling through many others at maxKeys', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ capacity: 5, refillRate: 1, intervalMs: 10_000, clock, maxKeys: 50 });
    let hotAdmitted = 0;
    for (let i = 0; i < 10_000; i++) {
      if (bucket.tryTake('hot').allowed) hotAdmitted++;
      bucket.tryTake(`cold${i}`);
      clock.advance(20);
    }
    // Dropping 'hot' would hand it a fresh bucket and over-admit: 200 s at 1 per 10 s plus the burst of 5.
    expect(hotAdmitted).toBeLessThanOrEqual(5 + 20);
    expect(hotAdmitted).toBeGreaterThanOrEqual(5 + 19);
    expect(bucket.stats().keys).toBeLessThanOrEqual(50);
    expect(bucket.stats().droppedActive).toBeGreaterThan(9000);
  });

  it('reserve goes into debt, queues FIFO and refunds on cancel', () => {
    const clock = fakeClock();
    const bucket = new TokenBucket({ capacity: 2, refillRate: 1, intervalMs: 1000, clock });
    expect(bucket.reserve(2).delayMs).toBe(0);
    const first = bucket.reserve(1);
    const second = bucket.reserve(1);
    expect(first.delayMs).toBe(1000);
    expect(second.delayMs).toBe(2000);
    expect(bucket.tryTake().retryAfterMs).toBe(3000);
    second.cancel(); // the last one: fully refunded
    expect(bucket.tryTake().retryAfterMs).toBe(2000);
    first.cancel(); // nothing was reserved after it anymore
    expect(bucket.tryTake().retryAfterMs).toBe(1000);
    const again = bucket.reserve(1);
    const later = bucket.reserve(1);
    again.cancel(); // `later` was promised a time that assumed `again`: no refund (Go's rule)
    expect(later.delayMs).toBe(2000);
    expect(bucket.tryTake().retryAfterMs).toBe(3000);
    clock.advance(5000);
    const due = bucket.reserve(2);
    clock.advance(1);
    due.cancel(); // came due already: no refund
    expect(bucket.available()).toBe(0);
  });
});
