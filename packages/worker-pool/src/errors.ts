// Error classes of @bulwark/worker-pool. Each failure a caller can act on has its
// own class, a stable `code` and a type guard that also works across realms
// (it checks `code`, not `instanceof`).

export const errorCodes = {
  cancelled: 'ERR_TASK_CANCELLED',
  timeout: 'ERR_TASK_TIMEOUT',
  queueFull: 'ERR_QUEUE_FULL',
  closed: 'ERR_POOL_CLOSED',
  workerExit: 'ERR_WORKER_EXIT',
  workerLoad: 'ERR_WORKER_LOAD',
  notCloneable: 'ERR_TASK_NOT_CLONEABLE',
} as const;

export type WorkerPoolErrorCode = (typeof errorCodes)[keyof typeof errorCodes];

function hasCode(error: unknown, code: WorkerPoolErrorCode): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** The task was cancelled through its `AbortSignal` or by `clear()`; `reason` is the signal's reason. */
export class TaskCancelledError extends Error {
  readonly code = errorCodes.cancelled;
  readonly reason: unknown;
  constructor(reason?: unknown) {
    super('task cancelled', reason === undefined ? undefined : { cause: reason });
    this.name = 'TaskCancelledError';
    this.reason = reason;
  }
}

/** The task ran longer than its `timeoutMs`. */
export class TaskTimeoutError extends Error {
  readonly code = errorCodes.timeout;
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super(`task timed out after ${timeoutMs} ms`);
    this.name = 'TaskTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The queue already holds `maxQueue` tasks. */
export class QueueFullError extends Error {
  readonly code = errorCodes.queueFull;
  readonly maxQueue: number;
  constructor(maxQueue: number) {
    super(`queue is full (maxQueue ${maxQueue})`);
    this.name = 'QueueFullError';
    this.maxQueue = maxQueue;
  }
}

/** The pool or limiter was closed before the task could run (or, with `force`, finish). */
export class PoolClosedError extends Error {
  readonly code = errorCodes.closed;
  constructor(message = 'pool is closed') {
    super(message);
    this.name = 'PoolClosedError';
  }
}

/** The worker thread running the task crashed, exited or was terminated. */
export class WorkerExitError extends Error {
  readonly code = errorCodes.workerExit;
  /** Exit code of the thread when known (`undefined` while it is still shutting down). */
  readonly exitCode: number | undefined;
  constructor(message: string, options: { exitCode?: number | undefined; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WorkerExitError';
    this.exitCode = options.exitCode;
  }
}

/** The worker module could not be found or loaded, or does not export the handler function. */
export class WorkerLoadError extends Error {
  readonly code = errorCodes.workerLoad;
  readonly url: string;
  constructor(url: string, message: string, cause?: unknown) {
    super(`cannot load worker ${url}: ${message}`, cause === undefined ? undefined : { cause });
    this.name = 'WorkerLoadError';
    this.url = url;
  }
}

/** The task (or its result) cannot be passed between threads by the structured clone algorithm. */
export class TaskNotCloneableError extends Error {
  readonly code = errorCodes.notCloneable;
  constructor(cause?: unknown) {
    super('task or result cannot be cloned to another thread', cause === undefined ? undefined : { cause });
    this.name = 'TaskNotCloneableError';
  }
}

export function isTaskCancelledError(error: unknown): error is TaskCancelledError {
  return hasCode(error, errorCodes.cancelled);
}
export function isTaskTimeoutError(error: unknown): error is TaskTimeoutError {
  return hasCode(error, errorCodes.timeout);
}
export function isQueueFullError(error: unknown): error is QueueFullError {
  return hasCode(error, errorCodes.queueFull);
}
export function isPoolClosedError(error: unknown): error is PoolClosedError {
  return hasCode(error, errorCodes.closed);
}
export function isWorkerExitError(error: unknown): error is WorkerExitError {
  return hasCode(error, errorCodes.workerExit);
}
export function isWorkerLoadError(error: unknown): error is WorkerLoadError {
  return hasCode(error, errorCodes.workerLoad);
}
export function isTaskNotCloneableError(error: unknown): error is TaskNotCloneableError {
  return hasCode(error, errorCodes.notCloneable);
}
