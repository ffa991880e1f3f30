// One error class per failure for every Bulwark rate limiter: @bulwark/sliding-window
// throws (and re-exports) these same classes, so one `isXxxError` guard serves both.

/** Bad options or a bad count (n ≤ 0, n > capacity / limit, NaN …). Thrown at once, never deferred. */
export class InvalidArgumentError extends RangeError {
  readonly code = 'INVALID_ARGUMENT' as const;
  override readonly name = 'InvalidArgumentError';
}

/** `take()` would have to wait longer than `maxWaitMs`: nothing was consumed or recorded. */
export class WaitExceedsDeadlineError extends Error {
  readonly code = 'WAIT_EXCEEDS_DEADLINE' as const;
  override readonly name = 'WaitExceedsDeadlineError';
  constructor(
    /** How long the caller would have had to wait. */
    readonly waitMs: number,
    readonly maxWaitMs: number,
  ) {
    super(`waiting ${Math.ceil(waitMs)} ms would exceed maxWaitMs (${maxWaitMs} ms)`);
  }
}

/** The store (Redis) failed or timed out and the limiter was told `onStoreError: 'throw'`. */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE' as const;
  override readonly name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** The limiter was closed while the call waited (or before it started). */
export class LimiterClosedError extends Error {
  readonly code = 'LIMITER_CLOSED' as const;
  override readonly name = 'LimiterClosedError';
  constructor() {
    super('the rate limiter is closed');
  }
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

export function isInvalidArgumentError(error: unknown): error is InvalidArgumentError {
  return error instanceof InvalidArgumentError || (error instanceof RangeError && hasCode(error, 'INVALID_ARGUMENT'));
}
export function isWaitExceedsDeadlineError(error: unknown): error is WaitExceedsDeadlineError {
  return error instanceof WaitExceedsDeadlineError || (error instanceof Error && hasCode(error, 'WAIT_EXCEEDS_DEADLINE'));
}
export function isStoreUnavailableError(error: unknown): error is StoreUnavailableError {
  return error instanceof StoreUnavailableError || (error instanceof Error && hasCode(error, 'STORE_UNAVAILABLE'));
}
export function isLimiterClosedError(error: unknown): error is LimiterClosedError {
  return error instanceof LimiterClosedError || (error instanceof Error && hasCode(error, 'LIMITER_CLOSED'));
}
