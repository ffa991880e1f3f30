import { describe, expect, it } from 'vitest';
import { checkLinearizability } from './checker.js';
import type { Operation, OperationStatus } from './history.js';
import { appendLogModel, kvModel, registerModel, setModel, type KvInput, type KvOutput, type RegisterInput, type RegisterOutput } from './models.js';

type RegOp = Operation<RegisterInput, RegisterOutput>;

let nextId = 0;
function op<I, O>(process: number, invokedAt: number, returnedAt: number, input: I, output?: O, status: OperationStatus = 'ok'): Operation<I, O> {
  return {
    id: nextId++,
    process,
    input,
    ...(status === 'ok' ? { output: output as O } : {}),
    status,
    invokedAt,
    returnedAt: status === 'info' ? Number.POSITIVE_INFINITY : returnedAt,
  };
}
const w = (p: number, a: number, b: number, value: number, status: OperationStatus = 'ok'): RegOp => op(p, a, b, { type: 'write', value }, null, status);
const r = (p: number, a: number, b: number, value: number | null, status: OperationStatus = 'ok'): RegOp => op(p, a, b, { type: 'read' }, value, status);
const cas = (p: number, a: number, b: number, expected: number, value: number, swapped: boolean, status: OperationStatus = 'ok'): RegOp =>
  op(p, a, b, { type: 'cas', expected, value }, swapped, status);

function verdict(history: RegOp[]): string {
  return checkLinearizability({ model: registerModel(), history }).verdict;
}

