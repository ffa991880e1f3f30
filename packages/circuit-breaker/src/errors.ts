import type { CircuitState } from './state.js';

/** Why a call was rejected without running: the state the breaker was in. */
export type RejectedState = Extract<CircuitState, 'open' | 'half-open' | 'forced-open'>;

/**
 * Thrown (as a rejection) by `execute()` when the breaker does not let a call through:
 * it is open, forced open, or half-open with every probe slot taken.
 */
export class BrokenCircuitError extends Error {
  /** Stable code for programmatic checks. */
  readonly code = 'ERR_CIRCUIT_BROKEN' as const;
  /** The state that rejected the call. */
  readonly state: RejectedState;
  /** The breaker's `name` option. */
  readonly breaker: string;

  constructor(breaker: string, state: RejectedState) {
    super(
      state === 'half-open'
        ? `circuit breaker "${breaker}" is half-open and all probe calls are taken`
        : `circuit breaker "${breaker}" is ${state}`,
    );
    this.name = 'BrokenCircuitError';
    this.state = state;
    this.breaker = breaker;
  }
}

/** Rejection of a call that ran longer than `timeoutMs`; its `signal` was aborted with this error. */
export class CircuitTimeoutError extends Error {
  readonly code = 'ERR_CIRCUIT_TIMEOUT' as const;
  readonly timeoutMs: number;

  constructor(breaker: string, timeoutMs: number) {
    super(`call through circuit breaker "${breaker}" timed out after ${timeoutMs} ms`);
    this.name = 'CircuitTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

export function isBrokenCircuitError(error: unknown): error is BrokenCircuitError {
  return error instanceof BrokenCircuitError;
}

export function isCircuitTimeoutError(error: unknown): error is CircuitTimeoutError {
  return error instanceof CircuitTimeoutError;
}

/** A rejection error without a stack trace (capturing one costs about a microsecond). */
export function stacklessBrokenCircuitError(breaker: string, state: RejectedState): BrokenCircuitError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new BrokenCircuitError(breaker, state);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
