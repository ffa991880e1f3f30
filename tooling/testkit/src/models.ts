import type { Operation } from './history.js';

// Sequential specifications for the linearizability checker. A model is a pure
// state machine: step(state, input, output) returns the next state if a
// sequential object in `state` could answer `input` with `output`, or
// undefined if it could not.

/** Values held by the built-in models: primitives compared with ===. */
export type Value = string | number | boolean | null;

export interface Model<State, Input, Output> {
  readonly name: string;
  init(): State;
  /**
   * Apply `input` to `state`. When `outputKnown` is false (an 'info' operation) accept
   * whatever the operation would have returned and just return the next state.
   * Return undefined when the observed output is impossible from `state`.
   * Must not mutate `state`.
   */
  step(state: State, input: Input, output: Output | undefined, outputKnown: boolean): State | undefined;
  /** Canonical key of a state for memoisation: equal states must give equal keys. */
  key(state: State): string | number | boolean | null | undefined;
  /**
   * P-compositionality: operations with different keys touch independent objects and are
   * checked separately. Omit for a single object.
   */
  partitionKey?(input: Input): string | number;
  /** Operations that never change state; an indeterminate one is dropped before the search. */
  readOnly?(input: Input): boolean;
  /**
   * Optionally remove indeterminate operations that provably cannot change the verdict of
   * one partition (e.g. writes of values nobody observed). Must keep every 'ok' operation.
   */
  simplify?(operations: readonly Operation<Input, Output>[]): Operation<Input, Output>[];
  describeOperation?(input: Input, output: Output | undefined, outputKnown: boolean): string;
  describeState?(state: State): string;
}

// ------------------------------------------------------------------ register

export type RegisterInput =
  | { readonly type: 'read' }
  | { readonly type: 'write'; readonly value: Value }
  | { readonly type: 'cas'; readonly expected: Value; readonly value: Value };

/** read → the value; write → anything (ignored); cas → true if it swapped, false if the comparison failed. */
export type RegisterOutput = Value | undefined;

function norm(v: Value | undefined): Value {
  return v === undefined ? null : v;
}

function show(v: unknown): string {
  return v === undefined ? '?' : JSON.stringify(v);
}

/** A single read/write/compare-and-set register holding `initial` (default null). */
export function registerModel(options: { initial?: Value } = {}): Model<Value, RegisterInput, RegisterOutput> {
  const initial = norm(options.initial);
  return {
    name: 'register',
    init: () => initial,
    step(state, input, output, known) {
      switch (input.type) {
        case 'read':
          return !known || norm(output) === state ? state : undefined;
        case 'write':
          return norm(input.value);
        case 'cas': {
          const matches = state === norm(input.expected);
          if (!known) return matches ? norm(input.value) : state;
          if (output === true) return matches ? norm(input.value) : undefined;
          return matches ? undefined : state;
        }
      }
    },
    key: (state) => state,
    readOnly: (input) => input.type === 'read',
    simplify: (operations) => dropUnobservedInfoWrites(operations, (input) => input),
    describeOperation(input, output, known) {
      const out = known ? show(output) : '?';
      switch (input.type) {
        case 'read':
          return `read → ${out}`;
        case 'write':
          return `write(${show(input.value)})`;
        case 'cas':
          return `cas(${show(input.expected)}→${show(input.value)}) → ${out}`;
      }
    },
    describeState: (state) => JSON.stringify(state),
  };
}

/**
 * Indeterminate writes (and CAS) of a value that no 'ok' operation observes cannot matter,
 * provided no 'ok' CAS failed its comparison: in any linearization that includes such a
 * write, everything between it and the next overwrite is either blind to it or an
 * indeterminate operation that can be dropped as well, so removing it keeps the
 * linearization valid. Without this, each unobserved timed-out write doubles the search.
 */
function dropUnobservedInfoWrites<Input, Output>(
  operations: readonly Operation<Input, Output>[],
  view: (input: Input) => RegisterInput,
): Operation<Input, Output>[] {
  const observed = new Set<Value>();
  for (const op of operations) {
    const input = view(op.input);
    if (input.type === 'cas') {
      if (op.status === 'ok' && op.output === false) return [...operations]; // the rule does not hold
      observed.add(norm(input.expected));
    } else if (input.type === 'read' && op.status === 'ok') observed.add(norm(op.output as Value | undefined));
  }
  return operations.filter((op) => {
    if (op.status !== 'info') return true;
    const input = view(op.input);
    return input.type === 'read' || observed.has(norm(input.value));
  });
}

// ------------------------------------------------------------------ key-value

