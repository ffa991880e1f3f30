// worker_threads pool. Dispatch is batched: run() only enqueues and schedules
// one microtask, which hands every queued task out in one postMessage per
// worker. When tasks are short (mean run time under PIPELINE_MAX_RUN_MS), a
// worker may also receive up to `pipelineDepth` tasks beyond the ones it can
// run at once, so one message round trip carries many tasks each way.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import { Emitter, monotonicClock, type Clock } from './emitter.js';
import {
  PoolClosedError,
  QueueFullError,
  TaskCancelledError,
  TaskNotCloneableError,
  TaskTimeoutError,
  WorkerExitError,
  WorkerLoadError,
} from './errors.js';
import { Histogram, type TaskStats } from './histogram.js';
import { TaskQueue, type QueueEntry } from './task-queue.js';
import { integerOption, priorityOption, timeoutOption } from './validate.js';
import { resultStatus, slotState, workerBootstrapSource } from './worker-bootstrap.js';

/** Pipelining is used only while the mean task run time (EWMA) stays below this. */
const PIPELINE_MAX_RUN_MS = 1;
const EWMA_WEIGHT = 0.05;

export interface PoolOptions {
  /** Worker module as a path (relative to the cwd) or a `file:` URL. One of `filename` / `url` is required. */
  filename?: string | URL;
  /** Worker module as a `file:` URL (string or URL). */
  url?: string | URL;
  /**
   * Name of the exported handler function: `export function handler(task) {}`. Default `'handler'`;
   * when left at the default and the module has no `handler`, a default-exported function is used.
   */
  name?: string;
  /** Threads kept alive even when idle. Integer >= 0, at most maxThreads. Default min(1, maxThreads). */
  minThreads?: number;
  /** Upper bound on threads. Integer >= 1. Default `os.availableParallelism()`. */
  maxThreads?: number;
  /** Threads above minThreads exit after this long without work. Integer >= 0 or Infinity. Default 10_000. */
  idleTimeoutMs?: number;
  /** Tasks allowed to wait for a thread before run() rejects with QueueFullError. Integer >= 0 or Infinity (default). */
  maxQueue?: number;
  /** Tasks one thread runs at the same time (useful for async handlers). Integer >= 1. Default 1. */
  concurrentTasksPerWorker?: number;
  /** Extra short tasks a thread may hold beyond the ones it runs (0 disables pipelining). Integer >= 0. Default 32. */
  pipelineDepth?: number;
  /** Passed to each `Worker` (heap and stack sizes). */
  resourceLimits?: ResourceLimits;
  /** Time source for wait-time stats and idle bookkeeping. Monotonic `performance.now()` by default. */
  clock?: Clock;
}

export interface PoolRunOptions {
  /** Aborting removes a queued task, or terminates (and replaces) the thread running it. */
  signal?: AbortSignal;
  /** Transferred instead of cloned (ArrayBuffers, MessagePorts). */
  transferList?: readonly TransferListItem[];
  /** Higher runs first; equal priorities run in submission order. Default 0. */
  priority?: number;
  /** Counted from hand-over to a thread; on expiry the task is rejected with TaskTimeoutError like a cancellation. */
  timeoutMs?: number;
}

/** `utilization` is summed task run time / (elapsed × maxThreads × concurrentTasksPerWorker). */
export interface PoolStats extends TaskStats {
  threads: number;
  /** Tasks handed to threads and not settled yet. */
  inFlight: number;
}

export interface PoolEvents {
  /** The queue had reached its high-water mark (`needsDrain`) and is empty again. */
  drain: undefined;
  workerCreate: { threadId: number };
  workerExit: { threadId: number; exitCode: number | undefined; error: Error | undefined };
}

