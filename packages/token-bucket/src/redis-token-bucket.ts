import type { Cluster, Redis } from 'ioredis';
import { bucketConfig, checkCount, type BucketConfig, type BucketOptions } from './bucket.js';
import { InvalidArgumentError, LimiterClosedError, WaitExceedsDeadlineError } from './errors.js';
import { rateLimitResult } from './result.js';
import { TOKEN_BUCKET_BATCH_LUA, TOKEN_BUCKET_LUA, TOKEN_BUCKET_TRY_LUA } from './redis-script.js';
import { ScriptBatcher, isSingleNodeClient } from './script-batch.js';
import {
  DeadlineQueue,
  asStoreError,
  boundedCall,
  decideOnStoreError,
  RedisLimiterLifecycle,
  validateRedisClient,
  validateStorePolicy,
  validateStoreTimeout,
  type StoreErrorPolicy,
} from './store.js';
import { parseTakeArguments } from './token-bucket.js';
import type { Clock, RateLimitResult, RedisCallOptions, StoreErrorEvent, TakeOptions, TakeResult } from './types.js';

export interface RedisTokenBucketOptions extends Partial<BucketOptions> {
  /** An ioredis client or Cluster. Set `enableOfflineQueue: false` (or a `commandTimeout`) so calls fail fast while Redis is down. */
  client: Redis | Cluster;
  /**
   * Several policies checked and charged all-or-nothing in one script, e.g.
   * `[{ capacity: 10, refillRate: 10 }, { capacity: 1000, refillRate: 1000, intervalMs: 3_600_000 }]`.
   * Give either this or the single-policy fields (capacity, refillRate, …).
   */
  policies?: readonly BucketOptions[];
  /** Key prefix. Default `'bulwark:tb:'`. */
  prefix?: string;
  /** What a call decides when Redis fails or times out. Default `'throw'` (StoreUnavailableError). */
  onStoreError?: StoreErrorPolicy;
  /** How long one call waits for Redis before it counts as a store error. Default 1000 ms. */
  timeoutMs?: number;
  /** Client-side time, used only to report `waitedMs`; decisions use Redis `TIME`. */
  clock?: Clock;
  /**
   * Single-node client and a single policy: send the `tryTake`s made in the same tick as
   * one script call over all their keys (each decision still exact, in call order, one
   * round trip). Default `true`; set `false` behind a proxy that refuses multi-key scripts.
   * Cluster clients always send one single-key script per call.
   */
  coalesce?: boolean;
}

/** A reservation held in Redis; `cancel()` gives the tokens back unless it already came due. */
export interface RedisReservation {
  readonly delayMs: number;
  cancel(options?: RedisCallOptions): Promise<void>;
}

export interface RedisTokenBucketEvents {
  /** Redis failed or timed out; `onStoreError` decided the call. */
  storeError: StoreErrorEvent;
}

type ScriptCommand = (key: string, ...args: string[]) => Promise<unknown>;

const COMMAND_NAME = 'bulwarkTokenBucketV2';
const TRY_COMMAND_NAME = 'bulwarkTokenBucketTryV2';
const BATCH_COMMAND_NAME = 'bulwarkTokenBucketBatchV1';
const performanceClock: Clock = { now: () => performance.now() };

/**
 * A token bucket per key kept in Redis: each decision is one EVALSHA (falling
 * back to EVAL on NOSCRIPT) of a script that reads Redis's clock, so client
 * clocks cannot over-admit, and sets a PEXPIRE so idle keys vanish.
 */
export class RedisTokenBucket {
  readonly policies: readonly BucketConfig[];
  readonly #client: Redis | Cluster;
  readonly #prefix: string;
  readonly #onStoreError: StoreErrorPolicy;
  readonly #deadlines: DeadlineQueue;
  readonly #clock: Clock;
  readonly #policyArgs: string[];
  readonly #limit: number;
  /** Arguments of the single-policy fast script (undefined with several policies). */
  readonly #tryArgs: string[] | undefined;
  /** Coalesces single-policy `tryTake`s per tick (single-node clients; undefined otherwise). */
  readonly #batcher: ScriptBatcher<RateLimitResult> | undefined;
  readonly #lifecycle = new RedisLimiterLifecycle();

