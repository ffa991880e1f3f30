// A held lease: validity bookkeeping, auto-extension and the lost-lock signal.
// Shared by @bulwark/redis-lock (one Redis) and @bulwark/redlock (N masters);
// the backend does the I/O, this class decides when and what it means.
import type { Clock } from './clock.js';
import { LockLostError, StoreUnavailableError, isLockLostError } from './errors.js';
import type { Emitter, LockEvents } from './events.js';
import { schedulerFor, type ScheduledTask, type TaskScheduler } from './scheduler.js';
import { ignore, isDeadlineExceededError, withDeadline } from './timing.js';
import { validUntil as computeValidUntil } from './validity.js';

/** A held lock. Its `signal` aborts (with a LockLostError) when the lock is lost or about to expire unextended. */
export interface Lease extends AsyncDisposable {
  /** The lock name. */
  readonly key: string;
  /**
   * Strictly larger than the token of any earlier lease on this key (see "Guarantees and caveats").
   * Pass it to the resource you protect, which must reject writes carrying a smaller token than it has seen.
   */
  readonly fencingToken: number;
  /** When validity ends, on the lock's clock (ms). Moves forward on every extension. */
  readonly validUntil: number;
  /** Aborts at (or before) `validUntil` unless extended; also on loss (reason: LockLostError) and on release. */
  readonly signal: AbortSignal;
  readonly state: 'held' | 'lost' | 'released';
  /** Successful extensions so far (automatic and manual). */
  readonly extensions: number;
  /** Validity left, in ms (negative once expired). */
  remainingMs(): number;
  /**
   * Re-arms the TTL to `ttlMs` (default: the lock's ttlMs) from now.
   * Throws LockLostError if the lock is no longer ours (the signal aborts too),
   * StoreUnavailableError if Redis did not answer (the lease stays valid until `validUntil`).
   */
  extend(ttlMs?: number, options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Deletes the lock if it is still ours and aborts the signal. Idempotent.
   * Resolves true if our lock was deleted, false if it had already expired or been taken.
   * Throws StoreUnavailableError if Redis did not answer (the lock then expires by TTL).
   */
  release(options?: { signal?: AbortSignal }): Promise<boolean>;
}

/** The I/O a lease needs; each call must settle or be abandoned within `timeoutMs`. */
export interface LeaseBackend {
  /** true: extended; false: the lock is not ours any more. Throws when the store cannot answer. */
  extend(ttlMs: number, timeoutMs: number): Promise<boolean>;
  /** true: our lock was deleted; false: it was not ours. Throws when the store cannot answer. */
  release(timeoutMs: number): Promise<boolean>;
}

/** The per-lock settings a lease reads; a lock's resolved timing satisfies it as is. */
export interface LeaseTiming {
  readonly key: string;
  readonly ttlMs: number;
  readonly driftFactor: number;
  readonly attemptTimeoutMs: number;
  readonly clock: Clock;
  /** false, or extend automatically when `beforeExpiryMs` of validity remain. */
  readonly autoExtend: false | { beforeExpiryMs: number };
  readonly maxExtensions: number;
}

export interface ManagedLeaseOptions {
  /** Shared by every lease of one lock (not copied per lease). */
  timing: LeaseTiming;
  fencingToken: number;
  validUntil: number;
  backend: LeaseBackend;
  events: Emitter<LockEvents>;
  /** Called once when the lease stops being held (lost or released). */
  onSettled?: (lease: ManagedLease) => void;
  /** Wraps a store failure (timeout, connection error) into the package's error. */
  unavailable?: (message: string, cause: unknown) => Error;
}

export class ManagedLease implements Lease {
  readonly key: string;
  readonly fencingToken: number;
  readonly #options: ManagedLeaseOptions;
  readonly #timing: LeaseTiming;
  // Created on first access of `signal`: plain acquire/release never pays for it.
  #controller: AbortController | undefined;
  #abortReason: LockLostError | undefined;
  #validUntil: number;
  #state: 'held' | 'lost' | 'released' = 'held';
  #releaseStarted = false;
  #extensions = 0;
  #autoExtensions = 0;
  #extending = false;
  #nextExtendAt: number;
  #lastExtendSentAt = -Infinity;
  #timer: ScheduledTask | undefined;
  readonly #scheduler: TaskScheduler;
  #lostError: LockLostError | undefined;