export interface Pool {
  run<Result = unknown>(task: unknown, options?: PoolRunOptions): Promise<Result>;
  /** True while the queue holds maxQueue tasks (or, with no maxQueue, maxThreads × concurrentTasksPerWorker). */
  readonly needsDrain: boolean;
  readonly queueSize: number;
  readonly threads: number;
  stats(): PoolStats;
  toJSON(): PoolStats;
  on<K extends keyof PoolEvents>(event: K, listener: (payload: PoolEvents[K]) => void): () => void;
  /** Stops accepting tasks. Drains queued and running tasks, then ends the threads; `force` rejects them and terminates at once. */
  close(options?: { force?: boolean }): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

class PoolTask implements QueueEntry {
  priority = 0;
  seq = 0;
  queued = false;
  settled = false;
  enqueuedAt = 0;
  slot = -1;
  worker: WorkerHandle | undefined = undefined;
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  transferList: readonly TransferListItem[] | undefined = undefined;
  timeoutMs: number | undefined = undefined;
  constructor(
    readonly payload: unknown,
    readonly resolve: (value: unknown) => void,
    readonly reject: (error: unknown) => void,
  ) {}
}

/**
 * Whether a thread has loaded the module: it said 'ready', or it has started a task (a slot it
 * moved to RUNNING or DONE; it only takes tasks once the handler is loaded). The second test
 * matters because a thread's 'error' event and its 'ready' message travel on different ports:
 * under load a task's crash can be seen before 'ready', and must not pass for a load failure
 * (which fails the whole queue and stops replacing threads).
 */
function hasLoaded(w: WorkerHandle): boolean {
  if (w.ready) return true;
  for (let slot = 0; slot < w.state.length; slot++) {
    const state = Atomics.load(w.state, slot);
    if (state === slotState.running || state === slotState.done) return true;
  }
  return false;
}

class WorkerHandle {
  readonly slots: (PoolTask | undefined)[];
  readonly freeSlots: number[];
  inFlight = 0;
  ready = false;
  dead = false;
  refed = true;
  idleSince: number;
  /** Why the thread ended, when it did not end on our request. */
  error: Error | undefined = undefined;
  outbox: unknown[] = [];
  transfer: TransferListItem[] = [];
  readonly exited: Promise<void>;
  private markExited!: () => void;

  constructor(
    readonly worker: Worker,
    readonly state: Int32Array,
    now: number,
  ) {
    const capacity = state.length;
    this.slots = new Array<PoolTask | undefined>(capacity).fill(undefined);
    this.freeSlots = Array.from({ length: capacity }, (_, i) => capacity - 1 - i);
    this.idleSince = now;
    this.exited = new Promise((resolve) => (this.markExited = resolve));
  }

  setExited(): void {
    this.markExited();
  }
}

function resolveWorkerUrl(options: PoolOptions): string {
  const given = options.url ?? options.filename;
  if (given === undefined) throw new TypeError('createPool needs `filename` or `url` (the worker module)');
  let href: string;
  if (given instanceof URL) href = given.href;
  else if (typeof given === 'string' && given.length > 0) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(given) && !/^[a-z]:[\\/]/i.test(given)) href = new URL(given).href;
    else href = pathToFileURL(isAbsolute(given) ? given : resolvePath(given)).href;
  } else throw new TypeError('filename/url must be a non-empty string or a URL');
  if (href.startsWith('file:') && !existsSync(fileURLToPath(href))) {
    throw new WorkerLoadError(href, 'file not found');
  }
  return href;
}

class ThreadPool implements Pool {
  private readonly url: string;
  private readonly exportName: string;
  private readonly explicitName: boolean;
  private readonly minThreads: number;
  private readonly maxThreads: number;
  private readonly idleTimeoutMs: number;
  private readonly maxQueue: number;
  private readonly perWorker: number;
  private readonly pipelineDepth: number;
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly clock: Clock;
  private readonly highWaterMark: number;

  private readonly queue = new TaskQueue<PoolTask>();
  private readonly events = new Emitter<PoolEvents>();
  private readonly runTime = new Histogram();
  private readonly waitTime = new Histogram();
  private readonly createdAt: number;
  private workers: WorkerHandle[] = [];
  private readonly exiting = new Set<WorkerHandle>();
  private inFlight = 0;
  private runTimeEwma = Number.POSITIVE_INFINITY;
  private busyTime = 0;
  private completed = 0;
  private failed = 0;
  private cancelled = 0;
  private timedOut = 0;
  private rejected = 0;
  private dispatchScheduled = false;
  private drainPending = false;
  private lastLoadError: WorkerLoadError | undefined = undefined;
  private closing = false;
  private closingForce = false;
  private closePromise: Promise<void> | undefined = undefined;
  private idleWaiters: (() => void)[] = [];
  private sweepTimer: ReturnType<typeof setInterval> | undefined = undefined;
  private readonly dispatchBound = (): void => this.dispatch();

