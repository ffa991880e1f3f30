// In-process concurrency limiter: at most `concurrency` functions run at once,
// the rest wait in a FIFO ring (or per-priority buckets once priorities are used, see task-queue.ts).

import { Emitter, monotonicClock, type Clock } from './emitter.js';
import { PoolClosedError, QueueFullError, TaskCancelledError, TaskTimeoutError } from './errors.js';
import { Histogram, type TaskStats } from './histogram.js';
import { TaskQueue, type QueueEntry } from './task-queue.js';
import { integerOption, priorityOption, timeoutOption } from './validate.js';

export interface LimiterOptions {
  /** Functions allowed to run at once: an integer >= 1 (Infinity allowed). */
  concurrency: number;
  /** Waiting functions allowed before `run()` rejects with `QueueFullError`: integer >= 0 or Infinity (default). */
  maxQueue?: number;
  /** Time source for the histograms; monotonic `performance.now()` by default. */
  clock?: Clock;
}

export interface RunOptions {
  /** Aborting removes a waiting task, or rejects a running one at once (see `TaskContext.signal`). */
  signal?: AbortSignal;
  /** Higher runs first; equal priorities run in submission order. Default 0. */
  priority?: number;
  /** Rejects with `TaskTimeoutError` when the task runs longer than this (queue time excluded). */
  timeoutMs?: number;
}

/** Passed to every limited function. */
export interface TaskContext {
  /** Aborted when the caller's signal aborts or the timeout fires: stop work early if you can. */
  signal: AbortSignal;
}

/** `utilization` is busy slot time / (elapsed time × concurrency), 0 when concurrency is Infinity. */
export interface LimiterStats extends TaskStats {
  concurrency: number;
  running: number;
}

export interface LimiterEvents {
  /** Nothing running and nothing queued. */
  idle: undefined;
}

