// Operation histories as Jepsen records them: each client operation has an
// invocation and at most one completion. `ok` means it took effect with the
// given output, `fail` means it definitely did not take effect, `info` means
// we do not know (a timeout, a lost connection): it may take effect at any
// time after its invocation, so its return time is +∞.

export type OperationStatus = 'ok' | 'fail' | 'info';

export interface Operation<Input = unknown, Output = unknown> {
  /** Dense id (0..n-1) in invocation order. */
  readonly id: number;
  /** The client process that issued it (Jepsen's :process). */
  readonly process: number | string;
  readonly input: Input;
  /** Present when status is 'ok'. */
  readonly output?: Output;
  readonly status: OperationStatus;
  /** Invocation time. Any unit, but one clock for the whole history (see README). */
  readonly invokedAt: number;
  /** Completion time; +∞ for 'info'. */
  readonly returnedAt: number;
  /** Optional free text (error message, timeout reason). */
  readonly note?: string;
}

/** One line of a Jepsen-style event log, e.g. collected from several processes. */
export interface HistoryEvent<Input = unknown, Output = unknown> {
  readonly type: 'invoke' | 'ok' | 'fail' | 'info';
  readonly process: number | string;
  readonly time: number;
  /** The input on 'invoke'; the output on 'ok' (ignored otherwise). */
  readonly value?: Input | Output;
  readonly note?: string;
}

/** Handle for an operation in flight; complete it exactly once. */
export interface PendingOperation<Output> {
  readonly id: number;
  ok(output: Output): void;
  fail(note?: string): void;
  info(note?: string): void;
}

interface MutableOp<Input, Output> {
  id: number;
  process: number | string;
  input: Input;
  output?: Output;
  status: OperationStatus | 'pending';
  invokedAt: number;
  returnedAt: number;
  note?: string;
}

/**
 * Records client operations. `clock` must be one monotonic source shared by every
 * client whose operations go into this history (virtual time in a simulation).
 */
export class HistoryRecorder<Input = unknown, Output = unknown> {
  readonly #clock: { now(): number };
  readonly #ops: MutableOp<Input, Output>[] = [];
  readonly #open = new Map<number | string, number>();

  constructor(options: { clock: { now(): number } }) {
    if (typeof options.clock?.now !== 'function') throw new TypeError('HistoryRecorder: options.clock must have a now() method');
    this.#clock = options.clock;
  }

  /** Start an operation. A process has at most one operation in flight (as in Jepsen). */
  invoke(process: number | string, input: Input): PendingOperation<Output> {
    if (this.#open.has(process)) {
      throw new RangeError(`HistoryRecorder: process ${String(process)} already has an operation in flight; use a new process id after an 'info'`);
    }
    const op: MutableOp<Input, Output> = {
      id: this.#ops.length,
      process,
      input,
      status: 'pending',
      invokedAt: this.#clock.now(),
      returnedAt: Number.POSITIVE_INFINITY,
    };
    this.#ops.push(op);
    this.#open.set(process, op.id);
    const complete = (status: OperationStatus, output: Output | undefined, note: string | undefined): void => {
      if (op.status !== 'pending') throw new RangeError(`HistoryRecorder: operation ${op.id} completed twice`);
      op.status = status;
      if (status !== 'info') op.returnedAt = this.#clock.now();
      if (status === 'ok') op.output = output as Output;
      if (note !== undefined) op.note = note;
      this.#open.delete(process);
    };
    return {
      id: op.id,
      ok: (output) => complete('ok', output, undefined),
      fail: (note) => complete('fail', undefined, note),
      info: (note) => complete('info', undefined, note),
    };
  }

  /** Operations still in flight. */
  get pending(): number {
    return this.#open.size;
  }

  /** The history so far; operations still in flight are reported as 'info'. */
  history(): Operation<Input, Output>[] {
    return this.#ops.map((op) => freeze(op));
  }
}

function freeze<Input, Output>(op: MutableOp<Input, Output>): Operation<Input, Output> {
  const status: OperationStatus = op.status === 'pending' ? 'info' : op.status;
  return {
    id: op.id,
    process: op.process,
    input: op.input,
    ...(status === 'ok' ? { output: op.output as Output } : {}),
    status,
    invokedAt: op.invokedAt,
    returnedAt: status === 'info' ? Number.POSITIVE_INFINITY : op.returnedAt,
    ...(op.note !== undefined ? { note: op.note } : op.status === 'pending' ? { note: 'still pending at end of history' } : {}),
  };
}

/**
 * Build operations from a Jepsen-style event log (e.g. merged from several processes'
 * logs). Events are paired per process: each 'invoke' with the next completion of the same
 * process; an invocation without completion becomes 'info'. Events are ordered by time
 * (ties keep their order in the input).
 */
export function historyFromEvents<Input, Output>(events: readonly HistoryEvent<Input, Output>[]): Operation<Input, Output>[] {
  const indexed = events.map((e, i) => ({ e, i }));
  for (const { e, i } of indexed) {
    if (!['invoke', 'ok', 'fail', 'info'].includes(e.type)) throw new TypeError(`historyFromEvents: event ${i} has unknown type ${String(e.type)}`);
    if (typeof e.time !== 'number' || Number.isNaN(e.time)) throw new TypeError(`historyFromEvents: event ${i} has no numeric time`);
  }
  indexed.sort((a, b) => a.e.time - b.e.time || a.i - b.i);
  const open = new Map<number | string, MutableOp<Input, Output>>();
  const ops: MutableOp<Input, Output>[] = [];
  for (const { e, i } of indexed) {
    if (e.type === 'invoke') {
      if (open.has(e.process)) throw new RangeError(`historyFromEvents: process ${String(e.process)} invokes again (event ${i}) before its previous operation completed`);
      const op: MutableOp<Input, Output> = {
        id: ops.length,
        process: e.process,
        input: e.value as Input,
        status: 'pending',
        invokedAt: e.time,
        returnedAt: Number.POSITIVE_INFINITY,
        ...(e.note !== undefined ? { note: e.note } : {}),
      };
      ops.push(op);
      open.set(e.process, op);
      continue;
    }
    const op = open.get(e.process);
    if (!op) throw new RangeError(`historyFromEvents: event ${i} (${e.type}) for process ${String(e.process)} has no open invocation`);
    open.delete(e.process);
    op.status = e.type;
    if (e.type !== 'info') op.returnedAt = e.time;
    if (e.type === 'ok') op.output = e.value as Output;
    if (e.note !== undefined) op.note = e.note;
  }
  return ops.map((op) => freeze(op));
}
