// One class per failure a caller can act on, each with a stable `code` and a
// type guard (a held lock is retried later, an unavailable store is alerted on,
// a lost lock means "stop writing now").

/** Why a lock could not be taken: someone else holds it. Retrying later may succeed. */
export class LockHeldError extends Error {
  readonly code = 'LOCK_HELD' as const;
  override readonly name = 'LockHeldError';
  /** The lock name. */
  readonly key: string;
  /** Acquire attempts made before giving up. */
  readonly attempts: number;
  /** Time spent trying, on the lock's clock. */
  readonly elapsedMs: number;
  /** The holder's remaining TTL as reported by Redis at the last attempt (a hint, not a promise), if known. */
  readonly retryAfterMs: number | undefined;

  constructor(init: { key: string; attempts: number; elapsedMs: number; retryAfterMs?: number | undefined }) {
    super(
      `lock "${init.key}" is held by another owner (${init.attempts} attempt${init.attempts === 1 ? '' : 's'} over ${Math.round(init.elapsedMs)} ms` +
        `${init.retryAfterMs === undefined ? '' : `, holder's TTL ${init.retryAfterMs} ms`})`,
    );
    this.key = init.key;
    this.attempts = init.attempts;
    this.elapsedMs = init.elapsedMs;
    this.retryAfterMs = init.retryAfterMs;
  }
}

export type LockLostReason = 'expired' | 'taken' | 'released';

/** A lease this process held is no longer valid: it expired, was taken over, or could not be extended in time. */
export class LockLostError extends Error {
  readonly code = 'LOCK_LOST' as const;
  override readonly name = 'LockLostError';
  readonly key: string;
  /**
   * `expired`: validity ran out before an extension succeeded; `taken`: Redis says another
   * owner (or nobody) holds it; `released`: this lease was already released.
   */
  readonly reason: LockLostReason;

  constructor(init: { key: string; reason: LockLostReason; cause?: unknown }) {
    super(
      init.reason === 'expired'
        ? `lock "${init.key}" expired before it could be extended`
        : init.reason === 'taken'
          ? `lock "${init.key}" is no longer held by this owner`
          : `lock "${init.key}" was already released by this owner`,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.key = init.key;
    this.reason = init.reason;
  }
}

/** Redis did not answer in time, refused the connection, or answered too slowly for a useful lease. */
export class StoreUnavailableError extends Error {
  readonly code = 'STORE_UNAVAILABLE' as const;
  override readonly name = 'StoreUnavailableError';
  readonly key: string;
  /** Attempts made before giving up (0 for a single extend/release call). */
  readonly attempts: number;

  constructor(init: { key: string; message: string; attempts?: number; cause?: unknown }) {
    super(`lock "${init.key}": ${init.message}`, init.cause === undefined ? undefined : { cause: init.cause });
    this.key = init.key;
    this.attempts = init.attempts ?? 0;
  }
}

/** Options were rejected at construction (or a call's options were invalid). Names the option and the accepted range. */
export class InvalidOptionsError extends RangeError {
  readonly code = 'INVALID_OPTIONS' as const;
  override readonly name = 'InvalidOptionsError';
  readonly option: string;

  constructor(option: string, expected: string, received: unknown) {
    super(`${option} must be ${expected}, got ${describe(received)}`);
    this.option = option;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) return String(value);
  return typeof value;
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

// Guards check the code rather than `instanceof`, so they also work when two
// copies of the package are installed side by side.
export function isLockHeldError(error: unknown): error is LockHeldError {
  return error instanceof Error && hasCode(error, 'LOCK_HELD');
}
export function isLockLostError(error: unknown): error is LockLostError {
  return error instanceof Error && hasCode(error, 'LOCK_LOST');
}
export function isStoreUnavailableError(error: unknown): error is StoreUnavailableError {
  return error instanceof Error && hasCode(error, 'STORE_UNAVAILABLE');
}
export function isInvalidOptionsError(error: unknown): error is InvalidOptionsError {
  return error instanceof Error && hasCode(error, 'INVALID_OPTIONS');
}
