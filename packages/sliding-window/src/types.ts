/** Which sliding-window algorithm a limiter runs. */
export type SlidingWindowAlgorithm = 'log' | 'counter';