describe('register: classic cases', () => {
  it('accepts a sequential write then read', () => {
    expect(verdict([w(0, 0, 1, 1), r(1, 2, 3, 1)])).toBe('ok');
  });

  it('rejects a stale read after a completed write', () => {
    const history = [w(0, 0, 10, 1), w(0, 20, 30, 2), r(1, 40, 50, 1)];
    const result = checkLinearizability({ model: registerModel(), history });
    expect(result.verdict).toBe('illegal');
    expect(result.explanation?.stuck?.id).toBe(history[2]!.id);
    expect(result.explanation?.longestLinearization.map((s) => s.operation.id)).toEqual([history[0]!.id, history[1]!.id]);
    expect(result.explanation?.message).toMatch(/not linearizable/);
  });

  it('rejects reading the initial value after a completed write', () => {
    expect(verdict([w(0, 0, 10, 1), r(1, 11, 12, null)])).toBe('illegal');
  });

  it('accepts a read concurrent with a write returning either the old or the new value', () => {
    expect(verdict([w(0, 0, 100, 1), r(1, 10, 20, null)])).toBe('ok');
    expect(verdict([w(0, 0, 100, 1), r(1, 10, 20, 1)])).toBe('ok');
  });

  it('rejects a read of a value never written', () => {
    expect(verdict([w(0, 0, 100, 1), r(1, 10, 20, 7)])).toBe('illegal');
  });

  it('concurrent writes: both orders are fine when reads agree on one', () => {
    // w1 and w2 overlap; later reads all see 1 (so w2 took effect first) ...
    expect(verdict([w(0, 0, 10, 1), w(1, 0, 10, 2), r(2, 20, 30, 1), r(3, 31, 40, 1)])).toBe('ok');
    // ... or all see 2 (w1 first).
    expect(verdict([w(0, 0, 10, 1), w(1, 0, 10, 2), r(2, 20, 30, 2), r(3, 31, 40, 2)])).toBe('ok');
  });

  it('concurrent writes: sequential reads cannot observe both orders', () => {
    expect(verdict([w(0, 0, 10, 1), w(1, 0, 10, 2), r(2, 20, 30, 1), r(3, 31, 40, 2)])).toBe('illegal');
  });

  it('concurrent reads during concurrent writes may see different values if they overlap the writes', () => {
    expect(verdict([w(0, 0, 50, 1), w(1, 0, 50, 2), r(2, 10, 20, 1), r(3, 30, 40, 2)])).toBe('ok');
    // ... but not flip back: 1, then 2, then 1 again needs a third write.
    expect(verdict([w(0, 0, 50, 1), w(1, 0, 50, 2), r(2, 10, 15, 1), r(3, 20, 25, 2), r(2, 30, 35, 1)])).toBe('illegal');
  });

  it('CAS: a successful CAS requires the expected value', () => {
    expect(verdict([w(0, 0, 10, 1), cas(1, 20, 30, 1, 2, true), r(0, 40, 50, 2)])).toBe('ok');
    expect(verdict([w(0, 0, 10, 1), cas(1, 20, 30, 3, 2, true)])).toBe('illegal');
  });

  it('CAS: a failed comparison is illegal when the value matched', () => {
    expect(verdict([w(0, 0, 10, 1), cas(1, 20, 30, 1, 2, false)])).toBe('illegal');
    expect(verdict([w(0, 0, 10, 1), cas(1, 20, 30, 5, 2, false), r(0, 40, 50, 1)])).toBe('ok');
  });

  it('CAS: two concurrent CAS from the same value cannot both succeed', () => {
    expect(verdict([w(0, 0, 10, 0), cas(1, 20, 30, 0, 1, true), cas(2, 20, 30, 0, 2, true)])).toBe('illegal');
    expect(verdict([w(0, 0, 10, 0), cas(1, 20, 30, 0, 1, true), cas(2, 20, 30, 0, 2, false), r(0, 40, 50, 1)])).toBe('ok');
  });

  it('CAS: a lost update shows up as an impossible read', () => {
    // Both CAS "succeed" sequentially from 0 — the second must have seen 1.
    expect(verdict([w(0, 0, 1, 0), cas(1, 2, 3, 0, 1, true), cas(2, 4, 5, 0, 2, true)])).toBe('illegal');
  });

  it('info operations may or may not take effect', () => {
    // A timed-out write that was later observed ...
    expect(verdict([w(0, 0, 10, 1, 'info'), r(1, 100, 110, 1)])).toBe('ok');
    // ... or never observed.
    expect(verdict([w(0, 0, 10, 1, 'info'), r(1, 100, 110, null)])).toBe('ok');
    // It can take effect long after its invocation, even after later operations.
    expect(verdict([w(0, 0, 10, 1, 'info'), w(1, 20, 30, 2), r(1, 40, 50, 2), r(1, 60, 70, 1)])).toBe('ok');
    // But not before it was invoked.
    expect(verdict([r(1, 0, 5, 1), w(0, 10, 20, 1, 'info')])).toBe('illegal');
  });

  it('an unobserved info write still explains a failed CAS comparison', () => {
    // cas(1→3) → false needs the register to hold something other than 1: only write(2) can.
    expect(verdict([w(0, 0, 10, 1), w(1, 5, 6, 2, 'info'), cas(2, 20, 30, 1, 3, false)])).toBe('ok');
    expect(verdict([w(0, 0, 10, 1), cas(2, 20, 30, 1, 3, false)])).toBe('illegal');
  });

  it('many concurrent timed-out writes nobody observed do not blow up the search', () => {
    const history: RegOp[] = [w(0, 0, 1, 0)];
    for (let i = 0; i < 60; i++) history.push(w(100 + i, 2 + i, 3 + i, 1000 + i, 'info'));
    for (let i = 0; i < 60; i++) history.push(r(i % 5, 200 + 2 * i, 201 + 2 * i, 0));
    history.push(r(9, 400, 401, 7)); // never written
    const result = checkLinearizability({ model: registerModel(), history, timeBudgetMs: 60_000 });
    expect(result.verdict).toBe('illegal');
    expect(result.partitions[0]!.searchSteps).toBeLessThan(100_000);
  });

  it('failed operations did not take effect', () => {
    expect(verdict([w(0, 0, 10, 1, 'fail'), r(1, 20, 30, 1)])).toBe('illegal');
    expect(verdict([w(0, 0, 10, 1, 'fail'), r(1, 20, 30, null)])).toBe('ok');
  });

  it('an info CAS can explain a value only if its comparison could succeed', () => {
    expect(verdict([w(0, 0, 10, 1), cas(1, 20, 30, 1, 2, false, 'info'), r(0, 40, 50, 2)])).toBe('ok');
    expect(verdict([w(0, 0, 10, 1), cas(1, 20, 30, 9, 2, false, 'info'), r(0, 40, 50, 2)])).toBe('illegal');
  });

  it('operations that touch at the same instant count as concurrent', () => {
    expect(verdict([w(0, 0, 10, 1), r(1, 10, 20, null)])).toBe('ok');
  });
});

