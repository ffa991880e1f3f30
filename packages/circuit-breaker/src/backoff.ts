import { checkNumber, checkObject } from './options.js';

export interface ExponentialBackoffOptions {
  /** Open duration after the first opening. */
  initialMs: number;
  /** Upper bound of the open duration. Default: 10 × initialMs. */
  maxMs?: number;
  /** Growth per consecutive opening. Default: 2. */
  factor?: number;
}

/**
 * A `backoff` for `circuitBreaker()`: the breaker stays open `initialMs` after its first
 * opening, then `factor` times longer after each consecutive re-opening (a failed probe),
 * up to `maxMs`. Closing resets it.
 */
export function exponentialBackoff(options: ExponentialBackoffOptions): (attempt: number) => number {
  checkObject('exponentialBackoff options', options);
  checkNumber('initialMs', options.initialMs, { min: 0 });
  const maxMs = options.maxMs ?? options.initialMs * 10;
  checkNumber('maxMs', maxMs, { min: options.initialMs, allowInfinity: true });
  const factor = options.factor ?? 2;
  checkNumber('factor', factor, { min: 1, max: 1000 });
  const { initialMs } = options;
  return (attempt: number) => Math.min(maxMs, initialMs * factor ** Math.max(0, attempt - 1));
}
