// Property tests for the checker:
// - histories cut from a real sequential execution, with random overlaps, random
//   indeterminate operations and random failed ones, are always accepted;
// - corrupting one read makes them illegal when a brute-force oracle says so, and
//   always when the value read was never written;
// - on small arbitrary histories the checker agrees with the brute-force oracle.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizability } from './checker.js';
import type { Operation, OperationStatus } from './history.js';
import { kvModel, registerModel, type KvInput, type KvOutput, type Model, type RegisterInput, type RegisterOutput, type Value } from './models.js';

type RegOp = Operation<RegisterInput, RegisterOutput>;

interface Step {
  readonly input: RegisterInput;
  readonly before: number; // invocation this long before the linearization point
  readonly after: number; // return this long after it
  readonly fate: 'ok' | 'info';
}

const inputArb: fc.Arbitrary<RegisterInput> = fc.oneof(
  fc.constant<RegisterInput>({ type: 'read' }),
  fc.integer({ min: 0, max: 3 }).map<RegisterInput>((value) => ({ type: 'write', value })),
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })).map<RegisterInput>(([expected, value]) => ({ type: 'cas', expected, value })),
);

const stepArb: fc.Arbitrary<Step> = fc.record({
  input: inputArb,
  before: fc.integer({ min: 0, max: 35 }),
  after: fc.integer({ min: 0, max: 35 }),
  fate: fc.constantFrom<Step['fate']>('ok', 'ok', 'ok', 'info'),
});

/** Execute steps sequentially on a real register; linearization point of step i is 10 * i. */
function execute(steps: readonly Step[], extras: readonly { at: number; value: number; status: 'info' | 'fail' }[]): RegOp[] {
  let value: Value = null;
  const ops: RegOp[] = [];
  steps.forEach((step, i) => {
    let output: RegisterOutput;
    const input = step.input;
    if (input.type === 'read') output = value;
    else if (input.type === 'write') {
      value = input.value;
      output = null;
    } else if (value === input.expected) {
      value = input.value;
      output = true;
    } else output = false;
    const point = 10 * i;
    const status: OperationStatus = step.fate;
    ops.push({
      id: ops.length,
      process: ops.length,
      input,
      ...(status === 'ok' ? { output } : {}),
      status,
      invokedAt: point - step.before,
      returnedAt: status === 'ok' ? point + step.after : Number.POSITIVE_INFINITY,
    });
  });
  // Writes that never took effect: timed out (info) or definitely rejected (fail).
  for (const extra of extras) {
    ops.push({
      id: ops.length,
      process: ops.length,
      input: { type: 'write', value: extra.value },
      status: extra.status,
      invokedAt: extra.at,
      returnedAt: extra.status === 'fail' ? extra.at + 5 : Number.POSITIVE_INFINITY,
    });
  }
  return ops;
}

const extraArb = fc.array(
  fc.record({ at: fc.integer({ min: 0, max: 300 }), value: fc.integer({ min: 0, max: 3 }), status: fc.constantFrom<'info' | 'fail'>('info', 'fail') }),
  { maxLength: 3 },
);

