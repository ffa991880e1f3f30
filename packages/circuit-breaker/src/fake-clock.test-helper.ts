import type { Clock } from './clock.js';

/** A clock the test moves by hand. Starts at an arbitrary non-zero time on purpose. */
export class FakeClock implements Clock {
  time: number;
  constructor(start = 1_000_000) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** Let every pending promise reaction run. */
export function flush(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

export const ok = (): Promise<string> => Promise.resolve('ok');
export const boom = (): Promise<never> => Promise.reject(new Error('boom'));