  constructor(options: ManagedLeaseOptions) {
    const timing = options.timing;
    this.#options = options;
    this.#timing = timing;
    this.key = timing.key;
    this.fencingToken = options.fencingToken;
    this.#validUntil = options.validUntil;
    this.#scheduler = schedulerFor(timing.clock);
    this.#nextExtendAt = timing.autoExtend ? options.validUntil - timing.autoExtend.beforeExpiryMs : Infinity;
    this.#schedule();
  }

  get validUntil(): number {
    return this.#validUntil;
  }
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#state !== 'held') this.#controller.abort(this.#abortReason ?? releasedError(this.key));
    }
    return this.#controller.signal;
  }
  get state(): 'held' | 'lost' | 'released' {
    return this.#state;
  }
  get extensions(): number {
    return this.#extensions;
  }

  remainingMs(): number {
    return this.#validUntil - this.#timing.clock.now();
  }

  async extend(ttlMs: number = this.#timing.ttlMs, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (!(typeof ttlMs === 'number' && Number.isFinite(ttlMs) && ttlMs >= 1)) {
      throw new RangeError(`ttlMs must be a finite number >= 1, got ${String(ttlMs)}`);
    }
    await this.#extend(ttlMs, false, options.signal);
  }

  async release(options?: { signal?: AbortSignal }): Promise<boolean> {
    if (this.#releaseStarted) return false;
    this.#releaseStarted = true;
    const { attemptTimeoutMs } = this.#timing;
    const { events, backend } = this.#options;
    // Send first: the bookkeeping below then runs while the request is on its way.
    let pending: Promise<boolean>;
    try {
      pending = backend.release(attemptTimeoutMs);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a backend that threw: pass its failure on unchanged
      pending = Promise.reject(error);
    }
    if (this.#state === 'held') {
      this.#state = 'released';
      this.#stopTimer();
      this.#abort(undefined);
      this.#options.onSettled?.(this);
    }
    const signal = options?.signal;
    let deleted: boolean;
    try {
      deleted = await withDeadline(pending, attemptTimeoutMs, signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      const wrapped = this.#unavailable('release failed', error);
      events.emit('releaseFailed', { key: this.key, fencingToken: this.fencingToken, error: wrapped });
      throw wrapped;
    }
    events.emit('released', { key: this.key, fencingToken: this.fencingToken, deleted });
    return deleted;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // Failures were reported as `releaseFailed`; the lock expires by TTL.
    await this.release().catch(ignore);
  }

  async #extend(ttlMs: number, automatic: boolean, signal: AbortSignal | undefined): Promise<void> {
    if (this.#state !== 'held') throw this.#notHeldError();
    const { clock, attemptTimeoutMs, driftFactor } = this.#timing;
    const { backend, events } = this.#options;
    const sentAt = clock.now();
    const timeoutMs = Math.max(1, Math.min(attemptTimeoutMs, this.#validUntil - sentAt));
    let extended: boolean;
    try {
      extended = await withDeadline(backend.extend(ttlMs, timeoutMs), timeoutMs, signal);
    } catch (error) {
      if (signal?.aborted && error === signal.reason) throw error;
      if (this.#state !== 'held') throw this.#notHeldError();
      const wrapped = this.#unavailable('extend failed', error);
      events.emit('extendFailed', { key: this.key, fencingToken: this.fencingToken, error: wrapped });
      throw wrapped;
    }
    if (this.#state !== 'held') throw this.#notHeldError();
    if (!extended) {
      this.#lose('taken');
      throw this.#notHeldError();
    }
    // Concurrent extensions: the one sent last decides the TTL Redis now has.
    if (sentAt >= this.#lastExtendSentAt) {
      this.#lastExtendSentAt = sentAt;
      this.#validUntil = computeValidUntil(sentAt, ttlMs, driftFactor);
      if (this.#timing.autoExtend) this.#nextExtendAt = this.#validUntil - this.#timing.autoExtend.beforeExpiryMs;
    }
    this.#extensions++;
    events.emit('extended', { key: this.key, fencingToken: this.fencingToken, validUntil: this.#validUntil, automatic });
    this.#schedule();
  }

  #canAutoExtend(): boolean {
    return this.#timing.autoExtend !== false && !this.#extending && this.#autoExtensions < this.#timing.maxExtensions;
  }

  #schedule(): void {
    this.#stopTimer();
    if (this.#state !== 'held') return;
    const at = this.#canAutoExtend() ? Math.min(this.#validUntil, this.#nextExtendAt) : this.#validUntil;
    // One shared timer for all leases on this clock: no setTimeout per lease.
    this.#timer = this.#scheduler.schedule(at, this.#onTimer);
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) this.#scheduler.cancel(this.#timer);
    this.#timer = undefined;
  }

  readonly #onTimer = (): void => {
    if (this.#state !== 'held') return;
    const now = this.#timing.clock.now();
    if (now >= this.#validUntil) {
      this.#lose('expired');
      return;
    }
    if (this.#canAutoExtend() && now >= this.#nextExtendAt) {
      void this.#autoExtend();
      return;
    }
    this.#schedule();
  };

  async #autoExtend(): Promise<void> {
    this.#extending = true;
    this.#autoExtensions++;
    this.#schedule(); // keep the expiry timer armed while the extension is in flight
    try {
      await this.#extend(this.#timing.ttlMs, true, undefined);
    } catch (error) {
      if (!isLockLostError(error) && this.#state === 'held') {
        // Store unavailable: try again soon, while validity lasts (the expiry timer still stands).
        this.#autoExtensions--;
        const left = this.#validUntil - this.#timing.clock.now();
        this.#nextExtendAt = this.#timing.clock.now() + Math.max(5, Math.min(this.#timing.ttlMs / 10, left / 3));
      }
    } finally {
      this.#extending = false;
      this.#schedule();
    }
  }

  #lose(reason: 'expired' | 'taken'): void {
    if (this.#state !== 'held') return;
    this.#state = 'lost';
    this.#stopTimer();
    const error = new LockLostError({ key: this.key, reason });
    this.#lostError = error;
    this.#abort(error);
    this.#options.onSettled?.(this);
    this.#options.events.emit('lost', { key: this.key, fencingToken: this.fencingToken, error });
    if (reason === 'expired' && !this.#releaseStarted) {
      // An extension may still land after we gave up: clean up (compare-owner, so harmless).
      this.#options.backend.release(this.#timing.attemptTimeoutMs).catch(ignore);
    }
  }

  /** `reason` undefined means "released": that error is only built if someone holds the signal. */
  #abort(reason: LockLostError | undefined): void {
    this.#abortReason = reason;
    if (this.#controller) this.#controller.abort(reason ?? releasedError(this.key));
  }

  #notHeldError(): LockLostError {
    return this.#lostError ?? new LockLostError({ key: this.key, reason: this.#state === 'released' ? 'released' : 'taken' });
  }

  #unavailable(message: string, cause: unknown): Error {
    if (cause instanceof Error && typeof (cause as { code?: unknown }).code === 'string' && !isDeadlineExceededError(cause)) {
      // Already one of our typed errors (e.g. redlock's QuorumUnavailableError).
      const code = (cause as unknown as { code: string }).code;
      if (code === 'STORE_UNAVAILABLE' || code === 'QUORUM_UNAVAILABLE') return cause;
    }
    const detail = cause instanceof Error ? cause.message : String(cause);
    return this.#options.unavailable?.(`${message}: ${detail}`, cause) ?? new StoreUnavailableError({ key: this.key, message: `${message}: ${detail}`, cause });
  }
}

/** The abort reason of a released lease. No stack trace: it marks a normal end, and releases are hot. */
function releasedError(key: string): LockLostError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new LockLostError({ key, reason: 'released' });
  } finally {
    Error.stackTraceLimit = limit;
  }
}
