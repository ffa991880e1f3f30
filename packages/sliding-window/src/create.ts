import { InvalidArgumentError } from '@bulwark/token-bucket';
import type { InMemoryWindowOptions } from './in-memory-limiter.js';
import { SlidingLog } from './sliding-log.js';
import { SlidingWindowCounter } from './sliding-window-counter.js';
import type { SlidingWindowAlgorithm } from './types.js';

export interface CreateSlidingWindowOptions extends InMemoryWindowOptions {
  algorithm: SlidingWindowAlgorithm;
}

/** An in-memory sliding-window limiter with the algorithm chosen by option. */
export function createSlidingWindow(options: CreateSlidingWindowOptions): SlidingLog | SlidingWindowCounter {
  if (options.algorithm === 'log') return new SlidingLog(options);
  if (options.algorithm === 'counter') return new SlidingWindowCounter(options);
  throw new InvalidArgumentError(`algorithm must be 'log' or 'counter', got ${JSON.stringify((options as { algorithm: unknown }).algorithm)}`);
}
