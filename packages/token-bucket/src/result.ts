import type { RateLimitResult } from './types.js';

/**
 * Builds a RateLimitResult. Every in-memory limiter of this package and of
 * @bulwark/sliding-window builds its results here, so there is one object
 * literal site for them: with one literal per path, the allowed path's literal
 * (retryAfterMs 0, a small integer) and the rejected path's (a fractional
 * retryAfterMs) shared one hidden class, and once the rejected path had run,
 * V8 widened that field's representation (small integer → double), which left
 * the allowed path's literal on a slow path for the rest of the process
 * (~80 → ~195 ns per tryTake). With one site the hidden class settles once.
 */
export function rateLimitResult(allowed: boolean, remaining: number, retryAfterMs: number, resetMs: number, limit: number): RateLimitResult {
  return { allowed, remaining, retryAfterMs, resetMs, limit };
}