  constructor(options: PoolOptions) {
    if (typeof options !== 'object' || options === null) throw new TypeError('createPool(options) needs an options object');
    this.maxThreads = integerOption('maxThreads', options.maxThreads ?? Math.max(1, availableParallelism()), 1);
    this.minThreads = integerOption('minThreads', options.minThreads ?? Math.min(1, this.maxThreads), 0);
    if (this.minThreads > this.maxThreads) {
      throw new RangeError(`minThreads must be an integer in [0, maxThreads=${this.maxThreads}], got ${this.minThreads}`);
    }
    this.idleTimeoutMs = integerOption('idleTimeoutMs', options.idleTimeoutMs ?? 10_000, 0, true);
    this.maxQueue = integerOption('maxQueue', options.maxQueue ?? Number.POSITIVE_INFINITY, 0, true);
    this.perWorker = integerOption('concurrentTasksPerWorker', options.concurrentTasksPerWorker ?? 1, 1);
    this.pipelineDepth = integerOption('pipelineDepth', options.pipelineDepth ?? 32, 0);
    if (options.name !== undefined && (typeof options.name !== 'string' || options.name.length === 0)) {
      throw new TypeError('name must be a non-empty string (the exported handler function)');
    }
    this.exportName = options.name ?? 'handler';
    this.explicitName = options.name !== undefined;
    this.resourceLimits = options.resourceLimits;
    this.clock = options.clock ?? monotonicClock;
    this.url = resolveWorkerUrl(options);
    this.highWaterMark = Number.isFinite(this.maxQueue) ? this.maxQueue : this.maxThreads * this.perWorker;
    this.createdAt = this.clock.now();
    for (let i = 0; i < this.minThreads; i++) this.spawn();
    if (Number.isFinite(this.idleTimeoutMs) && this.maxThreads > this.minThreads) {
      this.sweepTimer = setInterval(() => this.reapIdle(), Math.max(10, Math.min(this.idleTimeoutMs / 2, 1000)));
      this.sweepTimer.unref();
    }
  }

  get needsDrain(): boolean {
    return this.waiting() >= this.highWaterMark;
  }

  get queueSize(): number {
    return this.waiting();
  }

  /** Tasks that must wait for a thread: queued beyond what the next dispatch hands over. */
  private waiting(): number {
    const size = this.queue.size;
    return size === 0 ? 0 : Math.max(0, size - this.freeCapacity());
  }

  get threads(): number {
    return this.workers.length;
  }

