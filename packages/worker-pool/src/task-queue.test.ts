import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { TaskQueue, type QueueEntry } from './task-queue.js';

interface Entry extends QueueEntry {
  id: number;
}

function entry(id: number, priority = 0): Entry {
  return { id, priority, seq: 0, queued: false };
}

describe('TaskQueue', () => {
  it('is FIFO while priorities are all 0, across growth', () => {
    const q = new TaskQueue<Entry>();
    for (let i = 0; i < 100; i++) q.push(entry(i));
    expect(q.size).toBe(100);
    expect(q.drain().map((e) => e.id)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(q.shift()).toBeUndefined();
  });

  it('orders by priority (higher first) and FIFO among equals once priorities appear', () => {
    const q = new TaskQueue<Entry>();
    q.push(entry(0));
    q.push(entry(1));
    q.push(entry(2, 5));
    q.push(entry(3, -1));
    q.push(entry(4, 5));
    q.push(entry(5));
    expect(q.drain().map((e) => e.id)).toEqual([2, 4, 0, 1, 5, 3]);
  });

  it('skips removed entries and puts unshifted entries first', () => {
    const q = new TaskQueue<Entry>();
    const a = entry(1);
    const b = entry(2);
    q.push(a);
    q.push(b);
    q.push(entry(3));
    expect(q.remove(b)).toBe(true);
    expect(q.remove(b)).toBe(false);
    expect(q.size).toBe(2);
    expect(q.shift()?.id).toBe(1);
    q.unshift(a);
    expect(q.drain().map((e) => e.id)).toEqual([1, 3]);
  });

  it('matches a sorted reference model under random push/shift/remove', () => {
    type Op = { kind: 'push'; priority: number } | { kind: 'shift' } | { kind: 'remove'; index: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), priority: fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 })) }),
      fc.record({ kind: fc.constant('shift' as const) }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const q = new TaskQueue<Entry>();
        let model: Entry[] = [];
        let nextId = 0;
        let order = 0;
        const rank = new Map<Entry, number>();
        let mismatches = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const e = entry(nextId++, o.priority);
            rank.set(e, order++);
            q.push(e);
            model.push(e);
          } else if (o.kind === 'shift') {
            model.sort((x, y) => y.priority - x.priority || rank.get(x)! - rank.get(y)!);
            const expected = model.shift();
            mismatches += q.shift()?.id === expected?.id ? 0 : 1;
          } else if (model.length > 0) {
            const victim = model[o.index % model.length]!;
            model = model.filter((e) => e !== victim);
            mismatches += q.remove(victim) ? 0 : 1;
          }
          mismatches += q.size === model.length ? 0 : 1;
        }
        expect(mismatches).toBe(0);
      }),
    );
  });
  for (const maxBuckets of [1, 3, 4096]) {
    it(`drains in a stable sort by priority desc then push order (maxBuckets ${maxBuckets})`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.oneof(fc.constant(0), fc.integer({ min: -20, max: 20 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })), { maxLength: 300 }),
          (priorities) => {
            const q = new TaskQueue<Entry>({ maxBuckets });
            const entries = priorities.map((priority, id) => entry(id, priority));
            for (const e of entries) q.push(e);
            // Array.prototype.sort is stable: equal priorities keep push order.
            const expected = [...entries].sort((a, b) => (a.priority === b.priority ? 0 : b.priority > a.priority ? 1 : -1)).map((e) => e.id);
            expect(q.drain().map((e) => e.id)).toEqual(expected);
          },
        ),
      );
    });

    it(`matches a reference model under push/shift/remove/unshift (maxBuckets ${maxBuckets})`, () => {
      type Op = { kind: 'push'; priority: number } | { kind: 'shift' } | { kind: 'remove'; index: number } | { kind: 'requeue'; count: number };
      const op: fc.Arbitrary<Op> = fc.oneof(
        fc.record({ kind: fc.constant('push' as const), priority: fc.oneof(fc.constant(0), fc.integer({ min: -6, max: 6 })) }),
        fc.record({ kind: fc.constant('shift' as const) }),
        fc.record({ kind: fc.constant('remove' as const), index: fc.nat() }),
        fc.record({ kind: fc.constant('requeue' as const), count: fc.integer({ min: 1, max: 4 }) }),
      );
      fc.assert(
        fc.property(fc.array(op, { maxLength: 250 }), (ops) => {
          const q = new TaskQueue<Entry>({ maxBuckets });
          let model: Entry[] = [];
          let nextId = 0;
          let mismatches = 0;
          const byRank = (x: Entry, y: Entry): number => (x.priority === y.priority ? x.id - y.id : y.priority > x.priority ? 1 : -1);
          for (const o of ops) {
            if (o.kind === 'push') {
              const e = entry(nextId++, o.priority);
              q.push(e);
              model.push(e);
            } else if (o.kind === 'shift') {
              model.sort(byRank);
              mismatches += q.shift()?.id === model.shift()?.id ? 0 : 1;
            } else if (o.kind === 'remove') {
              if (model.length === 0) continue;
              const victim = model[o.index % model.length]!;
              model = model.filter((e) => e !== victim);
              mismatches += q.remove(victim) ? 0 : 1;
            } else {
              // As the pool does with tasks a dead worker never started: shift some, unshift them in descending seq order.
              const taken: Entry[] = [];
              for (let i = 0; i < o.count; i++) {
                const e = q.shift();
                if (e !== undefined) taken.push(e);
              }
              taken.sort((a, b) => b.seq - a.seq);
              for (const e of taken) q.unshift(e);
            }
            mismatches += q.size === model.length ? 0 : 1;
          }
          expect(mismatches).toBe(0);
          model.sort(byRank);
          expect(q.drain().map((e) => e.id)).toEqual(model.map((e) => e.id));
        }),
      );
    });
  }
});
