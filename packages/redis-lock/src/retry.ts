// Retry arithmetic, kept free of I/O so it can be checked with properties.
import { InvalidOptionsError } from './errors.js';
import { checkNumber } from './options.js';

/** How acquire retries a failed attempt. Give `attempts`, `untilMs` or both (whichever runs out first stops). */
export interface RetryOptions {
  /** Total attempts including the first (>= 1). Default 10 when `untilMs` is not given, unlimited when it is. */
  attempts?: number;
  /** Stop retrying once this many ms have passed since acquire started (measured on the lock's clock). */
  untilMs?: number;
  /** Base pause between attempts. Default 200 ms. */
  delayMs?: number;
  /** Extra random pause in [0, jitterMs) added to each delay, so contenders spread out. Default 100 ms. */
  jitterMs?: number;
}

/** Resolved retry policy (`Infinity` where unbounded). */
export interface RetryPolicy {
  readonly attempts: number;
  readonly untilMs: number;
  readonly delayMs: number;
  readonly jitterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 10, untilMs: Infinity, delayMs: 200, jitterMs: 100 };

/** Validates retry options (throws InvalidOptionsError naming the option) and fills in defaults. */
export function resolveRetry(options: RetryOptions | undefined, option = 'retry'): RetryPolicy {
  if (options === undefined) return DEFAULT_RETRY;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError(option, 'an object { attempts?, untilMs?, delayMs?, jitterMs? }', options);
  }
  const untilMs = options.untilMs === undefined ? Infinity : checkNumber(`${option}.untilMs`, options.untilMs, { min: 0 });
  const attempts =
    options.attempts === undefined
      ? untilMs === Infinity
        ? DEFAULT_RETRY.attempts
        : Infinity
      : checkNumber(`${option}.attempts`, options.attempts, { min: 1, max: 1_000_000, integer: true });
  const delayMs = options.delayMs === undefined ? DEFAULT_RETRY.delayMs : checkNumber(`${option}.delayMs`, options.delayMs, { min: 0, max: 3_600_000 });
  const jitterMs = options.jitterMs === undefined ? DEFAULT_RETRY.jitterMs : checkNumber(`${option}.jitterMs`, options.jitterMs, { min: 0, max: 3_600_000 });
  return { attempts, untilMs, delayMs, jitterMs };
}

export type RetryDecision = { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

/**
 * Decides whether another attempt may start after `attemptsMade` failed ones.
 * `random` is a value in [0, 1). The next attempt never starts after `startedAt + untilMs`.
 */
export function planRetry(
  policy: RetryPolicy,
  state: { attemptsMade: number; startedAt: number; now: number; random: number },
): RetryDecision {
  if (state.attemptsMade >= policy.attempts) return { retry: false };
  const delayMs = policy.delayMs + Math.min(Math.max(state.random, 0), 1) * policy.jitterMs;
  if (policy.untilMs !== Infinity && state.now + delayMs > state.startedAt + policy.untilMs) return { retry: false };
  return { retry: true, delayMs };
}
