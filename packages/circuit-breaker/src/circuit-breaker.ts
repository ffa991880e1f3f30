import { monotonicClock } from './clock.js';
import type { Clock } from './clock.js';
import {
  BrokenCircuitError,
  CircuitTimeoutError,
  stacklessBrokenCircuitError,
} from './errors.js';
import type { RejectedState } from './errors.js';
import { checkBoolean, checkFunction, checkInteger, checkNumber, checkObject, describe } from './options.js';
import { CIRCUIT_STATES } from './state.js';
import type { CircuitState, StateChangeReason } from './state.js';
import { CountWindow, OUTCOME_FAILURE, OUTCOME_SLOW, TimeWindow } from './window.js';
import type { SlidingWindow, WindowSnapshot } from './window.js';

/** Which calls the breaker looks at. */
export type WindowOptions =
  | { type: 'count'; /** The last `size` calls. */ size: number }
  | {
      type: 'time';
      /** Calls of the last `durationMs` milliseconds. */
      durationMs: number;
      /** How many buckets the duration is split into (granularity of expiry). Default 10. */
      buckets?: number;
    };

export interface HalfOpenOptions {
  /** Probe calls let through in half-open; their verdict closes or re-opens the breaker. Default 1. */
  permittedCalls?: number;
  /**
   * Longest time half-open waits for its probes once the first was admitted; past it the breaker
   * re-opens. Default: no limit.
   */
  maxWaitMs?: number;
  /** What callers beyond the permitted probes get: an immediate rejection, or a wait for the verdict. Default 'reject'. */
  whenFull?: 'reject' | 'wait';
}

export interface CircuitBreakerOptions {
  /** Used in error messages. Default 'circuit-breaker'. */
  name?: string;
  /** Default `{ type: 'count', size: 100 }`. */
  window?: WindowOptions;
  /** Open when failures / calls in the window ≥ this ratio, in (0, 1]. Default 0.5. */
  failureRateThreshold?: number;
  /** A call taking at least this long is slow. Enables slow-call tracking. */
  slowCallDurationMs?: number;
  /** Open when slow calls / calls ≥ this ratio, in (0, 1]. Default 1 (needs `slowCallDurationMs`). */
  slowCallRateThreshold?: number;
  /** Rates are only judged once the window holds this many calls. Default min(10, window size). */
  minimumCalls?: number;
  /** How long the breaker stays open before going half-open. Default 30 000; Infinity = until a manual transition. */
  openDurationMs?: number;
  /** Instead of `openDurationMs`: open duration for the n-th consecutive opening (1-based). */
  backoff?: (attempt: number) => number;
  halfOpen?: HalfOpenOptions;
  /** Whether a thrown error counts as a failure (otherwise as a success). Default: every error. */
  isFailure?: (error: unknown) => boolean;
  /** Whether a returned value counts as a failure. Default: none. */
  isResultFailure?: (result: unknown) => boolean;
  /** Errors to leave out entirely (neither success nor failure; a half-open probe slot is released). */
  ignore?: (error: unknown) => boolean;
  /** Abort and fail calls that take longer. Default: no timeout (and no timer per call). */
  timeoutMs?: number;
  /** Reject with one preallocated, stackless `BrokenCircuitError` per state instead of a fresh error. Default false. */
  stacklessRejections?: boolean;
  /** Time source in ms. Default `performance.now()`. */
  clock?: Clock;
  /** A `toJSON()` snapshot to start from. */
  initialState?: CircuitBreakerSnapshot;
}

/** Why `fallback` was called. */
export type CallFailure =
  | { reason: 'rejected'; error: BrokenCircuitError }
  | { reason: 'error'; error: unknown }
  | { reason: 'timeout'; error: CircuitTimeoutError }
  | { reason: 'result'; result: unknown };

export interface ExecuteOptions<T> {
  /** Passed to `fn`; if it is aborted the call's outcome is not recorded. */
  signal?: AbortSignal;
  /** Overrides the breaker's `timeoutMs` for this call. */
  timeoutMs?: number;
  /**
   * Called instead of failing when the breaker rejected the call or recorded it as a failure
   * (error, timeout, failing result). Errors that were ignored or not counted still reject.
   */
  fallback?: (failure: CallFailure) => T | PromiseLike<T>;
}

export interface CircuitBreakerEvents {
  stateChange: { from: CircuitState; to: CircuitState; reason: StateChangeReason };
  success: { durationMs: number };
  failure: { durationMs: number; failure: Exclude<CallFailure, { reason: 'rejected' }> };
  rejected: { error: BrokenCircuitError };
  slowCall: { durationMs: number; failed: boolean };
}

export type CircuitBreakerEventName = keyof CircuitBreakerEvents;

export interface CircuitBreakerStats {
  state: CircuitState;
  /** The sliding window (closed and metrics-only states). */
  window: { calls: number; failures: number; slowCalls: number; failureRate: number; slowCallRate: number };
  halfOpen: { permittedCalls: number; admitted: number; completed: number; failures: number; slowCalls: number; waiting: number };
  /** Time left before half-open (0 unless open; Infinity when open until a manual transition). */
  openRemainingMs: number;
  /** Consecutive openings without closing in between (drives `backoff`). */
  openAttempt: number;
  /** Since creation: outcomes of calls that ran, and rejections. */
  totals: { successes: number; failures: number; timeouts: number; slowCalls: number; ignored: number; rejections: number };
}

