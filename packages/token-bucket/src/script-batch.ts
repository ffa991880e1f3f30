// Coalescing of concurrent decisions into one script call, shared by the Redis
// limiters of this package and @bulwark/sliding-window. Every `tryTake` made
// in the same tick against one limiter (on a single-node ioredis client) goes
// out as ONE EVALSHA whose KEYS are the callers' keys, in call order: the
// script decides them one after the other, each exactly as its single-call
// script would (same state, same rules, Redis TIME read once for the batch,
// which runs atomically), and returns one verdict per decision in the same
// order. So a decision still costs exactly one round trip, but the client
// writes one command instead of N (on loopback most of the client's CPU went
// into one socket write per call) and Redis runs one script instead of N.
//
// Failures stay per decision: the scripts use redis.pcall, so a key holding
// the wrong type fails only its own decision (slot marked -1 with the error
// message); a connection failure or timeout fails every decision of the batch
// through the caller's store-failure policy. A caller that aborts while
// queued is never sent; one that aborts after the flush rejects at once (its
// decision may still have been applied, exactly as with a single call).
import type { Redis } from 'ioredis';
import type { DeadlineQueue } from './store.js';
import { parseTakeArguments } from './token-bucket.js';
import type { RedisCallOptions } from './types.js';

/** Most decisions in one script call (bounds the time one script holds Redis). */
export const MAX_BATCH = 128;

/** A decision a batch script reported as failed (e.g. WRONGTYPE on its key); the other decisions are unaffected. */
export class ScriptSlotError extends Error {
  override readonly name = 'ReplyError';
}

export interface ScriptBatcherOptions<R> {
  /** A single-node ioredis client (Cluster clients keep one single-key script per call). */
  client: Redis;
  /** A command defined on `client` with `defineCommand(name, { lua })` and no fixed numberOfKeys. */
  command: string;
  /** Prepended to every key. */
  prefix: string;
  /** ARGV shared by every decision of a batch; the script finds each decision's `n` after them. */
  args: readonly string[];
  /** How many values the reply holds before the first decision's slot (e.g. 1 for a shared Redis time). */
  headerWidth: number;
  /** Values per decision; a slot whose first value is -1 carries an error message as its second. */
  slotWidth: number;
  /** Bounds how long a batch may wait for Redis. */
  deadlines: DeadlineQueue;
  /** The caller's verdict from the slot at `offset`. */
  decode(reply: readonly unknown[], offset: number): R;
  /** Decides one caller whose store call failed (the store-failure policy); may throw or reject. */
  onStoreError(error: Error, key: string, n: number): R | Promise<R>;
  /** Most decisions per script call. Default MAX_BATCH. */
  maxBatch?: number;
  /** Throws the limiter's typed error for a count it cannot grant (used by `submitTake`). */
  checkCount?: (count: number) => void;
}

interface Request<R> {
  key: string;
  n: number;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  resolve: (value: R | PromiseLike<R>) => void;
  reject: (reason: unknown) => void;
  settled: boolean;
}

type ScriptCommand = (args: (string | number)[]) => Promise<unknown>;

/**
 * Collects the decisions asked for in one tick and sends them as one script
 * call (see the file comment). `submit` resolves with the caller's verdict,
 * or with what the store-failure policy decides when the store fails.
 */
