// Linearizability checking in the style of Porcupine: the history is split
// into independent partitions (P-compositionality), and each partition is
// searched with the Wing–Gong–Lowe algorithm, memoising (set of linearized
// operations, model state) pairs that are known to lead nowhere (with a
// dominance rule for indeterminate operations, see searchPartition).
//
// Indeterminate ('info') operations may take effect at any point after their
// invocation or never; they get no return entry, so they never force the
// search to backtrack, and the search succeeds once every 'ok' operation is
// linearized. Failed operations ('fail') did not take effect and are dropped.
import type { Operation } from './history.js';
import type { Model } from './models.js';
import { Random } from './prng.js';
import { realClock, type Clock } from './real-clock.js';

export type Verdict = 'ok' | 'illegal' | 'unknown';

export interface CheckOptions<State, Input, Output> {
  readonly model: Model<State, Input, Output>;
  readonly history: readonly Operation<Input, Output>[];
  /** Give up with verdict 'unknown' after this many ms. Default 10,000. */
  readonly timeBudgetMs?: number;
  /** Give up with verdict 'unknown' when aborted. */
  readonly signal?: AbortSignal;
  /** Clock for the time budget. Default performance.now(). */
  readonly clock?: Clock;
  /** Stop at the first illegal partition (default true); false checks and explains every partition. */
  readonly stopAtFirstIllegal?: boolean;
}

/** One step of the longest linearization found. */
export interface LinearizedStep<State, Input, Output> {
  readonly operation: Operation<Input, Output>;
  readonly stateAfter: State;
}

/** Why a partition is not linearizable. */
export interface Explanation<State, Input, Output> {
  readonly partition: string | number | undefined;
  /** The longest prefix of the partition that could be linearized, in order. */
  readonly longestLinearization: readonly LinearizedStep<State, Input, Output>[];
  /** The operation that had to take effect before it returned, but no ordering allowed it. */
  readonly stuck: Operation<Input, Output> | undefined;
  /**
   * The operations that cannot be ordered: `stuck` and the operations concurrent with it
   * that the search could not place after the longest linearization.
   */
  readonly unorderable: readonly Operation<Input, Output>[];
  /** State after the longest linearization. */
  readonly stateAtStuck: State;
  /** A readable paragraph. */
  readonly message: string;
}

export interface PartitionResult<State, Input, Output> {
  readonly partition: string | number | undefined;
  readonly verdict: Verdict;
  readonly operations: number;
  /** Search iterations spent on this partition (a machine-independent cost measure). */
  readonly searchSteps?: number;
  readonly explanation?: Explanation<State, Input, Output>;
}

export interface CheckResult<State, Input, Output> {
  readonly verdict: Verdict;
  /** Why the verdict is 'unknown'. */
  readonly reason?: 'time-budget' | 'aborted';
  readonly partitions: readonly PartitionResult<State, Input, Output>[];
  /** The first illegal partition's explanation. */
  readonly explanation?: Explanation<State, Input, Output>;
  /** Operations considered (after dropping 'fail' and indeterminate read-only ones). */
  readonly operations: number;
  readonly elapsedMs: number;
}

const DEFAULT_BUDGET_MS = 10_000;
const CHECK_EVERY = 4096;

class OutOfTime extends Error {
  constructor(readonly reason: 'time-budget' | 'aborted') {
    super(reason);
  }
}

