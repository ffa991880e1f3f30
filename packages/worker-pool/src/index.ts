export { createPool } from './pool.js';
export type { Pool, PoolEvents, PoolOptions, PoolRunOptions, PoolStats } from './pool.js';
export { createLimiter } from './limiter.js';
export type { Limiter, LimiterEvents, LimiterOptions, LimiterStats, RunOptions, TaskContext } from './limiter.js';
export { Histogram } from './histogram.js';
export type { HistogramSnapshot, TaskStats } from './histogram.js';
export type { Clock } from './emitter.js';
export {
  PoolClosedError,
  QueueFullError,
  TaskCancelledError,
  TaskNotCloneableError,
  TaskTimeoutError,
  WorkerExitError,
  WorkerLoadError,
  errorCodes,
  isPoolClosedError,
  isQueueFullError,
  isTaskCancelledError,
  isTaskNotCloneableError,
  isTaskTimeoutError,
  isWorkerExitError,
  isWorkerLoadError,
} from './errors.js';
export type { WorkerPoolErrorCode } from './errors.js';
