import { describe } from './options.js';

/**
 * Anything that runs a function under some policy and hands it an AbortSignal: a
 * `CircuitBreaker`, a concurrency limiter, a worker pool adapter, a retry helper…
 * Structural on purpose, so packages need not import each other.
 */
export interface ExecutePolicy {
  execute<T>(fn: (signal: AbortSignal) => T | PromiseLike<T>, options?: { signal?: AbortSignal }): Promise<T>;
}

/** The result of `wrap()`: itself an `ExecutePolicy`, so wrappers nest. */
export interface WrappedPolicy extends ExecutePolicy {
  /** The policies, outermost first. */
  readonly policies: readonly ExecutePolicy[];
}

const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/**
 * Compose policies, outermost first: `wrap(breaker, limiter).execute(fn, { signal })` is
 * `breaker.execute((s1) => limiter.execute((s2) => fn(s2), { signal: s1 }), { signal })`.
 * Each layer passes the signal it was given (possibly its own, e.g. with a timeout) inward.
 * Put the breaker outside a limiter so waiting in the limiter's queue is not charged to the
 * dependency, or inside it when queueing time is part of what should trip the breaker.
 */
export function wrap(...policies: ExecutePolicy[]): WrappedPolicy {
  policies.forEach((policy, index) => {
    if (typeof policy !== 'object' || policy === null || typeof policy.execute !== 'function') {
      throw new TypeError(`wrap: argument ${index} must have an execute(fn, { signal }) method, got ${describe(policy)}`);
    }
  });
  const layers = Object.freeze([...policies]);
  const run = <T>(index: number, fn: (signal: AbortSignal) => T | PromiseLike<T>, signal: AbortSignal | undefined): Promise<T> => {
    const policy = layers[index];
    if (policy === undefined) return (async () => fn(signal ?? NEVER_ABORTED))(); // no layers at all
    const inner = index + 1 === layers.length ? fn : (innerSignal: AbortSignal) => run(index + 1, fn, innerSignal);
    return policy.execute(inner, signal === undefined ? {} : { signal });
  };
  return {
    policies: layers,
    execute: (fn, options) => run(0, fn, options?.signal),
  };
}