/** Check a history against a model. Never throws for a bad history verdict; throws TypeError/RangeError for bad options. */
export function checkLinearizability<State, Input, Output>(options: CheckOptions<State, Input, Output>): CheckResult<State, Input, Output> {
  const { model, history } = options;
  if (!model || typeof model.step !== 'function' || typeof model.init !== 'function' || typeof model.key !== 'function') {
    throw new TypeError('checkLinearizability: options.model must have init, step and key');
  }
  const raw: unknown = history;
  if (!Array.isArray(raw)) throw new TypeError('checkLinearizability: options.history must be an array of operations');
  const budget = options.timeBudgetMs ?? DEFAULT_BUDGET_MS;
  if (!(budget > 0)) throw new RangeError(`checkLinearizability: timeBudgetMs must be > 0, got ${budget}`);
  const clock = options.clock ?? realClock;
  const started = clock.now();
  const deadline = started + budget;
  const signal = options.signal;
  const guard = (): void => {
    if (signal?.aborted) throw new OutOfTime('aborted');
    if (clock.now() > deadline) throw new OutOfTime('time-budget');
  };

  for (const op of history) validateOperation(op);
  const relevant = history.filter((op) => op.status === 'ok' || (op.status === 'info' && !(model.readOnly?.(op.input) ?? false)));
  const groups = partition(model, relevant);
  if (model.simplify) for (const [key, ops] of groups) groups.set(key, model.simplify(ops));
  const results: PartitionResult<State, Input, Output>[] = [];
  let verdict: Verdict = 'ok';
  let reason: 'time-budget' | 'aborted' | undefined;
  let explanation: Explanation<State, Input, Output> | undefined;
  const stopAtFirst = options.stopAtFirstIllegal ?? true;
  for (const [key, ops] of groups) {
    try {
      guard();
      const counter = { steps: 0 };
      // Iterative deepening on indeterminate operations: most 'info' operations never took
      // effect, so first look for a linearization using none, one or two of them; only
      // the last, uncapped search can prove the partition illegal.
      const infoOps = ops.reduce((count, op) => count + (op.status === 'ok' ? 0 : 1), 0);
      const caps = [0, 1, 2].filter((cap) => cap < infoOps);
      let outcome: Explanation<State, Input, Output> | null | undefined;
      for (const cap of [...caps, Number.POSITIVE_INFINITY]) {
        // The capped passes are only shortcuts: bound their effort so a history that needs
        // many indeterminate operations goes straight on to the complete search.
        const stepLimit = cap === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : 20 * ops.length + 10_000;
        outcome = searchPartition(model, ops, key, guard, counter, cap, stepLimit);
        if (outcome === undefined) break;
      }
      if (outcome === null) throw new Error('checkLinearizability: the complete search cannot run out of steps');
      if (outcome === undefined) results.push({ partition: key, verdict: 'ok', operations: ops.length, searchSteps: counter.steps });
      else {
        results.push({ partition: key, verdict: 'illegal', operations: ops.length, searchSteps: counter.steps, explanation: outcome });
        verdict = 'illegal';
        explanation ??= outcome;
        if (stopAtFirst) break;
      }
    } catch (error) {
      if (!(error instanceof OutOfTime)) throw error;
      results.push({ partition: key, verdict: 'unknown', operations: ops.length });
      if (verdict !== 'illegal') {
        verdict = 'unknown';
        reason = error.reason;
      }
      break;
    }
  }
  return {
    verdict,
    ...(reason !== undefined && verdict === 'unknown' ? { reason } : {}),
    partitions: results,
    ...(explanation ? { explanation } : {}),
    operations: relevant.length,
    elapsedMs: clock.now() - started,
  };
}

function validateOperation(op: Operation): void {
  if (op.status !== 'ok' && op.status !== 'fail' && op.status !== 'info') {
    throw new TypeError(`checkLinearizability: operation ${String(op.id)} has unknown status ${String(op.status)}`);
  }
  if (typeof op.invokedAt !== 'number' || Number.isNaN(op.invokedAt)) {
    throw new TypeError(`checkLinearizability: operation ${String(op.id)} has no numeric invokedAt`);
  }
  if (op.status === 'ok' && !(op.returnedAt >= op.invokedAt)) {
    throw new RangeError(`checkLinearizability: operation ${String(op.id)} returns (${op.returnedAt}) before it is invoked (${op.invokedAt})`);
  }
}

function partition<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
): Map<string | number | undefined, Operation<Input, Output>[]> {
  const groups = new Map<string | number | undefined, Operation<Input, Output>[]>();
  for (const op of ops) {
    const key = model.partitionKey ? model.partitionKey(op.input) : undefined;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = []));
    group.push(op);
  }
  return groups;
}

// Random 32-bit values per operation index for an incremental (Zobrist) hash of the linearized set.
const zobrist: number[] = [];
const zobristRandom = new Random('testkit-zobrist');
function zobristOf(i: number): number {
  while (zobrist.length <= i) zobrist.push(zobristRandom.nextUint32());
  return zobrist[i]!;
}

