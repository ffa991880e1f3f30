import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountWindow, OUTCOME_FAILURE, OUTCOME_SLOW, TimeWindow } from './window.js';

const outcome = fc.integer({ min: 0, max: 3 });

function naive(outcomes: readonly number[]): { total: number; failures: number; slow: number } {
  return {
    total: outcomes.length,
    failures: outcomes.filter((o) => (o & OUTCOME_FAILURE) !== 0).length,
    slow: outcomes.filter((o) => (o & OUTCOME_SLOW) !== 0).length,
  };
}

function aggregates(w: { total: number; failures: number; slow: number }): { total: number; failures: number; slow: number } {
  return { total: w.total, failures: w.failures, slow: w.slow };
}

describe('CountWindow', () => {
  it('evicts the oldest outcome once full', () => {
    const w = new CountWindow(3);
    w.record(OUTCOME_FAILURE, 0);
    w.record(OUTCOME_FAILURE | OUTCOME_SLOW, 0);
    w.record(0, 0);
    expect(aggregates(w)).toEqual({ total: 3, failures: 2, slow: 1 });
    w.record(0, 0); // evicts the first failure
    expect(aggregates(w)).toEqual({ total: 3, failures: 1, slow: 1 });
    w.record(0, 0); // evicts the slow failure
    expect(aggregates(w)).toEqual({ total: 3, failures: 0, slow: 0 });
  });

  it('property: aggregates always equal a recomputation over the last `size` outcomes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(outcome, { maxLength: 200 }), (size, outcomes) => {
        const w = new CountWindow(size);
        outcomes.forEach((o, i) => {
          w.record(o, 0);
          expect(aggregates(w)).toEqual(naive(outcomes.slice(Math.max(0, i + 1 - size), i + 1)));
        });
      }),
    );
  });

  it('property: recordSuccess() (which skips the ring write when it holds only successes) is record(0), resets included', () => {
    // Operations: an outcome 0..3 through record(), 4 = recordSuccess(), 5 = reset(). reset()
    // leaves old bytes in the ring, so a shortcut that trusted the ring's content would show here.
    const op = fc.integer({ min: 0, max: 5 });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 300 }), (size, ops) => {
        const w = new CountWindow(size);
        let model: number[] = [];
        for (const o of ops) {
          if (o === 5) {
            w.reset();
            model = [];
            continue;
          }
          const saidFailures = o === 4 ? w.recordSuccess() : (w.record(o, 0), undefined);
          model = [...model, o === 4 ? 0 : o].slice(-size);
          expect(saidFailures).toBe(o === 4 ? naive(model).failures !== 0 : undefined);
          expect(aggregates(w)).toEqual(naive(model));
          expect(w.toJSON(0)).toEqual({ type: 'count', size, outcomes: model });
        }
      }),
    );
  });

  it('property: toJSON then restore gives the same window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(outcome, { maxLength: 60 }), fc.array(outcome, { maxLength: 30 }), (size, before, after) => {
        const original = new CountWindow(size);
        for (const o of before) original.record(o, 0);
        const copy = new CountWindow(size);
        copy.restore(JSON.parse(JSON.stringify(original.toJSON(0))) as ReturnType<CountWindow['toJSON']>, 0);
        expect(aggregates(copy)).toEqual(aggregates(original));
        for (const o of after) {
          original.record(o, 0);
          copy.record(o, 0);
        }
        expect(copy.toJSON(0)).toEqual(original.toJSON(0));
      }),
    );
  });

  it('restoring into a smaller window keeps the newest outcomes', () => {
    const big = new CountWindow(5);
    for (const o of [1, 1, 1, 0, 0]) big.record(o, 0);
    const small = new CountWindow(2);
    small.restore(big.toJSON(0), 0);
    expect(aggregates(small)).toEqual({ total: 2, failures: 0, slow: 0 });
  });
});

describe('TimeWindow', () => {
  it('rotates buckets lazily from the time it is given', () => {
    const w = new TimeWindow(1000, 4); // 250 ms buckets
    w.record(OUTCOME_FAILURE, 0); // bucket 0
    w.record(0, 260); // bucket 1
    w.record(OUTCOME_SLOW, 510); // bucket 2
    w.record(0, 999); // bucket 3
    expect(aggregates(w)).toEqual({ total: 4, failures: 1, slow: 1 });
    w.advance(1000); // bucket 4: bucket 0 leaves
    expect(aggregates(w)).toEqual({ total: 3, failures: 0, slow: 1 });
    w.advance(1500); // bucket 6: buckets 1 and 2 leave
    expect(aggregates(w)).toEqual({ total: 1, failures: 0, slow: 0 });
    w.advance(1_000_000); // a long gap empties everything in O(buckets)
    expect(aggregates(w)).toEqual({ total: 0, failures: 0, slow: 0 });
  });

  it('a clock going backwards records into the current bucket', () => {
    const w = new TimeWindow(100, 10);
    w.record(0, 500);
    w.record(OUTCOME_FAILURE, 400);
    expect(aggregates(w)).toEqual({ total: 2, failures: 1, slow: 0 });
    w.advance(599);
    expect(aggregates(w)).toEqual({ total: 2, failures: 1, slow: 0 });
    w.advance(600);
    expect(aggregates(w)).toEqual({ total: 0, failures: 0, slow: 0 });
  });

  const timedOutcomes = fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), outcome), { maxLength: 150 });

  it('property: aggregates equal a recomputation over the calls of the last `buckets` buckets', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 500 }), timedOutcomes, (buckets, durationMs, steps) => {
        const w = new TimeWindow(durationMs, buckets);
        const bucketMs = durationMs / buckets;
        const log: { epoch: number; outcome: number }[] = [];
        let now = 0;
        for (const [gap, o] of steps) {
          now += gap;
          w.record(o, now);
          const epoch = Math.floor(now / bucketMs);
          log.push({ epoch, outcome: o });
          const live = log.filter((entry) => entry.epoch > epoch - buckets).map((entry) => entry.outcome);
          expect(aggregates(w)).toEqual(naive(live));
        }
      }),
    );
  });

  it('property: toJSON then restore (at another clock origin) keeps the aggregates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), timedOutcomes, fc.integer({ min: 0, max: 1e9 }), (buckets, steps, origin) => {
        const w = new TimeWindow(1000, buckets);
        let now = 0;
        for (const [gap, o] of steps) w.record(o, (now += gap));
        const snapshot = w.toJSON(now);
        const copy = new TimeWindow(1000, buckets);
        // Restore at the same offset inside a bucket so bucket ages line up.
        const restoredNow = origin * 1000 + (now % (1000 / buckets));
        copy.restore(JSON.parse(JSON.stringify(snapshot)) as typeof snapshot, restoredNow);
        expect(aggregates(copy)).toEqual(aggregates(w));
        w.advance(now + 1000 / buckets);
        copy.advance(restoredNow + 1000 / buckets);
        expect(aggregates(copy)).toEqual(aggregates(w));
      }),
    );
  });
});