/** What `toJSON()` returns and `initialState` accepts. Times are relative, so it survives a restart. */
export interface CircuitBreakerSnapshot {
  version: 1;
  state: CircuitState;
  /** Time left in the open state; `null` for "until a manual transition". 0 unless state is 'open'. */
  openRemainingMs: number | null;
  openAttempt: number;
  window: WindowSnapshot;
}

// Internal state numbers (strings only at the edges).
const CLOSED = 0;
const OPEN = 1;
const HALF_OPEN = 2;
const DISABLED = 3;
const METRICS_ONLY = 4;
const FORCED_OPEN = 5;

// Admission decisions.
const RUN = 0;
const PASS_THROUGH = 1;
const REJECT = 2;
const WAIT = 3;

// Call outcomes.
const KIND_SUCCESS = 0;
const KIND_ERROR = 1;
const KIND_TIMEOUT = 2;
const KIND_RESULT = 3;
const KIND_IGNORED = 4;

/** Generation of calls admitted while disabled: never recorded. */
const UNRECORDED = -1;

const DEFAULT_OPEN_DURATION_MS = 30_000;

/** Handed to `fn` when the caller gave no signal and there is no timeout: never aborts, shared. */
const NEVER_ABORTED: AbortSignal = new AbortController().signal;

type Listener<E extends CircuitBreakerEventName> = (event: CircuitBreakerEvents[E]) => void;

interface Settled<T> {
  kind: number;
  /** fn (or the timeout, or the caller's abort) ended the call with an error. */
  threw: boolean;
  value: T | undefined;
  error: unknown;
}

interface SharedRejection {
  error: BrokenCircuitError;
  promise: Promise<never>;
}

const ignoreRejection = (): void => {};

interface Waiter {
  wake: () => void;
}

