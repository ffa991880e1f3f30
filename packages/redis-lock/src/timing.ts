// Deadlines and abortable sleeps. Timers are unref'd so they never keep the process alive.

/** Raised (internally) when an operation did not settle before its deadline. */
export class DeadlineExceededError extends Error {
  readonly code = 'DEADLINE_EXCEEDED' as const;
  override readonly name = 'DeadlineExceededError';
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${Math.round(timeoutMs)} ms`);
  }
}

export function isDeadlineExceededError(error: unknown): error is DeadlineExceededError {
  return error instanceof DeadlineExceededError;
}

/** One call waiting on its deadline; settles its promise exactly once. */
class Waiter<T> {
  expiresAtTick = 0;
  settled = false;
  onAbort: (() => void) | undefined = undefined;
  constructor(
    readonly resolve: (value: T) => void,
    readonly reject: (reason: unknown) => void,
    readonly signal: AbortSignal | undefined,
  ) {}

  /** Marks the waiter settled; false if it already was. */
  finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    if (this.onAbort !== undefined) this.signal!.removeEventListener('abort', this.onAbort);
    return true;
  }

  expire(error: DeadlineExceededError): void {
    if (this.finish()) this.reject(error);
  }
}

// How many ticks a deadline period is cut into: deadlines fire at most 1/16 late.
const TICKS_PER_PERIOD = 16;

/**
 * The deadlines of every call with one timeout value, in arrival order (so expiry order too),
 * driven by one unref'd tick timer while calls are pending: no timer per call. A waiter
 * expires on the first tick at least `timeoutMs` after it was added, so never early and at
 * most one tick (`timeoutMs / 16`) late. Time is counted in ticks of the timer itself, so no
 * clock is read and fake timers drive it like real ones.
 */
class DeadlineQueue {
  readonly #key: number;
  readonly #periodMs: number;
  readonly #ticksToExpire: number;
  #tick = 0;
  #idleTicks = 0;
  #timer: NodeJS.Timeout | undefined;
  #waiters: Waiter<unknown>[] = [];
  #head = 0;

  constructor(key: number) {
    this.#key = key;
    this.#periodMs = Math.max(1, Math.ceil(key / TICKS_PER_PERIOD));
    // +1: a waiter added just before a tick must still wait `key` ms in full.
    this.#ticksToExpire = Math.ceil(key / this.#periodMs) + 1;
  }

  add(waiter: Waiter<unknown>): void {
    this.#dropSettledHead();
    waiter.expiresAtTick = this.#tick + this.#ticksToExpire;
    this.#waiters.push(waiter);
    this.#idleTicks = 0;
    if (this.#timer === undefined) this.#arm();
  }

  #arm(): void {
    this.#timer = setTimeout(this.#onTick, this.#periodMs);
    this.#timer.unref();
  }

  readonly #onTick = (): void => {
    this.#timer = undefined;
    this.#tick++;
    const waiters = this.#waiters;
    while (this.#head < waiters.length) {
      const waiter = waiters[this.#head]!;
      if (!waiter.settled) {
        if (waiter.expiresAtTick > this.#tick) break;
        waiter.expire(new DeadlineExceededError(this.#key));
      }
      this.#head++;
    }
    this.#dropSettledHead();
    if (this.#head === waiters.length && ++this.#idleTicks > this.#ticksToExpire) {
      // Idle for a whole period: stop ticking and forget this queue until it is needed again.
      if (queues.get(this.#key) === this) queues.delete(this.#key);
      return;
    }
    this.#arm();
  };

  #dropSettledHead(): void {
    const waiters = this.#waiters;
    while (this.#head < waiters.length && waiters[this.#head]!.settled) this.#head++;
    if (this.#head === waiters.length) {
      waiters.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= waiters.length) {
      this.#waiters = waiters.slice(this.#head);
      this.#head = 0;
    }
  }
}

const queues = new Map<number, DeadlineQueue>();

function deadlineQueue(timeoutMs: number): DeadlineQueue {
  const key = timeoutMs >= 1 ? Math.min(2 ** 31 - 1, Math.ceil(timeoutMs)) : 1;
  let queue = queues.get(key);
  if (queue === undefined) queues.set(key, (queue = new DeadlineQueue(key)));
  return queue;
}

/**
 * Settles like `promise`, or rejects with DeadlineExceededError once `timeoutMs` have passed
 * (never earlier, at most `timeoutMs / 16` later), or with `signal.reason` when the signal
 * aborts. The original promise keeps a rejection handler, so a late failure is never an
 * unhandled rejection. Deadlines with the same timeout share one timer.
 */
export function withDeadline<T>(promise: Promise<T>, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  if (signal?.aborted) {
    promise.catch(ignore);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const waiter = new Waiter<T>(resolve, reject, signal);
    if (signal !== undefined) {
      waiter.onAbort = () => {
        if (waiter.finish()) reject(signal.reason as Error);
      };
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    }
    deadlineQueue(timeoutMs).add(waiter as Waiter<unknown>);
    promise.then(
      (value) => {
        if (waiter.finish()) resolve(value);
      },
      (error: unknown) => {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- pass the original failure through unchanged
        if (waiter.finish()) reject(error);
      },
    );
  });
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function ignore(): void {
  // deliberately empty: used where a failure has already been accounted for
}