  constructor(options: RedisTokenBucketOptions) {
    if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('options must be an object');
    this.#client = validateRedisClient(options.client);
    const policies: readonly BucketOptions[] | undefined = options.policies;
    if (policies !== undefined) {
      if (!Array.isArray(policies) || policies.length === 0) {
        throw new InvalidArgumentError('policies must be a non-empty array');
      }
      if (options.capacity !== undefined || options.refillRate !== undefined) {
        throw new InvalidArgumentError('give either policies or capacity/refillRate, not both');
      }
      this.policies = policies.map((policy: BucketOptions, i: number) => bucketConfig(policy, `policies[${i}].`));
    } else {
      const { capacity, refillRate, intervalMs, initialTokens } = options;
      this.policies = [
        bucketConfig({
          capacity: capacity as number,
          refillRate: refillRate as number,
          ...(intervalMs === undefined ? {} : { intervalMs }),
          ...(initialTokens === undefined ? {} : { initialTokens }),
        }),
      ];
    }
    this.#prefix = options.prefix ?? 'bulwark:tb:';
    if (typeof this.#prefix !== 'string') throw new InvalidArgumentError('prefix must be a string');
    this.#onStoreError = validateStorePolicy(options.onStoreError ?? 'throw');
    this.#deadlines = new DeadlineQueue(validateStoreTimeout(options.timeoutMs));
    this.#clock = options.clock ?? performanceClock;
    this.#policyArgs = [String(this.policies.length)];
    for (const p of this.policies) this.#policyArgs.push(String(p.capacity), String(p.msPerToken), String(p.initialTokens));
    this.#limit = Math.min(...this.policies.map((p) => p.capacity));
    this.#client.defineCommand(COMMAND_NAME, { numberOfKeys: 1, lua: TOKEN_BUCKET_LUA });
    if (this.policies.length === 1) {
      this.#client.defineCommand(TRY_COMMAND_NAME, { numberOfKeys: 1, lua: TOKEN_BUCKET_TRY_LUA });
      const policy = this.policies[0]!;
      // The try script works in whole microseconds: it takes µs per token.
      this.#tryArgs = [
        String(policy.capacity),
        String(policy.msPerToken * 1000),
        String(policy.initialTokens),
        String(Math.ceil(policy.fillMs) + 1000),
      ];
      const coalesce = options.coalesce ?? true;
      if (typeof coalesce !== 'boolean') throw new InvalidArgumentError('coalesce must be a boolean');
      if (coalesce && isSingleNodeClient(this.#client)) {
        this.#client.defineCommand(BATCH_COMMAND_NAME, { lua: TOKEN_BUCKET_BATCH_LUA });
        const limit = this.#limit;
        this.#batcher = new ScriptBatcher<RateLimitResult>({
          client: this.#client,
          command: BATCH_COMMAND_NAME,
          prefix: this.#prefix,
          args: this.#tryArgs,
          headerWidth: 0,
          slotWidth: 4,
          deadlines: this.#deadlines,
          checkCount: (count) => this.#checkCount(count),
          // Integers: allowed, remaining, retryAfter µs, reset µs.
          decode: (reply, offset) => {
            const allowed = reply[offset] === 1;
            return rateLimitResult(
              allowed,
              reply[offset + 1] as number,
              allowed ? 0 : (reply[offset + 2] as number) / 1000,
              (reply[offset + 3] as number) / 1000,
              limit,
            );
          },
          onStoreError: (error, key, n) => {
            this.#lifecycle.emitStoreError(error, key);
            return decideOnStoreError(this.#onStoreError, error, key, n, limit);
          },
        });
      }
    } else if (options.coalesce !== undefined && typeof options.coalesce !== 'boolean') {
      throw new InvalidArgumentError('coalesce must be a boolean');
    }
  }