/** Surface an error from user code (listener, predicate, backoff) the way EventTarget does, without disturbing the breaker. */
function reportError(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

function emit<E>(listeners: readonly ((event: E) => void)[], event: E): void {
  for (const listener of listeners) {
    try {
      listener(event);
    } catch (error) {
      reportError(error);
    }
  }
}

/**
 * A circuit breaker. Create it with `circuitBreaker(options)`; run calls with `execute(fn)`.
 * It never starts a timer except the per-call one of `timeoutMs`: time-based transitions are
 * computed from the clock whenever the breaker is used or read.
 */
export class CircuitBreaker {
  readonly name: string;
  readonly #clock: Clock;
  readonly #window: SlidingWindow;
  readonly #windowNeedsTime: boolean;
  readonly #failureRateThreshold: number;
  /** Infinity when slow calls are not tracked. */
  readonly #slowCallDurationMs: number;
  readonly #slowCallRateThreshold: number;
  readonly #minimumCalls: number;
  readonly #openDurationMs: number;
  readonly #backoff: ((attempt: number) => number) | undefined;
  readonly #permittedCalls: number;
  readonly #maxWaitMs: number;
  readonly #waitWhenFull: boolean;
  readonly #isFailure: ((error: unknown) => boolean) | undefined;
  readonly #isResultFailure: ((result: unknown) => boolean) | undefined;
  readonly #ignore: ((error: unknown) => boolean) | undefined;
  readonly #timeoutMs: number | undefined;
  readonly #stackless: boolean;

  #state = CLOSED;
  /** Bumped by every transition; outcomes of calls admitted in an older generation are not recorded. */
  #generation = 0;
  #openUntil = 0;
  #openAttempt = 0;
  #probesAdmitted = 0;
  #probesCompleted = 0;
  #probeFailures = 0;
  #probeSlow = 0;
  #firstProbeAt = Number.NaN;
  #waiters: Waiter[] | undefined = undefined;
  /** Whether call durations are measured (slow-call tracking or duration listeners). */
  #timing: boolean;
  /** Whether settling a call reads the clock (timing or a time window). */
  #needsNow: boolean;
  /**
   * The generation whose plain successes take the quick path of the untimed reaction (closed,
   * count window, nothing timed, no result predicate, no success listeners), or -1 for none.
   * Kept up to date by #updateHotPath.
   */
  #quickGeneration = -1;

  #successes = 0;
  #failures = 0;
  #timeouts = 0;
  #slowCalls = 0;
  #ignored = 0;
  #rejections = 0;

  #stateChangeListeners: Listener<'stateChange'>[] | undefined = undefined;
  #successListeners: Listener<'success'>[] | undefined = undefined;
  #failureListeners: Listener<'failure'>[] | undefined = undefined;
  #rejectedListeners: Listener<'rejected'>[] | undefined = undefined;
  #slowCallListeners: Listener<'slowCall'>[] | undefined = undefined;

  /** Reactions for untimed calls of generation `#handlersGeneration`, made lazily. */
  #handlersGeneration = -1;
  #onFulfilled: ((value: unknown) => void) | undefined = undefined;
  #onRejected: ((error: unknown) => void) | undefined = undefined;

  /** Stackless mode: one error and pre-rejected promise per rejecting state, made lazily. */
  #sharedRejections: (SharedRejection | undefined)[] | undefined = undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    checkObject('circuitBreaker options', options);
    const name = options.name ?? 'circuit-breaker';
    if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${describe(name)}`);
    this.name = name;

    const clock = options.clock ?? monotonicClock;
    checkObject('clock', clock);
    if (typeof clock.now !== 'function') throw new TypeError(`clock.now must be a function, got ${typeof clock.now}`);
    this.#clock = clock;

    const window = options.window ?? { type: 'count', size: 100 };
    checkObject('window', window);
    let windowCapacity: number;
    if (window.type === 'count') {
      checkInteger('window.size', window.size, 1, 1_000_000);
      this.#window = new CountWindow(window.size);
      this.#windowNeedsTime = false;
      windowCapacity = window.size;
    } else if (window.type === 'time') {
      checkNumber('window.durationMs', window.durationMs, { min: 0, exclusiveMin: true });
      const buckets = window.buckets ?? 10;
      checkInteger('window.buckets', buckets, 1, 10_000);
      this.#window = new TimeWindow(window.durationMs, buckets);
      this.#windowNeedsTime = true;
      windowCapacity = Number.MAX_SAFE_INTEGER;
    } else {
      throw new TypeError(`window.type must be 'count' or 'time', got ${describe((window as { type?: unknown }).type)}`);
    }

    this.#failureRateThreshold = options.failureRateThreshold ?? 0.5;
    checkNumber('failureRateThreshold', this.#failureRateThreshold, { min: 0, exclusiveMin: true, max: 1 });

    if (options.slowCallDurationMs !== undefined) {
      checkNumber('slowCallDurationMs', options.slowCallDurationMs, { min: 0 });
      this.#slowCallDurationMs = options.slowCallDurationMs;
      this.#slowCallRateThreshold = options.slowCallRateThreshold ?? 1;
      checkNumber('slowCallRateThreshold', this.#slowCallRateThreshold, { min: 0, exclusiveMin: true, max: 1 });
    } else {
      if (options.slowCallRateThreshold !== undefined) {
        throw new TypeError('slowCallRateThreshold needs slowCallDurationMs (what counts as slow)');
      }
      this.#slowCallDurationMs = Number.POSITIVE_INFINITY;
      this.#slowCallRateThreshold = Number.POSITIVE_INFINITY;
    }

    this.#minimumCalls = options.minimumCalls ?? Math.min(10, windowCapacity);
    checkInteger('minimumCalls', this.#minimumCalls, 1, windowCapacity);

    if (options.backoff !== undefined && options.openDurationMs !== undefined) {
      throw new TypeError('give either openDurationMs or backoff, not both');
    }
    if (options.backoff !== undefined) checkFunction('backoff', options.backoff);
    this.#backoff = options.backoff;
    this.#openDurationMs = options.openDurationMs ?? DEFAULT_OPEN_DURATION_MS;
    checkNumber('openDurationMs', this.#openDurationMs, { min: 0, allowInfinity: true });

    const halfOpen = options.halfOpen ?? {};
    checkObject('halfOpen', halfOpen);
    this.#permittedCalls = halfOpen.permittedCalls ?? 1;
    checkInteger('halfOpen.permittedCalls', this.#permittedCalls, 1, 1_000_000);
    this.#maxWaitMs = halfOpen.maxWaitMs ?? Number.POSITIVE_INFINITY;
    checkNumber('halfOpen.maxWaitMs', this.#maxWaitMs, { min: 0, exclusiveMin: true, allowInfinity: true });
    const whenFull = halfOpen.whenFull ?? 'reject';
    if (whenFull !== 'reject' && whenFull !== 'wait') {
      throw new TypeError(`halfOpen.whenFull must be 'reject' or 'wait', got ${describe(whenFull)}`);
    }
    this.#waitWhenFull = whenFull === 'wait';

    if (options.isFailure !== undefined) checkFunction('isFailure', options.isFailure);
    if (options.isResultFailure !== undefined) checkFunction('isResultFailure', options.isResultFailure);
    if (options.ignore !== undefined) checkFunction('ignore', options.ignore);
    this.#isFailure = options.isFailure;
    this.#isResultFailure = options.isResultFailure;
    this.#ignore = options.ignore;

    if (options.timeoutMs !== undefined) checkNumber('timeoutMs', options.timeoutMs, { min: 0, exclusiveMin: true, max: 2 ** 31 - 1 });
    this.#timeoutMs = options.timeoutMs;
    this.#stackless = options.stacklessRejections ?? false;
    checkBoolean('stacklessRejections', this.#stackless);

    this.#timing = this.#slowCallDurationMs !== Number.POSITIVE_INFINITY;
    this.#needsNow = this.#timing || this.#windowNeedsTime;

    if (options.initialState !== undefined) this.#restore(options.initialState);
    this.#updateHotPath();
  }

  /**
   * Choose `execute` and the quick success path for the current state, timing and listeners.
   * Called by every transition, listener change and restore.
   */
  #updateHotPath(): void {
    const state = this.#state;
    const plainRun = (state === CLOSED || state === METRICS_ONLY) && !this.#timing && this.#timeoutMs === undefined;
    this.execute = plainRun ? CircuitBreaker.#plainExecute : CircuitBreaker.#otherExecute;
    this.#quickGeneration =
      state === CLOSED && !this.#needsNow && this.#window instanceof CountWindow && this.#isResultFailure === undefined && this.#successListeners === undefined
        ? this.#generation
        : -1;
  }

  /** The current state, with time-based transitions (open → half-open, half-open max wait) applied. */
  get state(): CircuitState {
    const state = this.#state;
    if (state === OPEN || state === HALF_OPEN) this.#refresh(this.#clock.now());
    return CIRCUIT_STATES[this.#state]!;
  }

  /** `execute` while closed or metrics-only, untimed, without a default timeout. */
  static readonly #plainExecute = function execute<T>(
    this: CircuitBreaker,
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    options?: ExecuteOptions<T>,
  ): Promise<T> {
    if (options === undefined && typeof fn === 'function') return this.#runUntimed(fn);
    return this.#executeOther(fn, options);
  };

  /** `execute` in every other case. */
  static readonly #otherExecute = function execute<T>(
    this: CircuitBreaker,
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    options?: ExecuteOptions<T>,
  ): Promise<T> {
    return this.#executeOther(fn, options);
  };

  /**
   * Run `fn(signal)` through the breaker. Resolves with its value; rejects with its error,
   * a `BrokenCircuitError` when the breaker does not let the call through, or a
   * `CircuitTimeoutError`. Never throws synchronously.
   *
   * An own property rather than a prototype method: the breaker points it at one of two
   * functions as its state changes (see #updateHotPath), so the compiled code of the closed
   * state's hot path never carries the open and half-open paths. Call it as
   * `breaker.execute(…)`; a subclass that wants to intercept calls should wrap the breaker
   * (`wrap()`) rather than override `execute`.
   */
  execute: <T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: ExecuteOptions<T>) => Promise<T> = CircuitBreaker.#otherExecute;

  /** execute() for everything but the hot path. */
  #executeOther<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options: ExecuteOptions<T> | undefined): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(new TypeError(`execute: fn must be a function, got ${describe(fn)}`));
    if (options !== undefined || this.#timeoutMs !== undefined) return this.#executeWithOptions(fn, options ?? {});
    // Without options, in any other state or with call timing: admission decides.
    const admission = this.#admit();
    if (admission === RUN) return this.#run(fn);
    if (admission === PASS_THROUGH) return this.#passThrough(fn);
    if (admission === WAIT) return this.#waitThenExecute(fn, undefined);
    return this.#rejectedCall();
  }

  /** Listen to an event; returns a function that removes the listener. */
  on<E extends CircuitBreakerEventName>(event: E, listener: Listener<E>): () => void {
    checkFunction('listener', listener);
    const current = this.#listeners(event);
    this.#setListeners(event, current === undefined ? [listener] : [...current, listener]);
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const now = this.#listeners(event);
      if (now === undefined) return;
      const index = now.indexOf(listener);
      if (index === -1) return;
      const next = now.slice();
      next.splice(index, 1);
      this.#setListeners(event, next.length === 0 ? undefined : next);
    };
  }

  /** Open now (rejecting calls for the open duration, then half-open). No-op if already open. */
  open(): void {
    const now = this.#clock.now();
    this.#refresh(now);
    if (this.#state !== OPEN) this.#transition(OPEN, 'manual', now);
  }

  /** Close now, with an empty window. No-op if already closed. */
  close(): void {
    if (this.#state !== CLOSED) this.#transition(CLOSED, 'manual', this.#clock.now());
  }

  /** Let every call through without recording anything, until another manual transition. */
  disable(): void {
    if (this.#state !== DISABLED) this.#transition(DISABLED, 'manual', this.#clock.now());
  }

  /** Record calls (stats, events) but never change state by itself, until another manual transition. */
  metricsOnly(): void {
    if (this.#state !== METRICS_ONLY) this.#transition(METRICS_ONLY, 'manual', this.#clock.now());
  }

  /** Reject every call until another manual transition. */
  forceOpen(): void {
    if (this.#state !== FORCED_OPEN) this.#transition(FORCED_OPEN, 'manual', this.#clock.now());
  }

  stats(): CircuitBreakerStats {
    const now = this.#clock.now();
    this.#refresh(now);
    const window = this.#window;
    window.advance(now);
    const calls = window.total;
    return {
      state: CIRCUIT_STATES[this.#state]!,
      window: {
        calls,
        failures: window.failures,
        slowCalls: window.slow,
        failureRate: calls === 0 ? 0 : window.failures / calls,
        slowCallRate: calls === 0 ? 0 : window.slow / calls,
      },
      halfOpen: {
        permittedCalls: this.#permittedCalls,
        admitted: this.#state === HALF_OPEN ? this.#probesAdmitted : 0,
        completed: this.#state === HALF_OPEN ? this.#probesCompleted : 0,
        failures: this.#state === HALF_OPEN ? this.#probeFailures : 0,
        slowCalls: this.#state === HALF_OPEN ? this.#probeSlow : 0,
        waiting: this.#waiters?.length ?? 0,
      },
      openRemainingMs: this.#state === OPEN ? this.#openUntil - now : 0,
      openAttempt: this.#openAttempt,
      totals: {
        successes: this.#successes,
        failures: this.#failures,
        timeouts: this.#timeouts,
        slowCalls: this.#slowCalls,
        ignored: this.#ignored,
        rejections: this.#rejections,
      },
    };
  }

  /** A snapshot to persist and pass back as `initialState` (also in another process). */
  toJSON(): CircuitBreakerSnapshot {
    const now = this.#clock.now();
    this.#refresh(now);
    const remaining = this.#state === OPEN ? Math.max(0, this.#openUntil - now) : 0;
    return {
      version: 1,
      state: CIRCUIT_STATES[this.#state]!,
      openRemainingMs: Number.isFinite(remaining) ? remaining : null,
      openAttempt: this.#openAttempt,
      window: this.#window.toJSON(now),
    };
  }

  // --- admission -------------------------------------------------------------------------

  #admit(): number {
    const state = this.#state;
    if (state === CLOSED || state === METRICS_ONLY) return RUN;
    if (state === DISABLED) return PASS_THROUGH;
    if (state === FORCED_OPEN) return REJECT;
    const now = this.#clock.now();
    this.#refresh(now);
    if (this.#state !== HALF_OPEN) return REJECT;
    if (this.#probesAdmitted < this.#permittedCalls) {
      if (Number.isNaN(this.#firstProbeAt)) this.#firstProbeAt = now;
      this.#probesAdmitted++;
      return RUN;
    }
    return this.#waitWhenFull ? WAIT : REJECT;
  }

  /**
   * Apply the transitions that time alone causes, at the instant they were due (not when
   * noticed), so the state is the same whenever it is read.
   */
  #refresh(now: number): void {
    for (;;) {
      if (this.#state === OPEN) {
        if (now < this.#openUntil) return;
        this.#transition(HALF_OPEN, 'open-elapsed', this.#openUntil);
      } else if (this.#state === HALF_OPEN) {
        const deadline = this.#firstProbeAt + this.#maxWaitMs;
        if (!(now >= deadline)) return; // NaN (no probe yet) or Infinity (no limit) stay half-open
        this.#transition(OPEN, 'half-open-max-wait', deadline);
      } else {
        return;
      }
    }
  }

  #rejection(): BrokenCircuitError {
    this.#rejections++;
    const state = this.#rejectedState();
    const error = this.#stackless ? this.#sharedRejection(state).error : new BrokenCircuitError(this.name, state);
    if (this.#rejectedListeners !== undefined) emit(this.#rejectedListeners, { error });
    return error;
  }

  /**
   * A rejected promise for the fast path. `Promise.reject()` of a promise nobody handles yet
   * costs Node ~2 µs in its unhandled-rejection bookkeeping, more than the rest of a call; so
   * stackless mode hands out one pre-rejected, already-handled promise per state instead.
   */
  #rejectedCall<T>(): Promise<T> {
    if (!this.#stackless) return Promise.reject(this.#rejection());
    this.#rejections++;
    const shared = this.#sharedRejection(this.#rejectedState());
    if (this.#rejectedListeners !== undefined) emit(this.#rejectedListeners, { error: shared.error });
    return shared.promise;
  }

  #rejectedState(): RejectedState {
    return this.#state === OPEN ? 'open' : this.#state === HALF_OPEN ? 'half-open' : 'forced-open';
  }

  #sharedRejection(state: RejectedState): SharedRejection {
    const index = state === 'open' ? 0 : state === 'half-open' ? 1 : 2;
    const shared = (this.#sharedRejections ??= [undefined, undefined, undefined]);
    let entry = shared[index];
    if (entry === undefined) {
      const error = stacklessBrokenCircuitError(this.name, state);
      const promise = Promise.reject(error);
      promise.catch(ignoreRejection); // marked handled once, so sharing it costs nothing per call
      entry = shared[index] = { error, promise };
    }
    return entry;
  }

  // --- running calls -------------------------------------------------------------------------

  /**
   * The hot path. The caller gets fn's own promise back and the breaker observes it with a
   * reaction attached first, so recording happens in the same microtask turn as the caller's
   * continuation (no extra tick, no async frame). Without timing the reactions are two closures
   * made once per generation, so the only per-call allocation is the one `then` makes.
   */
  #run<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>): Promise<T> {
    if (!this.#timing) return this.#runUntimed(fn);
    const generation = this.#generation;
    let promise: Promise<T>;
    const startedAt = this.#clock.now();
    try {
      promise = Promise.resolve(fn(NEVER_ABORTED));
    } catch (error) {
      this.#settleError(error, generation, startedAt, NEVER_ABORTED);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- pass on exactly what fn threw
      return Promise.reject(error);
    }
    void promise.then(
      (value) => {
        this.#settleValue(value, generation, startedAt);
      },
      (error: unknown) => {
        this.#settleError(error, generation, startedAt, NEVER_ABORTED);
      },
    );
    return promise;
  }

  /** An admitted call whose duration nobody needs: fn's own promise, watched by the generation's shared reactions. */
  #runUntimed<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>): Promise<T> {
    const generation = this.#generation;
    let promise: Promise<T>;
    try {
      promise = Promise.resolve(fn(NEVER_ABORTED));
    } catch (error) {
      this.#settleError(error, generation, Number.NaN, NEVER_ABORTED);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- pass on exactly what fn threw
      return Promise.reject(error);
    }
    if (this.#handlersGeneration !== generation) this.#bindHandlers(generation);
    void promise.then(this.#onFulfilled, this.#onRejected);
    return promise;
  }

  #bindHandlers(generation: number): void {
    this.#handlersGeneration = generation;
    // Only used while #quickGeneration is this generation, which needs a count window.
    const window = this.#window instanceof CountWindow ? this.#window : undefined;
    this.#onFulfilled = (value: unknown) => {
      // The commonest case, inlined: a plain success while closed, with nothing to time or tell.
      if (generation === this.#quickGeneration) {
        this.#successes++;
        // A success can still open the breaker: it may be the call that reaches minimumCalls.
        if (window!.recordSuccess() && window!.total >= this.#minimumCalls && window!.failures / window!.total >= this.#failureRateThreshold) {
          this.#transition(OPEN, 'failure-rate', this.#clock.now());
        }
        return;
      }
      this.#settleValue(value, generation, Number.NaN);
    };
    this.#onRejected = (error: unknown) => {
      this.#settleError(error, generation, Number.NaN, NEVER_ABORTED);
    };
  }

  /** Disabled: run fn, record nothing. */
  #passThrough<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>): Promise<T> {
    try {
      return Promise.resolve(fn(NEVER_ABORTED));
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- pass on exactly what fn threw
      return Promise.reject(error);
    }
  }

  async #executeWithOptions<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options: ExecuteOptions<T>): Promise<T> {
    checkObject('execute options', options);
    const { signal, fallback } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`execute: signal must be an AbortSignal, got ${describe(signal)}`);
    if (fallback !== undefined) checkFunction('execute: fallback', fallback);
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    if (options.timeoutMs !== undefined) checkNumber('execute: timeoutMs', options.timeoutMs, { min: 0, exclusiveMin: true, max: 2 ** 31 - 1 });
    if (signal?.aborted) throw signal.reason;

    const admission = this.#admit();
    if (admission === WAIT) return this.#waitThenExecute(fn, options);
    if (admission === REJECT) {
      const error = this.#rejection();
      if (fallback === undefined) throw error;
      return await fallback({ reason: 'rejected', error });
    }
    const generation = admission === RUN ? this.#generation : UNRECORDED;
    const startedAt = this.#timing && admission === RUN ? this.#clock.now() : Number.NaN;
    const settled =
      timeoutMs === undefined
        ? await this.#attempt(fn, signal ?? NEVER_ABORTED, generation, startedAt)
        : await this.#attemptWithTimeout(fn, signal, timeoutMs, generation, startedAt);
    const { kind } = settled;
    if (!settled.threw && (kind === KIND_SUCCESS || fallback === undefined)) return settled.value as T;
    if (fallback !== undefined && kind !== KIND_IGNORED && kind !== KIND_SUCCESS) {
      return await fallback(
        kind === KIND_RESULT
          ? { reason: 'result', result: settled.value }
          : kind === KIND_TIMEOUT
            ? { reason: 'timeout', error: settled.error as CircuitTimeoutError }
            : { reason: 'error', error: settled.error },
      );
    }
    throw settled.error;
  }

  async #attempt<T>(
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    signal: AbortSignal,
    generation: number,
    startedAt: number,
  ): Promise<Settled<T>> {
    let value: T;
    try {
      value = await fn(signal);
    } catch (error) {
      return { kind: this.#settleError(error, generation, startedAt, signal), threw: true, value: undefined, error };
    }
    return { kind: this.#settleValue(value, generation, startedAt), threw: false, value, error: undefined };
  }

  #attemptWithTimeout<T>(
    fn: (signal: AbortSignal) => T | PromiseLike<T>,
    callerSignal: AbortSignal | undefined,
    timeoutMs: number,
    generation: number,
    startedAt: number,
  ): Promise<Settled<T>> {
    return new Promise<Settled<T>>((resolve) => {
      const controller = new AbortController();
      let done = false;
      const finish = (): void => {
        done = true;
        clearTimeout(timer);
        callerSignal?.removeEventListener('abort', onCallerAbort);
      };
      const onCallerAbort = (): void => {
        if (done) return;
        finish();
        const reason: unknown = callerSignal!.reason;
        controller.abort(reason);
        resolve({ kind: this.#settleError(reason, generation, startedAt, callerSignal!), threw: true, value: undefined, error: reason });
      };
      const timer = setTimeout(() => {
        if (done) return;
        finish();
        const error = new CircuitTimeoutError(this.name, timeoutMs);
        controller.abort(error);
        resolve({ kind: this.#settleTimeout(error, generation, startedAt), threw: true, value: undefined, error });
      }, timeoutMs);
      timer.unref();
      callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
      // An async wrapper turns a synchronous throw from fn into a rejection.
      const pending = (async () => fn(controller.signal))();
      // Once timed out or cancelled, fn's late outcome is dropped (it was told via its signal).
      pending.then(
        (value) => {
          if (done) return;
          finish();
          resolve({ kind: this.#settleValue(value, generation, startedAt), threw: false, value, error: undefined });
        },
        (error: unknown) => {
          if (done) return;
          finish();
          resolve({ kind: this.#settleError(error, generation, startedAt, controller.signal), threw: true, value: undefined, error });
        },
      );
    });
  }

  async #waitThenExecute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options: ExecuteOptions<T> | undefined): Promise<T> {
    const signal = options?.signal;
    await new Promise<void>((resolve, reject) => {
      const waiters = (this.#waiters ??= []);
      if (signal === undefined) {
        waiters.push({ wake: resolve });
        return;
      }
      const waiter: Waiter = {
        wake: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.#waiters?.indexOf(waiter) ?? -1;
        if (index !== -1) this.#waiters!.splice(index, 1);
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiters.push(waiter);
    });
    // Decide afresh: closed runs, open rejects, half-open with a freed slot probes, full waits again.
    return this.execute(fn, options);
  }

  #wakeWaiters(): void {
    const waiters = this.#waiters;
    if (waiters === undefined || waiters.length === 0) return;
    this.#waiters = undefined;
    for (const waiter of waiters) waiter.wake();
  }

  // --- recording outcomes --------------------------------------------------------------------

  #settleError(error: unknown, generation: number, startedAt: number, signal: AbortSignal): number {
    if (generation === UNRECORDED) return KIND_IGNORED;
    let kind = KIND_ERROR;
    if (signal.aborted) {
      kind = KIND_IGNORED; // the caller gave up; says nothing about the dependency
    } else {
      try {
        if (this.#ignore !== undefined && this.#ignore(error)) kind = KIND_IGNORED;
        else if (this.#isFailure !== undefined && !this.#isFailure(error)) kind = KIND_SUCCESS;
      } catch (predicateError) {
        reportError(predicateError);
      }
    }
    this.#record(kind, generation, startedAt, error);
    return kind;
  }

  #settleValue(value: unknown, generation: number, startedAt: number): number {
    if (generation === UNRECORDED) return KIND_SUCCESS;
    let kind = KIND_SUCCESS;
    if (this.#isResultFailure !== undefined) {
      try {
        if (this.#isResultFailure(value)) kind = KIND_RESULT;
      } catch (predicateError) {
        kind = KIND_RESULT;
        reportError(predicateError);
      }
    }
    this.#record(kind, generation, startedAt, value);
    return kind;
  }

  #settleTimeout(error: CircuitTimeoutError, generation: number, startedAt: number): number {
    if (generation === UNRECORDED) return KIND_IGNORED;
    this.#record(KIND_TIMEOUT, generation, startedAt, error);
    return KIND_TIMEOUT;
  }

  #record(kind: number, generation: number, startedAt: number, detail: unknown): void {
    if (kind === KIND_IGNORED) {
      this.#ignored++;
      if (generation === this.#generation && this.#state === HALF_OPEN) {
        // An ignored probe says nothing: give its slot to another caller.
        this.#probesAdmitted--;
        this.#wakeWaiters();
      }
      return;
    }
    let outcome = kind === KIND_SUCCESS ? 0 : OUTCOME_FAILURE;
    let now = 0;
    let durationMs = Number.NaN;
    if (this.#needsNow) {
      now = this.#clock.now();
      durationMs = now - startedAt;
      if (durationMs >= this.#slowCallDurationMs) outcome |= OUTCOME_SLOW;
    }
    if (outcome === 0) {
      this.#successes++;
      if (this.#successListeners !== undefined) emit(this.#successListeners, { durationMs });
    } else {
      if ((outcome & OUTCOME_SLOW) !== 0) {
        this.#slowCalls++;
        if (this.#slowCallListeners !== undefined) emit(this.#slowCallListeners, { durationMs, failed: (outcome & OUTCOME_FAILURE) !== 0 });
      }
      if ((outcome & OUTCOME_FAILURE) !== 0) {
        this.#failures++;
        if (kind === KIND_TIMEOUT) this.#timeouts++;
        if (this.#failureListeners !== undefined) {
          emit(this.#failureListeners, {
            durationMs,
            failure:
              kind === KIND_RESULT
                ? { reason: 'result', result: detail }
                : kind === KIND_TIMEOUT
                  ? { reason: 'timeout', error: detail as CircuitTimeoutError }
                  : { reason: 'error', error: detail },
          });
        }
      } else {
        this.#successes++;
        if (this.#successListeners !== undefined) emit(this.#successListeners, { durationMs });
      }
    }
    // A listener may have changed the state; and calls from before a transition do not count.
    if (generation !== this.#generation) return;
    const state = this.#state;
    if (state === CLOSED) {
      const window = this.#window;
      window.record(outcome, now);
      const total = window.total;
      if (total < this.#minimumCalls) return;
      if (window.failures / total >= this.#failureRateThreshold) {
        this.#transition(OPEN, 'failure-rate', this.#needsNow ? now : this.#clock.now());
      } else if (window.slow / total >= this.#slowCallRateThreshold) {
        this.#transition(OPEN, 'slow-call-rate', this.#needsNow ? now : this.#clock.now());
      }
    } else if (state === METRICS_ONLY) {
      this.#window.record(outcome, now);
    } else if (state === HALF_OPEN) {
      this.#probesCompleted++;
      if ((outcome & OUTCOME_FAILURE) !== 0) this.#probeFailures++;
      if ((outcome & OUTCOME_SLOW) !== 0) this.#probeSlow++;
      if (this.#probesCompleted < this.#permittedCalls) return;
      const completed = this.#probesCompleted;
      const at = this.#needsNow ? now : this.#clock.now();
      if (this.#probeFailures / completed >= this.#failureRateThreshold || this.#probeSlow / completed >= this.#slowCallRateThreshold) {
        this.#transition(OPEN, 'probes-failed', at);
      } else {
        this.#transition(CLOSED, 'probes-succeeded', at);
      }
    }
  }

  // --- transitions -------------------------------------------------------------------------

  #transition(to: number, reason: StateChangeReason, at: number): void {
    const from = this.#state;
    if (to === OPEN) {
      const attempt = this.#openAttempt + 1;
      this.#openUntil = at + this.#openDurationFor(attempt);
      this.#openAttempt = attempt;
    } else if (to === HALF_OPEN) {
      this.#probesAdmitted = 0;
      this.#probesCompleted = 0;
      this.#probeFailures = 0;
      this.#probeSlow = 0;
      this.#firstProbeAt = Number.NaN;
    } else if (to === CLOSED || to === METRICS_ONLY) {
      this.#openAttempt = 0;
      this.#window.reset();
    }
    this.#state = to;
    this.#generation++;
    this.#updateHotPath();
    if (this.#stateChangeListeners !== undefined) {
      emit(this.#stateChangeListeners, { from: CIRCUIT_STATES[from]!, to: CIRCUIT_STATES[to]!, reason });
    }
    this.#wakeWaiters();
  }

  #openDurationFor(attempt: number): number {
    if (this.#backoff === undefined) return this.#openDurationMs;
    let duration: number;
    try {
      duration = this.#backoff(attempt);
    } catch (error) {
      reportError(error);
      return DEFAULT_OPEN_DURATION_MS;
    }
    if (typeof duration !== 'number' || Number.isNaN(duration) || duration < 0) {
      reportError(new RangeError(`backoff(${attempt}) must return a number of ms ≥ 0, got ${String(duration)}`));
      return DEFAULT_OPEN_DURATION_MS;
    }
    return duration;
  }

  // --- listeners -------------------------------------------------------------------------

  #listeners<E extends CircuitBreakerEventName>(event: E): Listener<E>[] | undefined {
    switch (event) {
      case 'stateChange':
        return this.#stateChangeListeners as Listener<E>[] | undefined;
      case 'success':
        return this.#successListeners as Listener<E>[] | undefined;
      case 'failure':
        return this.#failureListeners as Listener<E>[] | undefined;
      case 'rejected':
        return this.#rejectedListeners as Listener<E>[] | undefined;
      case 'slowCall':
        return this.#slowCallListeners as Listener<E>[] | undefined;
      default:
        throw new TypeError(
          `event must be one of stateChange, success, failure, rejected, slowCall, got ${describe(event)}`,
        );
    }
  }

  #setListeners<E extends CircuitBreakerEventName>(event: E, listeners: Listener<E>[] | undefined): void {
    const list: unknown = listeners;
    if (event === 'stateChange') this.#stateChangeListeners = list as Listener<'stateChange'>[] | undefined;
    else if (event === 'success') this.#successListeners = list as Listener<'success'>[] | undefined;
    else if (event === 'failure') this.#failureListeners = list as Listener<'failure'>[] | undefined;
    else if (event === 'rejected') this.#rejectedListeners = list as Listener<'rejected'>[] | undefined;
    else this.#slowCallListeners = list as Listener<'slowCall'>[] | undefined;
    // Durations are only measured when something uses them.
    this.#timing =
      this.#slowCallDurationMs !== Number.POSITIVE_INFINITY ||
      this.#successListeners !== undefined ||
      this.#failureListeners !== undefined ||
      this.#slowCallListeners !== undefined;
    this.#needsNow = this.#timing || this.#windowNeedsTime;
    this.#updateHotPath();
  }

  // --- restore -------------------------------------------------------------------------

  #restore(snapshot: CircuitBreakerSnapshot): void {
    checkObject('initialState', snapshot);
    if (snapshot.version !== 1) throw new TypeError(`initialState.version must be 1, got ${describe(snapshot.version)}`);
    const state = CIRCUIT_STATES.indexOf(snapshot.state);
    if (state === -1) throw new TypeError(`initialState.state must be one of ${CIRCUIT_STATES.join(', ')}, got ${describe(snapshot.state)}`);
    checkInteger('initialState.openAttempt', snapshot.openAttempt, 0, Number.MAX_SAFE_INTEGER);
    const remaining = snapshot.openRemainingMs ?? Number.POSITIVE_INFINITY;
    checkNumber('initialState.openRemainingMs', remaining, { min: 0, allowInfinity: true });
    checkObject('initialState.window', snapshot.window);
    const now = this.#clock.now();
    this.#state = state;
    this.#openAttempt = snapshot.openAttempt;
    if (state === OPEN) this.#openUntil = now + remaining;
    if (state === CLOSED || state === METRICS_ONLY) {
      const window = snapshot.window;
      if (window.type === 'count') {
        if (!Array.isArray(window.outcomes)) throw new TypeError('initialState.window.outcomes must be an array');
      } else if (window.type === 'time') {
        if (!Array.isArray(window.counts)) throw new TypeError('initialState.window.counts must be an array');
      } else {
        throw new TypeError(`initialState.window.type must be 'count' or 'time', got ${describe((window as { type?: unknown }).type)}`);
      }
      this.#window.restore(window, now);
    }
  }
}

/** Create a circuit breaker. Throws TypeError/RangeError naming a bad option. */
export function circuitBreaker(options: CircuitBreakerOptions = {}): CircuitBreaker {
  return new CircuitBreaker(options);
}
