import { performance } from 'node:perf_hooks';

/** A source of time in milliseconds. Only differences matter, so a monotonic clock is best. */
export interface Clock {
  now(): number;
}

/** `performance.now()`: monotonic, unaffected by wall-clock adjustments. */
export const monotonicClock: Clock = {
  now: () => performance.now(),
};