export class ScriptBatcher<R> {
  readonly #options: ScriptBatcherOptions<R>;
  readonly #maxBatch: number;
  #queue: Request<R>[] = [];
  #scheduled = false;
  readonly #flushScheduled = (): void => {
    this.#scheduled = false;
    this.#flush();
  };

  constructor(options: ScriptBatcherOptions<R>) {
    this.#options = options;
    this.#maxBatch = options.maxBatch ?? MAX_BATCH;
  }

  /**
   * A limiter's `tryTake(key?, n?, options?)`, coalesced: parses the arguments, checks
   * the count and the signal, and queues the decision. Bad input or an aborted signal
   * rejects (never throws synchronously), as the single-call path does.
   */
  submitTake(keyOrN: string | number | undefined, nOrOptions: number | RedisCallOptions | undefined, maybeOptions: RedisCallOptions | undefined): Promise<R> {
    try {
      const { key, count, options } = parseTakeArguments(keyOrN, nOrOptions, maybeOptions);
      this.#options.checkCount?.(count);
      const signal = options.signal;
      signal?.throwIfAborted();
      return this.submit(key, count, signal);
    } catch (error) {
      // Re-rejects exactly what was thrown above (our errors or the caller's abort reason).
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** Queues one decision for `key` (unprefixed); sent with the others of this tick. */
  submit(key: string, n: number, signal: AbortSignal | undefined): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const request: Request<R> = { key, n, signal, onAbort: undefined, resolve, reject, settled: false };
      if (signal !== undefined) {
        request.onAbort = () => {
          if (request.settled) return;
          request.settled = true;
          // The caller's abort reason, exactly as a single call rejects with it.
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          reject(signal.reason);
        };
        signal.addEventListener('abort', request.onAbort, { once: true });
      }
      const queue = this.#queue;
      queue.push(request);
      if (queue.length >= this.#maxBatch) {
        this.#flush();
      } else if (!this.#scheduled) {
        this.#scheduled = true;
        // After the current microtasks: every caller resumed by the same reply chunk joins this batch.
        process.nextTick(this.#flushScheduled);
      }
    });
  }

  #flush(): void {
    let batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    // Callers that aborted while queued were rejected already: never send them.
    for (const request of batch) {
      if (request.settled) {
        batch = batch.filter((r) => !r.settled);
        break;
      }
    }
    const size = batch.length;
    if (size === 0) return;
    const { client, command, prefix, args, deadlines } = this.#options;
    const argv: (string | number)[] = new Array<string | number>(1 + 2 * size + args.length);
    argv[0] = size;
    for (let i = 0; i < size; i++) {
      const request = batch[i]!;
      argv[1 + i] = prefix + request.key;
      argv[1 + size + args.length + i] = request.n === 1 ? '1' : String(request.n);
    }
    for (let i = 0; i < args.length; i++) argv[1 + size + i] = args[i]!;
    const pending = deadlines.add((error) => this.#failAll(batch, error));
    let reply: Promise<unknown>;
    try {
      reply = (client as unknown as Record<string, ScriptCommand>)[command]!.call(client, argv);
    } catch (error) {
      deadlines.settle(pending);
      this.#failAll(batch, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    reply.then(
      (value) => {
        if (pending.done) return;
        deadlines.settle(pending);
        this.#deliver(batch, value);
      },
      (error: unknown) => {
        if (pending.done) return;
        deadlines.settle(pending);
        this.#failAll(batch, error instanceof Error ? error : new Error(String(error)));
      },
    );
  }

  #deliver(batch: Request<R>[], value: unknown): void {
    const options = this.#options;
    const { headerWidth, slotWidth } = options;
    if (!Array.isArray(value) || value.length !== headerWidth + slotWidth * batch.length) {
      this.#failAll(batch, new TypeError('unexpected reply from the rate-limit script'));
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const request = batch[i]!;
      if (request.settled) continue;
      const offset = headerWidth + i * slotWidth;
      if (value[offset] === -1) {
        this.#fail(request, new ScriptSlotError(String(value[offset + 1])));
        continue;
      }
      let verdict: R;
      try {
        verdict = options.decode(value, offset);
      } catch (error) {
        this.#fail(request, error instanceof Error ? error : new Error(String(error)));
        continue;
      }
      this.#finish(request);
      request.resolve(verdict);
    }
  }

  #failAll(batch: Request<R>[], error: Error): void {
    for (const request of batch) if (!request.settled) this.#fail(request, error);
  }

  #fail(request: Request<R>, error: Error): void {
    this.#finish(request);
    let decision: R | Promise<R>;
    try {
      decision = this.#options.onStoreError(error, request.key, request.n);
    } catch (policyError) {
      request.reject(policyError);
      return;
    }
    request.resolve(decision);
  }

  #finish(request: Request<R>): void {
    request.settled = true;
    if (request.onAbort !== undefined) request.signal!.removeEventListener('abort', request.onAbort);
  }
}

/** Whether `client` is a single-node ioredis client (not a Cluster), the only kind calls are coalesced on. */
export function isSingleNodeClient(client: unknown): client is Redis {
  return (client as { isCluster?: unknown }).isCluster !== true;
}