function hashStateKey(key: unknown): number {
  if (typeof key === 'number') {
    if (Number.isInteger(key) && Math.abs(key) < 2 ** 31) return Math.imul(key | 0, 0x9e3779b1) >>> 0;
    return hashString(String(key));
  }
  if (typeof key === 'string') return hashString(key);
  if (key === true) return 0x5bd1e995;
  if (key === false) return 0x1b873593;
  if (key === null) return 0x85ebca6b;
  return 0xc2b2ae35;
}

function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

interface CacheEntry {
  readonly ok: Uint32Array;
  readonly info: Uint32Array;
  readonly stateKey: unknown;
}

/**
 * Returns undefined when linearizable, the explanation when not, or null when the step
 * limit ran out first. Throws OutOfTime.
 */
function searchPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  partitionKey: string | number | undefined,
  guard: () => void,
  counter: { steps: number },
  maxInfo: number,
  stepLimit: number,
): Explanation<State, Input, Output> | null | undefined {
  const n = ops.length;
  // Entries: 2i = call of op i, 2i+1 = return of op i (only for 'ok' ops).
  type Entry = { readonly id: number; readonly time: number; readonly isCall: boolean };
  const entries: Entry[] = [];
  let returnsLeft = 0;
  for (let i = 0; i < n; i++) {
    const op = ops[i]!;
    entries.push({ id: 2 * i, time: op.invokedAt, isCall: true });
    if (op.status === 'ok') {
      entries.push({ id: 2 * i + 1, time: op.returnedAt, isCall: false });
      returnsLeft++;
    }
  }
  // Calls sort before returns at equal times: touching operations count as concurrent.
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));

  // Doubly linked list over entry ids with a head sentinel (-1 encoded as index 2n).
  const HEAD = 2 * n;
  const END = -1;
  const next = new Int32Array(2 * n + 1).fill(END);
  const prev = new Int32Array(2 * n + 1).fill(END);
  let last = HEAD;
  for (const e of entries) {
    next[last] = e.id;
    prev[e.id] = last;
    last = e.id;
  }
  next[last] = END;

  const lift = (call: number): void => {
    // Remove the call and, if present, its return.
    const p = prev[call]!;
    const nx = next[call]!;
    next[p] = nx;
    if (nx !== END) prev[nx] = p;
    const op = call >> 1;
    if (ops[op]!.status === 'ok') {
      const ret = call + 1;
      const rp = prev[ret]!;
      const rn = next[ret]!;
      next[rp] = rn;
      if (rn !== END) prev[rn] = rp;
    }
  };
  const unlift = (call: number): void => {
    const op = call >> 1;
    if (ops[op]!.status === 'ok') {
      const ret = call + 1;
      const rp = prev[ret]!;
      const rn = next[ret]!;
      next[rp] = ret;
      if (rn !== END) prev[rn] = ret;
    }
    const p = prev[call]!;
    const nx = next[call]!;
    next[p] = call;
    if (nx !== END) prev[nx] = call;
  };

  // Linearized sets are kept as two bitsets: 'ok' operations and 'info' ones.
  const ordinal = new Int32Array(n);
  let okCount = 0;
  let infoCount = 0;
  for (let i = 0; i < n; i++) ordinal[i] = ops[i]!.status === 'ok' ? okCount++ : infoCount++;
  const okWords = Math.max(1, Math.ceil(okCount / 32));
  const infoWords = Math.max(1, Math.ceil(infoCount / 32));
  const okBits = new Uint32Array(okWords);
  const infoBits = new Uint32Array(infoWords);
  let okHash = 0;
  // Memo of configurations already explored (or being explored). A configuration is
  // (ok set, info set, state). It is dominated by any seen configuration with the same ok
  // set and state and a subset of its info operations: whatever the dominated one can
  // still do, the other can do too (info operations may simply never take effect), so
  // exploring it again cannot succeed. Equality is the plain Wing–Gong–Lowe memo; the
  // subset rule keeps many pending indeterminate operations from exploding the search.
  const cache = new Map<number, CacheEntry[]>();
  const remember = (stateKey: unknown): boolean => {
    // Returns false if the configuration is already covered.
    const bucketKey = (okHash ^ hashStateKey(stateKey)) >>> 0;
    const bucket = cache.get(bucketKey);
    if (bucket) {
      for (const entry of bucket) {
        if (entry.stateKey !== stateKey) continue;
        let covered = true;
        for (let w = 0; w < okWords; w++) {
          if (entry.ok[w] !== okBits[w]) {
            covered = false;
            break;
          }
        }
        if (!covered) continue;
        for (let w = 0; w < infoWords; w++) {
          if ((entry.info[w]! & ~infoBits[w]!) !== 0) {
            covered = false;
            break;
          }
        }
        if (covered) return false;
      }
      bucket.push({ ok: okBits.slice(), info: infoBits.slice(), stateKey });
    } else cache.set(bucketKey, [{ ok: okBits.slice(), info: infoBits.slice(), stateKey }]);
    return true;
  };
  const flip = (op: number): void => {
    const k = ordinal[op]!;
    if (ops[op]!.status === 'ok') {
      okBits[k >> 5]! ^= 1 << (k & 31);
      okHash = (okHash ^ zobristOf(k)) >>> 0;
    } else infoBits[k >> 5]! ^= 1 << (k & 31);
  };

  const stackCall: number[] = [];
  const stackState: State[] = [];
  let state = model.init();
  let entry = next[HEAD]!;
  let iterations = 0;
  // Explanation bookkeeping.
  let bestOps: number[] = [];
  let bestStates: State[] = [];
  let stuckOp = -1;
  let stuckDepth = -1;
  let stuckCandidates: number[] = [];

  // Candidates are tried in three passes over the list: the 'ok' operations; then the
  // 'info' operations that would let the blocked operation (the earliest pending return)
  // take effect; then the other 'info' operations. Indeterminate operations usually did not
  // take effect, or matter only where something observes them, so this order finds
  // linearizations much sooner. The order never changes the verdict, only the time to it.
  const OK_PASS = 0;
  const ENABLING_PASS = 1;
  const OTHER_PASS = 2;
  let pass = OK_PASS;
  let blocker = -1;
  const stackPass: number[] = [];
  const stackBlocker: number[] = [];
  let infoLinearized = 0;
  const isInfo = (call: number): boolean => ops[call >> 1]!.status !== 'ok';
  const enables = (infoState: State): boolean => {
    const blocked = ops[blocker]!;
    return model.step(infoState, blocked.input, blocked.output, true) !== undefined;
  };
  while (returnsLeft > 0) {
    if (++iterations % CHECK_EVERY === 0) {
      counter.steps += CHECK_EVERY;
      guard();
    }
    if (iterations > stepLimit) {
      counter.steps += iterations % CHECK_EVERY;
      return null; // gave up this capped pass
    }
    if (entry !== END && (entry & 1) === 0) {
      if (isInfo(entry) !== (pass !== OK_PASS) || (pass !== OK_PASS && infoLinearized >= maxInfo)) {
        entry = next[entry]!;
        continue;
      }
      const op = entry >> 1;
      const operation = ops[op]!;
      const known = operation.status === 'ok';
      const nextState = model.step(state, operation.input, operation.output, known);
      if (nextState !== undefined && (pass === OK_PASS || enables(nextState) === (pass === ENABLING_PASS))) {
        flip(op);
        if (remember(model.key(nextState))) {
          stackCall.push(entry);
          stackState.push(state);
          stackPass.push(pass);
          stackBlocker.push(blocker);
          state = nextState;
          lift(entry);
          if (known) returnsLeft--;
          else infoLinearized++;
          entry = next[HEAD]!;
          pass = OK_PASS;
          blocker = -1;
          continue;
        }
        flip(op);
      }
      entry = next[entry]!;
      continue;
    }
    // A return entry (never END while a return remains): its operation must already be
    // linearized. Move on to the next pass; after the last one, backtrack.
    if (pass === OK_PASS) {
      pass = ENABLING_PASS;
      blocker = entry >> 1;
      entry = next[HEAD]!;
      continue;
    }
    if (pass === ENABLING_PASS) {
      pass = OTHER_PASS;
      entry = next[HEAD]!;
      continue;
    }
    // The deepest point is always reached just before a backtrack: record it here.
    if (stackCall.length > bestOps.length) {
      bestOps = stackCall.map((c) => c >> 1);
      bestStates = [...stackState.slice(1), state];
    }
    if (stackCall.length > stuckDepth) {
      stuckDepth = stackCall.length;
      stuckOp = entry >> 1;
      stuckCandidates = [];
      for (let e = next[HEAD]!; e !== END && e !== entry; e = next[e]!) if ((e & 1) === 0) stuckCandidates.push(e >> 1);
    }
    if (stackCall.length === 0) {
      counter.steps += iterations % CHECK_EVERY;
      return explain(model, ops, partitionKey, bestOps, bestStates, stuckOp, stuckCandidates);
    }
    const call = stackCall.pop()!;
    state = stackState.pop()!;
    pass = stackPass.pop()!;
    blocker = stackBlocker.pop()!;
    const undone = call >> 1;
    flip(undone);
    unlift(call);
    if (ops[undone]!.status === 'ok') returnsLeft++;
    else infoLinearized--;
    entry = next[call]!;
  }
  counter.steps += iterations % CHECK_EVERY;
  return undefined;
}