export interface Limiter {
  run<T>(fn: (context: TaskContext) => T | PromiseLike<T>, options?: RunOptions): Promise<T>;
  /** Functions currently running (including cancelled ones that have not returned yet). */
  readonly running: number;
  /** Functions waiting. */
  readonly queueSize: number;
  /** Resolves once nothing is running or waiting; rejects with TaskCancelledError if `signal` aborts first. */
  onIdle(options?: { signal?: AbortSignal }): Promise<void>;
  /** Resolves once fewer than `n` functions are waiting; rejects with TaskCancelledError if `signal` aborts first. */
  onSizeLessThan(n: number, options?: { signal?: AbortSignal }): Promise<void>;
  /** Rejects every waiting function with `TaskCancelledError`; returns how many. */
  clear(reason?: unknown): number;
  stats(): LimiterStats;
  toJSON(): LimiterStats;
  on<K extends keyof LimiterEvents>(event: K, listener: (payload: LimiterEvents[K]) => void): () => void;
  /** Stops accepting work; resolves once running and waiting functions have settled (`force` clears the queue first). */
  close(options?: { force?: boolean }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const NEVER_ABORTED: TaskContext = { signal: new AbortController().signal };

class LimiterTask implements QueueEntry {
  priority = 0;
  seq = 0;
  queued = false;
  settled = false;
  enqueuedAt = 0;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  controller: AbortController | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  constructor(
    readonly fn: (context: TaskContext) => unknown,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
    readonly signal: AbortSignal | undefined,
    readonly timeoutMs: number | undefined,
  ) {}
}

// One shared executor instead of a closure (and its context) per queued task: less to
// allocate, and less memory to touch when priorities settle tasks out of creation order.
let capturedResolve: (value: unknown) => void = () => undefined;
let capturedReject: (error: unknown) => void = () => undefined;
function captureResolvers(resolve: (value: unknown) => void, reject: (error: unknown) => void): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

interface SizeWaiter {
  limit: number;
  resolve: () => void;
}

class ConcurrencyLimiter implements Limiter {
  private readonly concurrency: number;
  private readonly maxQueue: number;
  private readonly clock: Clock;
  private readonly queue = new TaskQueue<LimiterTask>();
  private readonly events = new Emitter<LimiterEvents>();
  private readonly runTime = new Histogram();
  private readonly waitTime = new Histogram();
  private readonly createdAt: number;
  private active = 0;
  private busyTime = 0;
  private completed = 0;
  private failed = 0;
  private cancelled = 0;
  private timedOut = 0;
  private rejected = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private sizeWaiters: SizeWaiter[] = [];

  constructor(options: LimiterOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('createLimiter(options) needs an options object');
    this.concurrency = integerOption('concurrency', options.concurrency, 1, true);
    this.maxQueue = integerOption('maxQueue', options.maxQueue ?? Number.POSITIVE_INFINITY, 0, true);
    this.clock = options.clock ?? monotonicClock;
    this.createdAt = this.clock.now();
  }

  get running(): number {
    return this.active;
  }

  get queueSize(): number {
    return this.queue.size;
  }

  run<T>(fn: (context: TaskContext) => T | PromiseLike<T>, options?: RunOptions): Promise<T> {
    if (typeof fn !== 'function') return Promise.reject(new TypeError('run(fn) needs a function'));
    if (this.closed) return Promise.reject(new PoolClosedError('limiter is closed'));
    if (options === undefined && this.active < this.concurrency && this.queue.size === 0) {
      return this.runFast(fn);
    }
    let priority: number;
    let timeoutMs: number | undefined;
    try {
      priority = priorityOption(options?.priority);
      timeoutMs = timeoutOption(options?.timeoutMs);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new TypeError(String(error)));
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      this.cancelled++;
      return Promise.reject(new TaskCancelledError(signal.reason));
    }
    const startNow = this.active < this.concurrency && this.queue.size === 0;
    if (!startNow && this.queue.size >= this.maxQueue) {
      this.rejected++;
      return Promise.reject(new QueueFullError(this.maxQueue));
    }
    const promise = new Promise<T>(captureResolvers as (resolve: (value: T) => void, reject: (error: unknown) => void) => void);
    const task = new LimiterTask(fn, capturedResolve, capturedReject, signal, timeoutMs);
    try {
      task.priority = priority;
      task.enqueuedAt = this.clock.now();
      if (signal !== undefined) {
        task.onAbort = () => this.abort(task, new TaskCancelledError(signal.reason), false);
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      if (startNow) this.start(task);
      else this.queue.push(task);
    } catch (error) {
      // As a throwing promise executor would: the caller gets a rejection, not a throw.
      task.reject(error);
    }
    return promise;
  }

  /** No options, free slot, empty queue: no task object, one `then`. */
  private runFast<T>(fn: (context: TaskContext) => T | PromiseLike<T>): Promise<T> {
    this.active++;
    this.waitTime.record(0);
    const startedAt = this.clock.now();
    let result: T | PromiseLike<T>;
    try {
      result = fn(NEVER_ABORTED);
    } catch (error) {
      this.finish(startedAt, false);
      // Whatever fn threw is passed through unchanged, as an awaited async fn would.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.finish(startedAt, true);
        return value;
      },
      (error: unknown) => {
        this.finish(startedAt, false);
        throw error;
      },
    );
  }

  private start(task: LimiterTask): void {
    this.active++;
    const startedAt = this.clock.now();
    this.waitTime.record(startedAt - task.enqueuedAt);
    let context = NEVER_ABORTED;
    if (task.timeoutMs !== undefined) {
      const controller = new AbortController();
      task.controller = controller;
      context = { signal: controller.signal };
      const timeoutMs = task.timeoutMs;
      task.timer = setTimeout(() => this.abort(task, new TaskTimeoutError(timeoutMs), true), timeoutMs);
      task.timer.unref();
    } else if (task.signal !== undefined) {
      context = { signal: task.signal };
    }
    let result: unknown;
    try {
      result = task.fn(context);
    } catch (error) {
      this.finish(startedAt, task.settled ? undefined : false);
      this.settle(task, false, error);
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        this.finish(startedAt, task.settled ? undefined : true);
        this.settle(task, true, value);
      },
      (error: unknown) => {
        this.finish(startedAt, task.settled ? undefined : false);
        this.settle(task, false, error);
      },
    );
  }

  private settle(task: LimiterTask, ok: boolean, value: unknown): void {
    if (task.settled) return;
    task.settled = true;
    this.cleanup(task);
    if (ok) task.resolve(value);
    else task.reject(value);
  }

  private cleanup(task: LimiterTask): void {
    if (task.timer !== undefined) clearTimeout(task.timer);
    if (task.onAbort !== undefined) task.signal?.removeEventListener('abort', task.onAbort);
  }