describe('kv model (partitioned per key)', () => {
  const get = (p: number, a: number, b: number, key: string, value: number | null): Operation<KvInput, KvOutput> =>
    op(p, a, b, { type: 'get', key }, value);
  const put = (p: number, a: number, b: number, key: string, value: number): Operation<KvInput, KvOutput> => op(p, a, b, { type: 'put', key, value }, null);

  it('checks keys independently and names the bad partition', () => {
    const history = [put(0, 0, 10, 'a', 1), put(1, 0, 10, 'b', 2), get(2, 20, 30, 'a', 1), get(3, 20, 30, 'b', null)];
    const result = checkLinearizability({ model: kvModel(), history });
    expect(result.verdict).toBe('illegal');
    expect(result.explanation?.partition).toBe('b');
    expect(result.partitions.find((p) => p.partition === 'a')?.verdict).toBe('ok');
  });

  it('accepts a value from another key only if written there', () => {
    const history = [put(0, 0, 10, 'a', 1), get(1, 20, 30, 'b', 1)];
    expect(checkLinearizability({ model: kvModel(), history }).verdict).toBe('illegal');
    expect(checkLinearizability({ model: kvModel(), history: [put(0, 0, 10, 'a', 1), get(1, 20, 30, 'a', 1)] }).verdict).toBe('ok');
  });

  it('stopAtFirstIllegal: false explains every bad partition', () => {
    const history = [put(0, 0, 10, 'a', 1), get(1, 20, 30, 'a', null), put(0, 40, 50, 'b', 1), get(1, 60, 70, 'b', null)];
    const result = checkLinearizability({ model: kvModel(), history, stopAtFirstIllegal: false });
    expect(result.partitions.filter((p) => p.verdict === 'illegal').map((p) => p.partition)).toEqual(['a', 'b']);
  });
});

describe('set and append-log models', () => {
  it('set: a read must contain every completed add', () => {
    const add = (p: number, a: number, b: number, value: number) => op(p, a, b, { type: 'add' as const, value }, undefined);
    const read = (p: number, a: number, b: number, values: number[]) => op(p, a, b, { type: 'read' as const }, values);
    expect(checkLinearizability({ model: setModel(), history: [add(0, 0, 1, 1), add(0, 2, 3, 2), read(1, 4, 5, [2, 1])] }).verdict).toBe('ok');
    expect(checkLinearizability({ model: setModel(), history: [add(0, 0, 1, 1), add(0, 2, 3, 2), read(1, 4, 5, [2])] }).verdict).toBe('illegal');
  });

  it('append log: reads see appends in a single order', () => {
    const append = (p: number, a: number, b: number, value: number) => op(p, a, b, { type: 'append' as const, value }, undefined);
    const read = (p: number, a: number, b: number, values: number[]) => op(p, a, b, { type: 'read' as const }, values);
    expect(checkLinearizability({ model: appendLogModel(), history: [append(0, 0, 10, 1), append(1, 0, 10, 2), read(2, 20, 30, [2, 1])] }).verdict).toBe('ok');
    expect(
      checkLinearizability({ model: appendLogModel(), history: [append(0, 0, 10, 1), append(1, 0, 10, 2), read(2, 20, 30, [2, 1]), read(2, 31, 40, [1, 2])] })
        .verdict,
    ).toBe('illegal');
  });
});

describe('budget, abort and validation', () => {
  // Many concurrent writes and reads of values that never exist: a hard, illegal search.
  function hardHistory(): RegOp[] {
    const ops: RegOp[] = [];
    for (let i = 0; i < 24; i++) ops.push(w(i, 0, 1000, i));
    for (let i = 0; i < 24; i++) ops.push(r(100 + i, 0, 1000, (i * 7) % 24));
    ops.push(r(999, 1001, 1002, -1));
    return ops;
  }

  it('returns unknown when the time budget runs out', () => {
    let t = 0;
    const clock = { now: () => (t += 1) }; // every reading advances 1 ms
    const result = checkLinearizability({ model: registerModel(), history: hardHistory(), timeBudgetMs: 5, clock });
    expect(result.verdict).toBe('unknown');
    expect(result.reason).toBe('time-budget');
  });

  it('returns unknown when aborted', () => {
    const controller = new AbortController();
    controller.abort();
    const result = checkLinearizability({ model: registerModel(), history: hardHistory(), signal: controller.signal });
    expect(result.verdict).toBe('unknown');
    expect(result.reason).toBe('aborted');
  });

  it('rejects a malformed history with a TypeError/RangeError', () => {
    expect(() => checkLinearizability({ model: registerModel(), history: [{ ...r(0, 10, 5, null) }] })).toThrow(RangeError);
    expect(() => checkLinearizability({ model: registerModel(), history: [{ ...r(0, 1, 5, null), status: 'done' as 'ok' }] })).toThrow(TypeError);
    expect(() => checkLinearizability({ model: registerModel(), history: [], timeBudgetMs: 0 })).toThrow(RangeError);
  });

  it('an empty history is linearizable', () => {
    expect(checkLinearizability({ model: registerModel(), history: [] }).verdict).toBe('ok');
  });
});
