// The one file allowed to read real time. The simulator never imports it; the
// checker uses it for its time budget and the recorder helpers for real runs.
import { performance } from 'node:perf_hooks';

export interface Clock {
  now(): number;
}

/** performance.now(): monotonic, but relative to this process's start (not comparable across processes). */
export const realClock: Clock = { now: () => performance.now() };

/**
 * process.hrtime.bigint() in ms: the host's monotonic clock (CLOCK_MONOTONIC on Linux),
 * comparable between processes on the same machine. Use it to timestamp histories
 * recorded by several processes.
 */
export const hostMonotonicClock: Clock = { now: () => Number(process.hrtime.bigint()) / 1e6 };