  /** Takes `n` tokens from every policy if all have them; otherwise takes nothing. One round trip. */
  tryTake(n?: number, options?: RedisCallOptions): Promise<RateLimitResult>;
  tryTake(key: string, n?: number, options?: RedisCallOptions): Promise<RateLimitResult>;
  tryTake(keyOrN?: string | number, nOrOptions?: number | RedisCallOptions, maybeOptions?: RedisCallOptions): Promise<RateLimitResult> {
    const batcher = this.#batcher;
    if (batcher === undefined) return this.#tryTakeOne(keyOrN, nOrOptions, maybeOptions);
    return batcher.submitTake(keyOrN, nOrOptions, maybeOptions);
  }

  /** One script call for this decision alone (several policies, a Cluster client, or `coalesce: false`). */
  async #tryTakeOne(
    keyOrN: string | number | undefined,
    nOrOptions: number | RedisCallOptions | undefined,
    maybeOptions: RedisCallOptions | undefined,
  ): Promise<RateLimitResult> {
    const { key, count, options } = parseTakeArguments(keyOrN, nOrOptions, maybeOptions);
    this.#checkCount(count);
    const signal = options.signal;
    signal?.throwIfAborted();
    const tryArgs = this.#tryArgs;
    try {
      if (tryArgs === undefined) return this.#result(await this.#run(key, ['t', String(count), '0'], signal));
      // Single policy: the straight-line script, its arguments built once in the constructor.
      const command = (this.#client as unknown as Record<string, ScriptCommand>)[TRY_COMMAND_NAME]!;
      const pending = command.call(this.#client, this.#prefix + key, count === 1 ? '1' : String(count), tryArgs[0]!, tryArgs[1]!, tryArgs[2]!, tryArgs[3]!);
      const reply = await boundedCall(pending, this.#deadlines, signal);
      if (!Array.isArray(reply)) throw new TypeError('unexpected reply from the token-bucket script');
      // Integers: allowed, remaining, retryAfter µs, reset µs.
      const allowed = reply[0] === 1;
      return rateLimitResult(allowed, reply[1] as number, allowed ? 0 : (reply[2] as number) / 1000, (reply[3] as number) / 1000, this.#limit);
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      this.#lifecycle.emitStoreError(error, key);
      return decideOnStoreError(this.#onStoreError, error, key, count, this.#limit);
    }
  }

  /**
   * Takes `n` tokens now, going into debt if needed, unless the delay would
   * exceed `maxWaitMs` (then rejects with WaitExceedsDeadlineError, nothing taken).
   * On a store error: `'allow'` → delay 0, a fallback → its decision; otherwise StoreUnavailableError.
   */
  reserve(n?: number, options?: TakeOptions): Promise<RedisReservation>;
  reserve(key: string, n?: number, options?: TakeOptions): Promise<RedisReservation>;
  async reserve(keyOrN?: string | number, nOrOptions?: number | TakeOptions, maybeOptions?: TakeOptions): Promise<RedisReservation> {
    const { key, count, options } = parseTakeArguments(keyOrN, nOrOptions, maybeOptions);
    this.#checkCount(count);
    const maxWaitMs = options.maxWaitMs ?? Number.POSITIVE_INFINITY;
    if (!(maxWaitMs >= 0)) throw new InvalidArgumentError(`maxWaitMs must be a number >= 0, got ${String(maxWaitMs)}`);
    if (this.#lifecycle.closed) throw new LimiterClosedError();
    options.signal?.throwIfAborted();
    let reply: string[];
    try {
      reply = await this.#run(key, ['r', String(count), Number.isFinite(maxWaitMs) ? String(maxWaitMs) : 'inf'], options.signal);
    } catch (error) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      this.#lifecycle.emitStoreError(error, key);
      const decision = await decideOnStoreError(this.#onStoreError, error, key, count, this.#limit);
      if (!decision.allowed) throw asStoreError(error);
      return { delayMs: 0, cancel: () => Promise.resolve() };
    }
    const delayMs = Number(reply[2]);
    if (reply[0] !== '1') throw new WaitExceedsDeadlineError(delayMs, maxWaitMs);
    const actAt = Number(reply[4]) + delayMs;
    const reserved = reply.slice(5);
    let cancelled = false;
    return {
      delayMs,
      cancel: async (cancelOptions?: RedisCallOptions) => {
        if (cancelled) return;
        cancelled = true;
        await this.#run(key, ['c', String(count), String(actAt)], cancelOptions?.signal, reserved);
      },
    };
  }

  /**
   * Reserves (FIFO across all processes, by Redis time) and waits until the
   * tokens are due. Rejects at once with WaitExceedsDeadlineError when the wait
   * would exceed `maxWaitMs`; on abort or close the tokens are given back.
   */
  take(n?: number, options?: TakeOptions): Promise<TakeResult>;
  take(key: string, n?: number, options?: TakeOptions): Promise<TakeResult>;
  async take(keyOrN?: string | number, nOrOptions?: number | TakeOptions, maybeOptions?: TakeOptions): Promise<TakeResult> {
    const { key, count, options } = parseTakeArguments(keyOrN, nOrOptions, maybeOptions);
    const startedAt = this.#clock.now();
    const reservation = await this.reserve(key, count, options);
    if (reservation.delayMs <= 0) return { waitedMs: this.#clock.now() - startedAt };
    try {
      await this.#lifecycle.sleep(reservation.delayMs, options.signal);
    } catch (error) {
      // Best effort: if Redis is unreachable the debt simply expires with the key.
      await reservation.cancel().catch((cancelError: unknown) => this.#lifecycle.emitStoreError(cancelError, key));
      throw error;
    }
    return { waitedMs: this.#clock.now() - startedAt };
  }

  on<E extends keyof RedisTokenBucketEvents>(event: E, listener: (payload: RedisTokenBucketEvents[E]) => void): () => void {
    return this.#lifecycle.on(event, listener);
  }

  /** Rejects waiting `take`s with LimiterClosedError (their tokens are given back). Does not close the client. */
  async close(): Promise<void> {
    await this.#lifecycle.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  toJSON(): { prefix: string; policies: readonly BucketConfig[]; waiters: number } {
    return { prefix: this.#prefix, policies: this.policies, waiters: this.#lifecycle.waiting };
  }

  #checkCount(count: number): void {
    for (const policy of this.policies) checkCount(policy, count);
  }

  #run(key: string, head: string[], signal: AbortSignal | undefined, tail: string[] = []): Promise<string[]> {
    return this.#call(COMMAND_NAME, [this.#prefix + key, ...head, ...this.#policyArgs, ...tail], signal);
  }

  async #call(name: string, args: string[], signal: AbortSignal | undefined): Promise<string[]> {
    // defineCommand (constructor) added this method: EVALSHA, falling back to EVAL on NOSCRIPT.
    const command = (this.#client as unknown as Record<string, ScriptCommand>)[name]!;
    const [key, ...rest] = args as [string, ...string[]];
    const reply = await boundedCall(command.call(this.#client, key, ...rest), this.#deadlines, signal);
    if (!Array.isArray(reply)) throw new TypeError('unexpected reply from the token-bucket script');
    return reply.map((v) => String(v));
  }

  #result(reply: string[]): RateLimitResult {
    const allowed = reply[0] === '1';
    return rateLimitResult(allowed, Number(reply[1]), allowed ? 0 : Number(reply[2]), Number(reply[3]), this.#limit);
  }

}