export type KvInput =
  | { readonly type: 'get'; readonly key: string }
  | { readonly type: 'put'; readonly key: string; readonly value: Value }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'cas'; readonly key: string; readonly expected: Value; readonly value: Value };

/** get → value or null; put/delete → anything; cas → true/false. */
export type KvOutput = Value | undefined;

/**
 * A key-value map of registers (missing key = null). Each operation touches one key, so
 * the checker partitions the history per key and checks each key's register separately.
 */
export function kvModel(): Model<Value, KvInput, KvOutput> {
  const register = registerModel();
  const asRegister = (input: KvInput): RegisterInput => {
    switch (input.type) {
      case 'get':
        return { type: 'read' };
      case 'put':
        return { type: 'write', value: input.value };
      case 'delete':
        return { type: 'write', value: null };
      case 'cas':
        return { type: 'cas', expected: input.expected, value: input.value };
    }
  };
  return {
    name: 'kv',
    init: () => null,
    step(state, input, output, known) {
      // Inline the common cases: this is the checker's hot path.
      if (input.type === 'get') return !known || norm(output) === state ? state : undefined;
      if (input.type === 'put') return norm(input.value);
      if (input.type === 'delete') return null;
      return register.step(state, asRegister(input), output, known);
    },
    key: (state) => state,
    partitionKey: (input) => input.key,
    readOnly: (input) => input.type === 'get',
    simplify: (operations) => dropUnobservedInfoWrites(operations, asRegister),
    describeOperation(input, output, known) {
      const out = known ? show(output) : '?';
      switch (input.type) {
        case 'get':
          return `get(${input.key}) → ${out}`;
        case 'put':
          return `put(${input.key}, ${show(input.value)})`;
        case 'delete':
          return `delete(${input.key})`;
        case 'cas':
          return `cas(${input.key}, ${show(input.expected)}→${show(input.value)}) → ${out}`;
      }
    },
    describeState: (state) => JSON.stringify(state),
  };
}

// ------------------------------------------------------------------ set

export type SetInput = { readonly type: 'add'; readonly value: Value } | { readonly type: 'read' };
/** read → the members in any order; add → anything. */
export type SetOutput = readonly Value[] | undefined;

function sortedUnique(values: readonly Value[]): Value[] {
  const keyed = new Map<string, Value>();
  for (const v of values) keyed.set(JSON.stringify(v), v);
  return [...keyed.keys()].sort().map((k) => keyed.get(k)!);
}

/** A grow-only set: add(v), read() → all members. State is the sorted member list. */
export function setModel(): Model<readonly Value[], SetInput, SetOutput> {
  return {
    name: 'set',
    init: () => [],
    step(state, input, output, known) {
      if (input.type === 'add') return state.some((v) => v === input.value) ? state : sortedUnique([...state, input.value]);
      if (!known) return state;
      if (!Array.isArray(output)) return undefined;
      const seen = sortedUnique(output);
      if (seen.length !== state.length || seen.length !== output.length) return undefined;
      for (let i = 0; i < seen.length; i++) if (JSON.stringify(seen[i]) !== JSON.stringify(state[i])) return undefined;
      return state;
    },
    key: (state) => JSON.stringify(state),
    readOnly: (input) => input.type === 'read',
    describeOperation: (input, output, known) =>
      input.type === 'add' ? `add(${show(input.value)})` : `read → ${known ? JSON.stringify(output) : '?'}`,
    describeState: (state) => `{${state.map((v) => JSON.stringify(v)).join(', ')}}`,
  };
}

// ------------------------------------------------------------------ append log

export type LogInput = { readonly type: 'append'; readonly value: Value } | { readonly type: 'read' };
/** read → the whole log in order; append → anything. */
export type LogOutput = readonly Value[] | undefined;

/** An append-only log (a replicated log's client view): append(v), read() → entries in order. */
export function appendLogModel(): Model<readonly Value[], LogInput, LogOutput> {
  return {
    name: 'append-log',
    init: () => [],
    step(state, input, output, known) {
      if (input.type === 'append') return [...state, input.value];
      if (!known) return state;
      if (!Array.isArray(output) || output.length !== state.length) return undefined;
      for (let i = 0; i < state.length; i++) if (output[i] !== state[i]) return undefined;
      return state;
    },
    key: (state) => JSON.stringify(state),
    readOnly: (input) => input.type === 'read',
    describeOperation: (input, output, known) =>
      input.type === 'append' ? `append(${show(input.value)})` : `read → ${known ? JSON.stringify(output) : '?'}`,
    describeState: (state) => `[${state.map((v) => JSON.stringify(v)).join(', ')}]`,
  };
}
