/** A monotonic millisecond clock. Injected so tests can drive time. */
export interface Clock {
  now(): number;
}

export const monotonicClock: Clock = {
  now: () => performance.now(),
};