/** Brute force: try every order that respects real time; info operations may be skipped. */
function bruteForce<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): boolean {
  const ops = history.filter((op) => op.status !== 'fail');
  const done = new Array<boolean>(ops.length).fill(false);
  const search = (state: S, remainingOk: number): boolean => {
    if (remainingOk === 0) return true;
    // The earliest return among pending ok operations bounds what may go next.
    let horizon = Number.POSITIVE_INFINITY;
    ops.forEach((op, i) => {
      if (!done[i] && op.status === 'ok') horizon = Math.min(horizon, op.returnedAt);
    });
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      if (done[i] || op.invokedAt > horizon) continue;
      const next = model.step(state, op.input, op.output, op.status === 'ok');
      if (next === undefined) continue;
      done[i] = true;
      const ok = search(next, remainingOk - (op.status === 'ok' ? 1 : 0));
      done[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return search(model.init(), ops.filter((op) => op.status === 'ok').length);
}

describe('checker properties (register)', () => {
  it('accepts histories of a real sequential execution with random overlaps', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), extraArb, (steps, extras) => {
        const history = execute(steps, extras);
        expect(checkLinearizability({ model: registerModel(), history }).verdict).toBe('ok');
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a read corrupted to a value never written', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), fc.nat(), (steps, pick) => {
        const history = execute(steps, []);
        const reads = history.filter((op) => op.status === 'ok' && op.input.type === 'read');
        fc.pre(reads.length > 0);
        const victim = reads[pick % reads.length]!;
        const corrupted = history.map((op) => (op.id === victim.id ? { ...op, output: 99 } : op));
        const result = checkLinearizability({ model: registerModel(), history: corrupted });
        expect(result.verdict).toBe('illegal');
        expect(result.explanation?.unorderable.length).toBeGreaterThan(0);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a read corrupted to another written value exactly when the corruption is observable', () => {
    let rejected = 0;
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 7 }), fc.nat(), fc.integer({ min: 0, max: 3 }), (steps, pick, wrong) => {
        const history = execute(steps, []);
        const reads = history.filter((op) => op.status === 'ok' && op.input.type === 'read');
        fc.pre(reads.length > 0);
        const victim = reads[pick % reads.length]!;
        fc.pre(victim.output !== wrong);
        const corrupted = history.map((op) => (op.id === victim.id ? { ...op, output: wrong } : op));
        const expected = bruteForce(registerModel(), corrupted) ? 'ok' : 'illegal';
        if (expected === 'illegal') rejected++;
        expect(checkLinearizability({ model: registerModel(), history: corrupted }).verdict).toBe(expected);
      }),
      { numRuns: 400 },
    );
    expect(rejected).toBeGreaterThan(50); // most corruptions are observable
  });

  it('agrees with brute force on small arbitrary histories', () => {
    const opArb = fc.record({
      input: inputArb,
      start: fc.integer({ min: 0, max: 40 }),
      length: fc.integer({ min: 0, max: 30 }),
      status: fc.constantFrom<OperationStatus>('ok', 'ok', 'ok', 'info', 'fail'),
      output: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 }), fc.boolean()),
    });
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 7 }), (raw) => {
        const history: RegOp[] = raw.map((r, id) => {
          // Outputs of the right shape for the operation.
          const output = r.input.type === 'cas' ? typeof r.output === 'boolean' ? r.output : r.output === null : r.input.type === 'read' ? (typeof r.output === 'boolean' ? null : r.output) : null;
          return {
            id,
            process: id,
            input: r.input,
            ...(r.status === 'ok' ? { output } : {}),
            status: r.status,
            invokedAt: r.start,
            returnedAt: r.status === 'info' ? Number.POSITIVE_INFINITY : r.start + r.length,
          };
        });
        const expected = bruteForce(registerModel(), history) ? 'ok' : 'illegal';
        expect(checkLinearizability({ model: registerModel(), history }).verdict).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('checker properties (kv, partitioned)', () => {
  it('accepts real executions over several keys and rejects a corrupted get', () => {
    const kvStep = fc.record({
      key: fc.constantFrom('a', 'b', 'c', 'd'),
      kind: fc.constantFrom('get', 'put', 'get'),
      value: fc.integer({ min: 0, max: 5 }),
      before: fc.integer({ min: 0, max: 40 }),
      after: fc.integer({ min: 0, max: 40 }),
    });
    fc.assert(
      fc.property(fc.array(kvStep, { minLength: 1, maxLength: 40 }), fc.nat(), (steps, pick) => {
        const store = new Map<string, Value>();
        const history: Operation<KvInput, KvOutput>[] = steps.map((s, i) => {
          const input: KvInput = s.kind === 'get' ? { type: 'get', key: s.key } : { type: 'put', key: s.key, value: s.value };
          let output: KvOutput = null;
          if (input.type === 'get') output = store.get(s.key) ?? null;
          else store.set(s.key, s.value);
          return { id: i, process: i, input, output, status: 'ok', invokedAt: 10 * i - s.before, returnedAt: 10 * i + s.after };
        });
        expect(checkLinearizability({ model: kvModel(), history }).verdict).toBe('ok');
        const gets = history.filter((op) => op.input.type === 'get');
        if (gets.length === 0) return;
        const victim = gets[pick % gets.length]!;
        const corrupted = history.map((op) => (op.id === victim.id ? { ...op, output: 42 } : op));
        const result = checkLinearizability({ model: kvModel(), history: corrupted });
        expect(result.verdict).toBe('illegal');
        expect(result.explanation?.partition).toBe(victim.input.key);
      }),
      { numRuns: 200 },
    );
  });
});