  /** Cancellation or timeout: a waiting task leaves the queue; a running one is rejected now and keeps its slot until it returns. */
  private abort(task: LimiterTask, error: Error, timedOut: boolean): void {
    if (task.settled) return;
    task.settled = true;
    if (timedOut) this.timedOut++;
    else this.cancelled++;
    this.cleanup(task);
    if (this.queue.remove(task)) this.afterDequeue();
    task.controller?.abort(error);
    task.reject(error);
  }

  /** `ok` undefined: the task was already cancelled or timed out and counted then. */
  private finish(startedAt: number, ok: boolean | undefined): void {
    this.active--;
    this.busyTime += this.runTimeSince(startedAt);
    if (ok === true) this.completed++;
    else if (ok === false) this.failed++;
    if (this.queue.size > 0) {
      while (this.active < this.concurrency) {
        const next = this.queue.shift();
        if (next === undefined) break;
        this.start(next);
      }
      this.afterDequeue();
    }
    if (this.active === 0 && this.queue.size === 0) this.becameIdle();
  }

  private runTimeSince(startedAt: number): number {
    const elapsed = this.clock.now() - startedAt;
    this.runTime.record(elapsed);
    return elapsed;
  }

  private afterDequeue(): void {
    if (this.sizeWaiters.length === 0) return;
    const size = this.queue.size;
    const still: SizeWaiter[] = [];
    for (const waiter of this.sizeWaiters) {
      if (size < waiter.limit) waiter.resolve();
      else still.push(waiter);
    }
    this.sizeWaiters = still;
  }

  private becameIdle(): void {
    if (this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.events.emit('idle', undefined);
  }

  onIdle(options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.active === 0 && this.queue.size === 0) return Promise.resolve();
    return waitUnlessAborted(options.signal, (resolve) => {
      this.idleWaiters.push(resolve);
      return () => {
        this.idleWaiters = this.idleWaiters.filter((waiter) => waiter !== resolve);
      };
    });
  }

  onSizeLessThan(n: number, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (typeof n !== 'number' || Number.isNaN(n)) return Promise.reject(new TypeError('onSizeLessThan(n) needs a number'));
    if (this.queue.size < n) return Promise.resolve();
    return waitUnlessAborted(options.signal, (resolve) => {
      const waiter = { limit: n, resolve };
      this.sizeWaiters.push(waiter);
      return () => {
        this.sizeWaiters = this.sizeWaiters.filter((other) => other !== waiter);
      };
    });
  }

  clear(reason: unknown = new Error('limiter queue cleared')): number {
    const tasks = this.queue.drain();
    for (const task of tasks) {
      task.settled = true;
      this.cancelled++;
      this.cleanup(task);
      task.reject(new TaskCancelledError(reason));
    }
    if (tasks.length > 0) {
      this.afterDequeue();
      if (this.active === 0) this.becameIdle();
    }
    return tasks.length;
  }

  stats(): LimiterStats {
    const elapsed = this.clock.now() - this.createdAt;
    const capacity = Number.isFinite(this.concurrency) ? this.concurrency : 0;
    return {
      concurrency: this.concurrency,
      running: this.active,
      queueSize: this.queue.size,
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      timedOut: this.timedOut,
      rejected: this.rejected,
      utilization: capacity > 0 && elapsed > 0 ? Math.min(1, this.busyTime / (elapsed * capacity)) : 0,
      runTime: this.runTime.snapshot(),
      waitTime: this.waitTime.snapshot(),
    };
  }

  toJSON(): LimiterStats {
    return this.stats();
  }

  on<K extends keyof LimiterEvents>(event: K, listener: (payload: LimiterEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  async close(options: { force?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (options.force === true) this.clear(new PoolClosedError('limiter closed with force'));
    await this.onIdle();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Registers a waiter; an abort unregisters it and rejects with TaskCancelledError. */
function waitUnlessAborted(signal: AbortSignal | undefined, register: (resolve: () => void) => () => void): Promise<void> {
  if (signal?.aborted) return Promise.reject(new TaskCancelledError(signal.reason));
  return new Promise<void>((resolve, reject) => {
    if (signal === undefined) {
      register(resolve);
      return;
    }
    const onAbort = (): void => {
      unregister();
      reject(new TaskCancelledError(signal.reason));
    };
    const unregister = register(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Creates an in-process concurrency limiter. Throws TypeError/RangeError on bad options. */
export function createLimiter(options: LimiterOptions): Limiter {
  return new ConcurrencyLimiter(options);
}
