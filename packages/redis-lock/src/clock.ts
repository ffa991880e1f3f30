import { performance } from 'node:perf_hooks';

/** A source of milliseconds. Only differences between readings are used, so it must never step backwards. */
export interface Clock {
  now(): number;
}

/** The default clock: `performance.now()`, monotonic and unaffected by wall-clock (NTP, manual) changes. */
export const monotonicClock: Clock = { now: () => performance.now() };