function explain<State, Input, Output>(
  model: Model<State, Input, Output>,
  ops: readonly Operation<Input, Output>[],
  partitionKey: string | number | undefined,
  bestOps: readonly number[],
  bestStates: readonly State[],
  stuckOp: number,
  stuckCandidates: readonly number[],
): Explanation<State, Input, Output> {
  const longest = bestOps.map((i, k) => ({ operation: ops[i]!, stateAfter: bestStates[k]! }));
  const stateAtStuck = bestStates.length > 0 ? bestStates[bestStates.length - 1]! : model.init();
  const stuck = stuckOp >= 0 ? ops[stuckOp] : undefined;
  const linearized = new Set(bestOps);
  const unorderableIds = new Set<number>();
  if (stuckOp >= 0) unorderableIds.add(stuckOp);
  for (const c of stuckCandidates) if (!linearized.has(c)) unorderableIds.add(c);
  const unorderable = [...unorderableIds].sort((a, b) => a - b).map((i) => ops[i]!);
  const describe = (op: Operation<Input, Output>): string =>
    `#${op.id} p${String(op.process)}: ${describeOperation(model, op)}`;
  const describeState = (s: State): string => (model.describeState ? model.describeState(s) : JSON.stringify(s));
  const where = partitionKey === undefined ? '' : ` (partition ${JSON.stringify(partitionKey)})`;
  const lines = [
    `not linearizable${where}: after the longest linearizable prefix (${longest.length} operation${longest.length === 1 ? '' : 's'}) the state is ${describeState(stateAtStuck)},`,
    stuck
      ? `and ${describe(stuck)} must take effect before it returns at ${formatTime(stuck.returnedAt)}, and no order of these operations allows it:`
      : 'and no remaining operation can be ordered next:',
    ...unorderable.map((op) => `  ${describe(op)}  [${formatTime(op.invokedAt)}, ${formatTime(op.returnedAt)}]`),
  ];
  return { partition: partitionKey, longestLinearization: longest, stuck, unorderable, stateAtStuck, message: lines.join('\n') };
}

export function describeOperation<State, Input, Output>(model: Model<State, Input, Output>, op: Operation<Input, Output>): string {
  const known = op.status === 'ok';
  const text = model.describeOperation ? model.describeOperation(op.input, op.output, known) : `${JSON.stringify(op.input)} → ${known ? JSON.stringify(op.output) : '?'}`;
  return op.status === 'info' ? `${text} (info)` : text;
}

/** Times in reports: at most 3 decimals, ∞ for indeterminate returns. */
export function formatTime(t: number): string {
  if (t === Number.POSITIVE_INFINITY) return '∞';
  return Number.isInteger(t) ? String(t) : t.toFixed(3);
}