  run<Result = unknown>(payload: unknown, options?: PoolRunOptions): Promise<Result> {
    if (this.closing) return Promise.reject(new PoolClosedError());
    let priority = 0;
    let timeoutMs: number | undefined;
    const signal = options?.signal;
    if (options !== undefined) {
      try {
        priority = priorityOption(options.priority);
        timeoutMs = timeoutOption(options.timeoutMs);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new TypeError(String(error)));
      }
      if (signal?.aborted) {
        this.cancelled++;
        return Promise.reject(new TaskCancelledError(signal.reason));
      }
    }
    if (this.queue.size >= this.maxQueue && this.waiting() >= this.maxQueue) {
      this.rejected++;
      return Promise.reject(new QueueFullError(this.maxQueue));
    }
    return new Promise<Result>((resolve, reject) => {
      const task = new PoolTask(payload, resolve as (value: unknown) => void, reject);
      task.enqueuedAt = this.clock.now();
      if (options !== undefined) {
        task.priority = priority;
        task.timeoutMs = timeoutMs;
        task.transferList = options.transferList;
        if (signal !== undefined) {
          task.signal = signal;
          task.onAbort = () => this.cancel(task, new TaskCancelledError(signal.reason), false);
          signal.addEventListener('abort', task.onAbort, { once: true });
        }
      }
      this.queue.push(task);
      if (this.queue.size >= this.highWaterMark && this.needsDrain) this.drainPending = true;
      if (!this.dispatchScheduled) {
        this.dispatchScheduled = true;
        queueMicrotask(this.dispatchBound);
      }
    });
  }

  /**
   * Tasks the next dispatch hands over: free running slots, threads not spawned yet and,
   * while tasks are short enough to pipeline, free pipeline room of ready threads.
   */
  private freeCapacity(): number {
    if (this.closing) return 0;
    let free = (this.maxThreads - this.workers.length) * this.perWorker;
    const pipelining = this.pipelineDepth > 0 && this.runTimeEwma < PIPELINE_MAX_RUN_MS;
    for (const w of this.workers) {
      const room = pipelining && w.ready ? w.slots.length : this.perWorker;
      free += Math.max(0, room - w.inFlight);
    }
    return free;
  }

  private spawn(): WorkerHandle {
    const capacity = this.perWorker + this.pipelineDepth;
    const state = new Int32Array(new SharedArrayBuffer(4 * capacity));
    const worker = new Worker(workerBootstrapSource, {
      eval: true,
      workerData: { url: this.url, exportName: this.exportName, explicitName: this.explicitName, concurrency: this.perWorker, state },
      ...(this.resourceLimits !== undefined ? { resourceLimits: this.resourceLimits } : {}),
    });
    const threadId = worker.threadId; // reads -1 once the thread has exited
    const handle = new WorkerHandle(worker, state, this.clock.now());
    this.workers.push(handle);
    worker.unref();
    handle.refed = false;
    worker.on('message', (message: unknown) => {
      if (Array.isArray(message)) this.onResults(handle, message);
      else this.onControl(handle, message as { type: string; message?: string });
    });
    worker.on('error', (error: Error) => this.onDeath(handle, error, undefined));
    worker.on('exit', (exitCode: number) => {
      this.onDeath(handle, undefined, exitCode);
      this.exiting.delete(handle);
      handle.setExited();
      this.events.emit('workerExit', { threadId, exitCode, error: handle.error });
    });
    this.events.emit('workerCreate', { threadId });
    return handle;
  }

  private onControl(handle: WorkerHandle, message: { type: string; message?: string }): void {
    if (message.type === 'ready') {
      handle.ready = true;
      this.lastLoadError = undefined;
    } else if (message.type === 'load-error') {
      this.onDeath(handle, new WorkerLoadError(this.url, message.message ?? 'unknown error'), undefined);
    }
  }

  private dispatch(): void {
    this.dispatchScheduled = false;
    if (this.queue.size === 0) return;
    const now = this.clock.now();
    // 1. fill the slots threads can run right away
    for (const w of this.workers) {
      while (w.inFlight < this.perWorker) {
        const task = this.queue.shift();
        if (task === undefined) break;
        this.assign(w, task, now);
      }
    }
    // 2. grow the pool
    if (this.queue.size > 0 && !this.closingForce) {
      const wanted = Math.min(this.maxThreads - this.workers.length, Math.ceil(this.queue.size / this.perWorker));
      for (let i = 0; i < wanted; i++) {
        const w = this.spawn();
        while (w.inFlight < this.perWorker) {
          const task = this.queue.shift();
          if (task === undefined) break;
          this.assign(w, task, now);
        }
      }
    }
    // 3. pipeline short tasks to ready threads, spread evenly
    if (this.queue.size > 0 && this.pipelineDepth > 0 && this.runTimeEwma < PIPELINE_MAX_RUN_MS) {
      let readyCount = 0;
      for (const w of this.workers) if (w.ready) readyCount++;
      if (readyCount > 0) {
        const share = Math.ceil(this.queue.size / readyCount);
        for (const w of this.workers) {
          if (!w.ready) continue;
          const limit = Math.min(w.slots.length, w.inFlight + share);
          while (w.inFlight < limit) {
            const task = this.queue.shift();
            if (task === undefined) break;
            this.assign(w, task, now);
          }
        }
      }
    }
    for (const w of this.workers) if (w.outbox.length > 0) this.post(w);
    if (this.queue.size === 0) this.maybeDrained();
  }

  private assign(w: WorkerHandle, task: PoolTask, now: number): void {
    const slot = w.freeSlots.pop()!;
    w.slots[slot] = task;
    Atomics.store(w.state, slot, slotState.queued);
    w.outbox.push(slot, task.payload);
    if (task.transferList !== undefined) for (const item of task.transferList) w.transfer.push(item);
    task.worker = w;
    task.slot = slot;
    w.inFlight++;
    this.inFlight++;
    if (!w.refed) {
      w.refed = true;
      w.worker.ref();
    }
    this.waitTime.record(now - task.enqueuedAt);
    if (task.timeoutMs !== undefined) {
      const timeoutMs = task.timeoutMs;
      task.timer = setTimeout(() => this.cancel(task, new TaskTimeoutError(timeoutMs), true), timeoutMs);
      task.timer.unref();
    }
  }

  private post(w: WorkerHandle): void {
    const batch = w.outbox;
    const transfer = w.transfer;
    w.outbox = [];
    if (transfer.length > 0) w.transfer = [];
    try {
      w.worker.postMessage(batch, transfer);
      return;
    } catch {
      // Some task in the batch cannot be cloned: send one by one so only that task fails.
    }
    for (let i = 0; i < batch.length; i += 2) {
      const slot = batch[i] as number;
      const task = w.slots[slot];
      if (task === undefined) continue;
      try {
        w.worker.postMessage([slot, batch[i + 1]], task.transferList ?? []);
      } catch (error) {
        this.releaseSlot(w, slot);
        this.failed++;
        this.settle(task, false, new TaskNotCloneableError(error));
      }
    }
    this.afterSettle(w);
  }

  private releaseSlot(w: WorkerHandle, slot: number): void {
    w.slots[slot] = undefined;
    w.freeSlots.push(slot);
    w.inFlight--;
    this.inFlight--;
  }

  private onResults(w: WorkerHandle, results: unknown[]): void {
    if (w.dead) return;
    for (let i = 0; i < results.length; i += 4) {
      const slot = results[i] as number;
      const status = results[i + 1] as number;
      const task = w.slots[slot];
      if (task === undefined) continue;
      this.releaseSlot(w, slot);
      if (status === resultStatus.skipped) continue; // cancelled before it started; already settled
      const runMs = results[i + 3] as number;
      this.runTime.record(runMs);
      this.busyTime += runMs;
      this.runTimeEwma = this.runTimeEwma === Number.POSITIVE_INFINITY ? runMs : this.runTimeEwma + EWMA_WEIGHT * (runMs - this.runTimeEwma);
      if (task.settled) continue;
      if (status === resultStatus.ok) {
        this.completed++;
        this.settle(task, true, results[i + 2]);
      } else {
        this.failed++;
        this.settle(task, false, status === resultStatus.notCloneable ? new TaskNotCloneableError(results[i + 2]) : results[i + 2]);
      }
    }
    this.afterSettle(w);
    if (this.queue.size > 0) this.dispatch();
  }

  private afterSettle(w: WorkerHandle): void {
    if (w.inFlight === 0) {
      w.idleSince = this.clock.now();
      if (w.refed) {
        w.refed = false;
        w.worker.unref();
      }
    }
    if (this.inFlight === 0 && this.queue.size === 0) this.becameIdle();
  }

  private settle(task: PoolTask, ok: boolean, value: unknown): void {
    task.settled = true;
    if (task.timer !== undefined) clearTimeout(task.timer);
    if (task.onAbort !== undefined) task.signal?.removeEventListener('abort', task.onAbort);
    task.worker = undefined;
    if (ok) task.resolve(value);
    else task.reject(value);
  }

  /** Abort or timeout. */
  private cancel(task: PoolTask, error: Error, timedOut: boolean): void {
    if (task.settled) return;
    if (timedOut) this.timedOut++;
    else this.cancelled++;
    const w = task.worker;
    if (this.queue.remove(task)) {
      this.settle(task, false, error);
      if (this.queue.size === 0) this.maybeDrained();
      if (this.inFlight === 0 && this.queue.size === 0) this.becameIdle();
      return;
    }
    if (w === undefined) {
      this.settle(task, false, error);
      return;
    }
    const previous = Atomics.compareExchange(w.state, task.slot, slotState.queued, slotState.cancelled);
    if (previous === slotState.queued || previous === slotState.done) {
      // Not started (the thread will skip it and report the slot back), or already finished
      // with its result in flight (ignored on arrival): no need to end the thread.
      this.settle(task, false, error);
      return;
    }
    // Running: the only way to stop it is to end its thread.
    this.settle(task, false, error);
    this.terminate(w, new WorkerExitError('worker terminated: another task on it was cancelled or timed out'));
    this.replenish();
  }

  /** Ends a thread on purpose; tasks it had not started go back to the front of the queue. */
  private terminate(w: WorkerHandle, errorForRunning: Error): void {
    if (w.dead) return;
    w.dead = true;
    this.workers = this.workers.filter((other) => other !== w);
    this.exiting.add(w);
    this.reclaim(w, errorForRunning);
    w.worker.terminate().catch(() => undefined);
  }

  private reclaim(w: WorkerHandle, errorForRunning: Error): void {
    const requeue: PoolTask[] = [];
    for (let slot = 0; slot < w.slots.length; slot++) {
      const task = w.slots[slot];
      if (task === undefined) continue;
      const previous = Atomics.compareExchange(w.state, slot, slotState.queued, slotState.cancelled);
      this.releaseSlot(w, slot);
      if (task.settled) continue;
      if (task.timer !== undefined) {
        clearTimeout(task.timer);
        task.timer = undefined;
      }
      task.worker = undefined;
      if (previous === slotState.queued && !this.closing && !(errorForRunning instanceof WorkerLoadError)) requeue.push(task);
      else {
        this.failed++;
        this.settle(task, false, errorForRunning);
      }
    }
    requeue.sort((a, b) => b.seq - a.seq);
    for (const task of requeue) this.queue.unshift(task);
    if (this.inFlight === 0 && this.queue.size === 0) this.becameIdle();
  }

  private onDeath(w: WorkerHandle, error: Error | undefined, exitCode: number | undefined): void {
    if (w.dead) return;
    w.dead = true;
    this.workers = this.workers.filter((other) => other !== w);
    this.exiting.add(w);
    let failure: Error;
    if (!hasLoaded(w) || error instanceof WorkerLoadError) {
      failure = error instanceof WorkerLoadError ? error : new WorkerLoadError(this.url, error?.message ?? `thread exited with code ${exitCode}`, error);
      this.lastLoadError = failure as WorkerLoadError;
      // Every thread would fail the same way: fail the queue too rather than leave it waiting.
      for (const task of this.queue.drain()) {
        this.failed++;
        this.settle(task, false, failure);
      }
    } else {
      failure = new WorkerExitError(error !== undefined ? `worker crashed: ${error.message}` : `worker exited with code ${exitCode}`, {
        exitCode,
        cause: error,
      });
    }
    w.error = failure;
    this.reclaim(w, failure);
    w.worker.terminate().catch(() => undefined);
    if (this.lastLoadError === undefined) this.replenish();
    else if (this.inFlight === 0 && this.queue.size === 0) this.becameIdle();
  }

  /** Keeps minThreads alive and picks up requeued work after a thread ended. */
  private replenish(): void {
    if (this.closingForce) return;
    if (!this.closing) while (this.workers.length < this.minThreads) this.spawn();
    if (this.queue.size > 0 && !this.dispatchScheduled) {
      this.dispatchScheduled = true;
      queueMicrotask(this.dispatchBound);
    }
  }

  private maybeDrained(): void {
    if (this.drainPending) {
      this.drainPending = false;
      this.events.emit('drain', undefined);
    }
  }

  private becameIdle(): void {
    if (this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private reapIdle(): void {
    const now = this.clock.now();
    for (const w of [...this.workers]) {
      if (this.workers.length <= this.minThreads) break;
      if (w.inFlight === 0 && now - w.idleSince >= this.idleTimeoutMs) {
        this.terminate(w, new WorkerExitError('idle worker terminated'));
      }
    }
  }

  /** Handed-over tasks not settled yet (a cancelled task keeps its slot until the thread acknowledges it). */
  private unsettledInFlight(): number {
    let count = 0;
    for (const w of this.workers) for (const task of w.slots) if (task !== undefined && !task.settled) count++;
    return count;
  }

  stats(): PoolStats {
    const elapsed = this.clock.now() - this.createdAt;
    const capacity = this.maxThreads * this.perWorker;
    return {
      threads: this.workers.length,
      queueSize: this.waiting(),
      inFlight: this.unsettledInFlight(),
      completed: this.completed,
      failed: this.failed,
      cancelled: this.cancelled,
      timedOut: this.timedOut,
      rejected: this.rejected,
      utilization: elapsed > 0 ? Math.min(1, this.busyTime / (elapsed * capacity)) : 0,
      runTime: this.runTime.snapshot(),
      waitTime: this.waitTime.snapshot(),
    };
  }

  toJSON(): PoolStats {
    return this.stats();
  }

  on<K extends keyof PoolEvents>(event: K, listener: (payload: PoolEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  close(options: { force?: boolean } = {}): Promise<void> {
    const force = options.force === true;
    this.closing = true;
    if (force && !this.closingForce) {
      this.closingForce = true;
      const error = new PoolClosedError('pool closed with force');
      for (const task of this.queue.drain()) {
        this.cancelled++;
        this.settle(task, false, error);
      }
      for (const w of [...this.workers]) {
        for (const task of w.slots) {
          if (task !== undefined && !task.settled) {
            this.cancelled++;
            this.settle(task, false, error);
          }
        }
        this.terminate(w, error);
      }
      this.becameIdle();
    }
    this.closePromise ??= this.finishClose();
    return this.closePromise;
  }

  private async finishClose(): Promise<void> {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    if (this.inFlight > 0 || this.queue.size > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    for (const w of [...this.workers]) this.terminate(w, new PoolClosedError());
    await Promise.all([...this.exiting].map((w) => w.exited));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a worker_threads pool. Throws TypeError/RangeError on bad options and
 * WorkerLoadError when the worker file does not exist.
 */
export function createPool(options: PoolOptions): Pool {
  return new ThreadPool(options);
}
